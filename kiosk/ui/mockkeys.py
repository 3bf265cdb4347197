"""Development only: keys 1..n press the n mock GPIO buttons (``GPIOZERO_PIN_FACTORY=mock``, the demo).

Keys need the kiosk's window; without a display, ``hardware.devpress``'s pipe presses the buttons.

On real pins this does nothing, so a keyboard left on a shop's kiosk cannot press a button.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


def bind_mock_keys(window, button_pins: list[int]) -> bool:
    """Bind keys ``1``..``n`` on the Kivy ``window`` to presses of the mock buttons; True when bound."""
    from hardware.gpio import mock_factory_in_use, mock_press

    factory = mock_factory_in_use()
    if factory is None or not button_pins:
        return False

    def on_key_down(_window, _key, _scancode, codepoint, _modifiers):
        if codepoint and codepoint.isdigit() and 1 <= int(codepoint) <= len(button_pins):
            pin = button_pins[int(codepoint) - 1]
            # gpiozero's callbacks run on their own thread, as on a Pi; never block Kivy's loop here.
            threading.Thread(target=mock_press, args=(factory, pin, 0.05), daemon=True).start()
            return True
        return False

    window.bind(on_key_down=on_key_down)
    log.info("development: keys 1-%d press the mock buttons on pins %s", len(button_pins), button_pins)
    return True
