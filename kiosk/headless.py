"""The buttons-only kiosk (``hymy kiosk --no-screen``): GPIO buttons and LEDs, no Kivy at all.

The same kiosk as the touchscreen's (``kiosk.assembly.KioskCore``: store, recorder, cached store
config, staff lamp with the local alert, the button panel), without a screen. The main loop wakes
every ``TICK_S`` seconds to ping the systemd watchdog and run the kiosk's duties (opening hours ->
LEDs, a new scale -> the panel re-mapped, presses held while the disk was full -> the store).
"""

from __future__ import annotations

import logging
import signal
import threading

from hymy import notify
from hymy.errors import HardwareError
from kiosk.assembly import KioskCore

log = logging.getLogger(__name__)

#: Main-loop period, seconds.
TICK_S = 1.0


def run(config, *, pin_factory=None, stop_event: threading.Event | None = None) -> int:
    """Run until SIGTERM/SIGINT (or ``stop_event`` is set); return the exit code.

    ``config``: a ``kiosk.config.DeviceConfig``. Returns 1 when there are no usable buttons (a
    buttons-only kiosk without buttons cannot record anything: the log line says why), 0 otherwise.
    A pin map that does not fit the question's scale is logged and the kiosk waits for a store
    config that fits (the sync agent may bring one) instead of exiting.
    """
    if not config.pins.buttons:
        log.error("a buttons-only kiosk needs buttons: pins.buttons is empty in %s",
                  config.source or "the device config")
        return 1
    stop = stop_event or threading.Event()
    core = KioskCore(config, pin_factory=pin_factory)
    restore = _on_signals(stop)
    try:
        core.open()
        try:
            core.open_panel()
        except HardwareError as exc:
            log.error("GPIO buttons unavailable: %s; a buttons-only kiosk cannot record without them, "
                      "stopping (systemd starts it again)", exc)
            return 1
        notify.ready("buttons-only kiosk: recording GPIO presses")
        log.info("buttons-only kiosk running: %d buttons, question scale %d", len(config.pins.buttons),
                 core.store_config().question.scale)
        watchdog = notify.Watchdog()
        while True:
            watchdog.kick()
            core.tick()
            if stop.wait(TICK_S):
                break
        return 0
    finally:
        notify.stopping()
        restore()
        core.close()


def _on_signals(stop: threading.Event):
    """SIGTERM/SIGINT set ``stop`` (main thread only); returns a function restoring the old handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    for s in old:
        signal.signal(s, lambda *_: stop.set())

    def restore() -> None:
        for s, h in old.items():
            signal.signal(s, h)

    return restore
