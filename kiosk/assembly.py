"""The kiosk put together once: store, store config, clock, staff lamp, recorder and GPIO panel.

Both kiosks are built on ``KioskCore``: the touchscreen (``kiosk.ui.app``) and the buttons-only
kiosk (``kiosk.headless``). It opens the parts in order, lazily where start-up speed needs it, runs
their periodic duties (``tick``) and closes them in the reverse order (``close``).

- ``KioskCore(config)`` is cheap: it reads the cached store config and makes the clock, which the
  touchscreen needs for its first frame; nothing heavier is imported yet.
- ``open()`` (or the first use of ``store``/``recorder``/``record``) opens the local store
  (``kiosk.store.open_store``: a ``DeferredStore`` that keeps retrying when the disk is full or
  read-only), the staff lamp with the local alert monitor (started), and the ``Recorder``, chained
  to the monitor. The touchscreen calls it right after its first frame; a press that comes earlier
  opens them at once, so no press waits for the screen or is lost.
- ``open_panel()`` claims the GPIO buttons and LEDs (``hardware.panel``) and, on gpiozero's mock
  pins, the development press pipe (``hardware.devpress``).
- ``tick()``: the opening hours to the button LEDs, a new question scale to a re-mapped panel, and
  presses held while the disk was full to the store. The caller decides how often.

Events for a user interface arrive as the callbacks ``on_press(response)`` (a button press, after
it was committed), ``on_identify(active)``, ``on_sync_requested()`` and ``on_staff_alert(active)``;
they run on whichever thread noticed (gpiozero's, the monitor's): a UI hops to its own thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hymy.errors import ConfigError, HardwareError, HymyError, StoreUnavailable
from hymy.protocol import Followup, Response, StoreConfig
from kiosk.clock import ClockReading, SystemClock
from kiosk.storeconfig import StoreConfigCache

if TYPE_CHECKING:
    from kiosk.capture import Recorder
    from kiosk.config import DeviceConfig
    from kiosk.store import Store

log = logging.getLogger(__name__)


class KioskCore:
    """One kiosk's capture core and hardware; see the module docstring for the order of things.

    ``config``: the ``DeviceConfig``. ``store_config``: a callable returning the current
    ``StoreConfig`` (default: a ``StoreConfigCache`` on ``config.store_config_path``). ``clock``: a
    callable returning a ``ClockReading`` (default: ``SystemClock.for_config``). ``gpio``: whether to
    use the buttons, LEDs and staff lamp of ``config.pins`` (False: a touchscreen alone).
    ``pin_factory``: gpiozero's pin factory (default: gpiozero's own choice).
    """

    def __init__(self, config: DeviceConfig, *, store_config: Callable[[], StoreConfig] | None = None,
                 clock: Callable[[], ClockReading] | None = None, gpio: bool = True, pin_factory=None):
        self.config = config
        self.store_config = store_config or StoreConfigCache(config.store_config_path)
        self.clock = clock or SystemClock.for_config(config.device)
        self.gpio = gpio
        self.pin_factory = pin_factory
        self.on_press: Callable[[Response], None] | None = None
        self.on_identify: Callable[[bool], None] | None = None
        self.on_sync_requested: Callable[[], None] | None = None
        self.on_staff_alert: Callable[[bool], None] | None = None
        #: The ``hardware.panel.SmileyPanel`` while the buttons work and fit the question, else None.
        self.panel = None
        #: The ``kiosk.staffalert.LocalAlertMonitor`` once opened.
        self.monitor = None
        self._lamp = None
        self._store: Store | None = None
        self._recorder: Recorder | None = None
        self._pipe = None
        self._panel_scale: int | None = None  # the scale the panel was (or failed to be) made for
        self._lock = threading.RLock()
        self._closed = False
        self._tick_error: str | None = None

    # ------------------------------------------------------------------ opening

    @property
    def opened(self) -> bool:
        """Whether the store, staff alert and recorder are open."""
        return self._recorder is not None

    @property
    def store(self) -> Store:
        """The local store, opened on first use."""
        self.open()
        return self._store

    @property
    def recorder(self) -> Recorder:
        """The capture core's ``Recorder``, opened on first use."""
        self.open()
        return self._recorder

    def open(self) -> None:
        """Open the store, the staff lamp and alert monitor, and the recorder (once; thread-safe).

        Raises ``StoreUnavailable`` after ``close()``: a late press must not open a new store.
        """
        if self._recorder is not None:
            return
        from kiosk.capture import Recorder  # not needed for a first frame: imported when opened
        from kiosk.staffalert import LocalAlertMonitor
        from kiosk.store import open_store

        with self._lock:
            if self._recorder is not None:
                return
            if self._closed:
                raise StoreUnavailable(f"{self.config.store_path}: the kiosk is shutting down")
            self.config.data_dir.mkdir(parents=True, exist_ok=True)
            self._store = open_store(self.config.store_path)
            self._lamp = self._open_lamp()
            self.monitor = LocalAlertMonitor(self._store, self.store_config, self._lamp, clock=self.clock,
                                             on_change=self._staff_changed)
            self.monitor.start()
            self._recorder = Recorder(self._store, self.store_config, self.clock,
                                      on_recorded=self.monitor.on_recorded)

    def _open_lamp(self):
        if not self.gpio or self.config.pins.staff_alert is None:
            return None
        try:
            from hardware.staffalert import open_staff_alert

            return open_staff_alert(self.config, pin_factory=self.pin_factory)
        except (ImportError, HymyError) as exc:
            log.error("staff lamp unavailable: %s; the kiosk keeps working without it", exc)
            return None

    def open_panel(self):
        """Claim the GPIO buttons (and LEDs) of ``config.pins``; returns the panel, or None.

        None without ``gpio`` or buttons, and while the pin map does not fit the question (logged;
        ``tick`` makes the panel once a store config with a fitting scale arrives). GPIO that cannot
        be used at all raises ``HardwareError``: what that means is the caller's to say.
        """
        if not self.gpio or not self.config.pins.buttons:
            return None
        scale = self.store_config().question.scale
        try:
            self.panel = self._make_panel(scale)
        except ConfigError as exc:
            log.error("%s; the buttons record nothing until the pin map fits the question", exc)
        self._panel_scale = scale
        return self.panel

    def _make_panel(self, scale: int):
        try:
            from hardware.panel import open_panel
        except ImportError as exc:
            raise HardwareError(f"gpiozero cannot be imported ({exc}); install the kiosk extra") from None
        panel = open_panel(self.config, self.recorder, scale, pin_factory=self.pin_factory, hours_check_s=None,
                           on_press=self._pressed, on_identify=self._identified, on_sync_now=self.request_sync)
        if panel is not None and self._pipe is None:  # development: mock pins pressed from another process
            from hardware.devpress import open_press_pipe

            self._pipe = open_press_pipe(self.config.data_dir, panel.factory, lambda: self.panel)
        return panel

    # ------------------------------------------------------------------ what the screens call

    def record(self, mood: int, source: str = "touch") -> Response:
        """Record a press (``Recorder.record``); returns once it is committed (or held)."""
        return self.recorder.record(mood, source)

    def record_followup(self, response_id: str, kind: str, value: str) -> Followup:
        return self.recorder.record_followup(response_id, kind, value)

    def void(self, response_id: str) -> Followup:
        """Void a stored press (button test, maintenance gesture): kept, never counted."""
        return self.recorder.void(response_id)

    def today_counts(self, timezone: str) -> tuple[dict[int, int], int, int]:
        """Today's counted presses per face, the not-counted ones, and the scale (``Store.today_counts``);
        "today" is the local day in ``timezone`` at the kiosk's clock (the one that stamps the presses)."""
        return self.store.today_counts(timezone, self.clock().wall)

    def status(self) -> dict[str, Any]:
        """``kiosk.status.device_status`` of this kiosk, read through its open store."""
        from kiosk.status import device_status

        return device_status(self.config, self.store)

    def request_sync(self) -> None:
        """Ask the sync agent to sync now (``Store.request_sync``), then tell ``on_sync_requested``."""
        self.store.request_sync()
        if self.on_sync_requested is not None:
            self.on_sync_requested()

    # ------------------------------------------------------------------ periodic duties

    def tick(self) -> None:
        """The periodic duties; call from one thread, every second or so. Never raises (logged).

        The opening hours switch the button LEDs, a new question scale re-maps the panel, and presses
        held while the store could not write are written.
        """
        if self._recorder is None or self._closed:
            return
        try:
            scale = self.store_config().question.scale
            if self._panel_scale is not None and scale != self._panel_scale:
                self._rebuild_panel(scale)
            if self.panel is not None:
                self.panel.check_hours()
            if self._recorder.held:
                self._recorder.flush()
            self._tick_error = None
        except Exception as exc:  # the next tick tries again; one log line per distinct problem
            if self._tick_error != str(exc):
                log.exception("the kiosk's periodic duties failed")
            self._tick_error = str(exc)

    def _rebuild_panel(self, scale: int) -> None:
        log.warning("question scale changed from %d to %d faces; re-mapping the buttons", self._panel_scale, scale)
        self._close_panel()
        self._panel_scale = scale
        try:
            self.panel = self._make_panel(scale)
        except ConfigError as exc:
            log.error("%s; the buttons record nothing until the pin map fits the question", exc)
        except HardwareError as exc:
            log.error("GPIO buttons unavailable: %s; the buttons record nothing until the kiosk restarts", exc)

    # ------------------------------------------------------------------ closing

    def close(self) -> None:
        """Stop and release everything, the press inputs first and the store last (idempotent).

        Works whatever failed to open; a part that fails to close is logged and the rest still close.
        Presses held in memory are written if the store can take them now.
        """
        with self._lock:
            self._closed = True
            pipe, self._pipe = self._pipe, None
            recorder, self._recorder = self._recorder, None
            monitor, self.monitor = self.monitor, None
            lamp, self._lamp = self._lamp, None
            store, self._store = self._store, None
        steps = [("the press pipe", pipe and pipe.close), ("the GPIO panel", self._close_panel),
                 ("the held presses", recorder and recorder.flush), ("the recorder", recorder and recorder.close),
                 ("the staff alert", monitor and monitor.stop), ("the staff lamp", lamp and lamp.close),
                 ("the store", store and store.close)]
        for what, step in steps:
            if not step:
                continue
            try:
                step()
            except Exception:  # closing one part must not keep the others open
                log.exception("closing %s failed", what)

    def _close_panel(self) -> None:
        panel, self.panel = self.panel, None
        if panel is not None:
            panel.close()

    def __enter__(self) -> KioskCore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ events out

    def _pressed(self, response: Response) -> None:
        if self.on_press is not None:
            self.on_press(response)

    def _identified(self, active: bool) -> None:
        if self.on_identify is not None:
            self.on_identify(active)

    def _staff_changed(self, active: bool, _evaluations) -> None:
        if self.on_staff_alert is not None:
            self.on_staff_alert(active)
