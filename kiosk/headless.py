"""The buttons-only kiosk (``hymy kiosk --no-screen``): GPIO buttons and LEDs, no Kivy at all.

The same capture core as the touchscreen: Store + Recorder + the cached store config + SmileyPanel,
plus the local staff alert (``kiosk.staffalert.LocalAlertMonitor``) when a lamp is wired. The main
loop wakes every ``TICK_S`` seconds to ping the systemd watchdog, pick up a new store config (opening
hours -> LEDs, a new scale -> the panel is rebuilt), and write presses held while the disk was full.
"""

from __future__ import annotations

import logging
import signal
import threading

from hardware.panel import open_panel
from hardware.staffalert import open_staff_alert
from hymy import notify
from hymy.errors import ConfigError, HardwareError
from hymy.hours import is_open

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
    from kiosk.capture import Recorder
    from kiosk.clock import SystemClock
    from kiosk.staffalert import LocalAlertMonitor
    from kiosk.store import open_store
    from kiosk.storeconfig import StoreConfigCache

    if not config.pins.buttons:
        log.error("a buttons-only kiosk needs buttons: pins.buttons is empty in %s",
                  config.source or "the device config")
        return 1
    stop = stop_event or threading.Event()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(config.store_path)
    cache = StoreConfigCache(config.store_config_path)
    clock = SystemClock.for_config(config.device)
    lamp = open_staff_alert(config, pin_factory=pin_factory)
    monitor = LocalAlertMonitor(store, cache, lamp, clock=clock)
    recorder = Recorder(store, cache, clock, on_recorded=monitor.on_recorded)
    scale = cache().question.scale
    panel = None
    pipe = None
    restore = _on_signals(stop)
    try:
        try:
            panel = open_panel(config, recorder, scale, pin_factory=pin_factory, hours_check_s=None)
        except ConfigError as exc:  # the pin map does not fit this question: wait for one that fits
            log.error("%s; the buttons record nothing until the pin map fits the question", exc)
            panel = _Idle(scale)
        except HardwareError as exc:
            log.error("GPIO buttons unavailable: %s; a buttons-only kiosk cannot record without them, "
                      "stopping (systemd starts it again)", exc)
            return 1
        from hardware.devpress import open_press_pipe  # development: mock pins pressed from another process

        pipe = open_press_pipe(config.data_dir, getattr(panel, "factory", None), lambda: panel)
        monitor.start()
        notify.ready("buttons-only kiosk: recording GPIO presses")
        log.info("buttons-only kiosk running: %d buttons, question scale %d", len(config.pins.buttons), scale)
        watchdog = notify.Watchdog()
        while True:
            watchdog.kick()
            cfg = cache()
            if cfg.question.scale != panel.scale:
                panel = _rebuild(panel, config, recorder, cfg.question.scale, pin_factory)
            panel.set_open(is_open(cfg.opening_hours, cfg.timezone, clock().wall))
            if recorder.held:
                recorder.flush()
            if stop.wait(TICK_S):
                break
        return 0
    finally:
        notify.stopping()
        restore()
        if pipe is not None:
            pipe.close()
        if panel is not None:
            panel.close()
        monitor.stop()
        if lamp is not None:
            lamp.close()
        store.close()


def _rebuild(panel, config, recorder, scale: int, pin_factory):
    """The server changed the question's scale: rebuild the panel for it (or run without, logged)."""
    log.warning("question scale changed from %d to %d faces; re-mapping the buttons", panel.scale, scale)
    panel.close()
    try:
        return open_panel(config, recorder, scale, pin_factory=pin_factory, hours_check_s=None) or _Idle(scale)
    except ConfigError as exc:
        log.error("%s; the buttons record nothing until the pin map fits the question", exc)
    except HardwareError as exc:
        log.error("GPIO buttons unavailable: %s; the buttons record nothing until the kiosk restarts", exc)
    return _Idle(scale)


class _Idle:
    """Stands in for a panel whose pin map does not fit the question (so the loop re-checks the scale)."""

    def __init__(self, scale: int):
        self.scale = scale

    def set_open(self, _is_open: bool) -> None:
        pass

    def close(self) -> None:
        pass


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
