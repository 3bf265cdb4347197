"""Development only: keys 1..n press the n buttons of a panel on gpiozero's mock pins
(``GPIOZERO_PIN_FACTORY=mock``, as the demo runs it).

Keys need the kiosk's window; without a display, ``hardware.devpress``'s pipe presses the buttons.
The app binds the keys only when the panel's pins are mock pins, so a keyboard left on a shop's kiosk
cannot press a button (``SmileyPanel.press`` refuses real pins too).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Seconds a key holds its button down.
HOLD_S = 0.05


def bind_mock_keys(window, panel: Callable[[], object], count: int) -> Callable:
    """Bind keys ``1``..``count`` on the Kivy ``window`` to ``panel().press(index, HOLD_S)`` (the panel
    as it is at the key press: it may be re-made for a new question); returns the handler, for unbinding."""

    def on_key_down(_window, _key, _scancode, codepoint, _modifiers):
        if not (codepoint and codepoint.isdigit() and 1 <= int(codepoint) <= count):
            return False
        current = panel()
        if current is not None:
            # gpiozero's callbacks run on their own thread, as on a Pi; never block Kivy's loop here.
            threading.Thread(target=current.press, args=(int(codepoint) - 1, HOLD_S), daemon=True).start()
        return True

    window.bind(on_key_down=on_key_down)
    log.info("development: keys 1-%d press the mock buttons", count)
    return on_key_down
