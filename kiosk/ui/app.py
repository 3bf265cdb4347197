"""The kiosk app: binds the screen flow and the maintenance controller to Kivy's widgets and clock.

``create_app(config)`` builds a fresh app from a device config (tests pass a temp data dir);
``run_kiosk(config)`` runs it on the real display. What shows when is decided by the pure
``kiosk.screenflow.ScreenFlow`` and ``kiosk.maintenance.Maintenance``; the kiosk's parts (store,
recorder, GPIO panel, staff lamp) are opened and closed by ``kiosk.assembly.KioskCore``. This class
copies what they say into Kivy properties and screens (``_render``), schedules their timeouts on
Kivy's clock, and hands events from other threads (GPIO presses, the staff alert) to Kivy's main
thread with ``Clock.schedule_once``. The UI thread does no network I/O.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty

from hymy import notify
from hymy.errors import HardwareError
from hymy.protocol import StoreConfig
from kiosk.assembly import KioskCore
from kiosk.config import DeviceConfig
from kiosk.i18n import language_name, translator
from kiosk.maintenance import Maintenance
from kiosk.pinlock import PinLock
from kiosk.screenflow import COMMENT, FOLLOWUP, MAINTENANCE, PIN, QUESTION, TEST, ScreenFlow, Timer
from kiosk.ui import idle, screens
from kiosk.ui.backlight import Backlight
from kiosk.ui.overlay import Overlay

log = logging.getLogger(__name__)

#: Seconds between checks of the opening hours, the kiosk's duties and the provisioning notice.
HOURS_CHECK_S = 30.0
#: Seconds a tested face stays highlighted on the button test.
HIGHLIGHT_S = 0.6


class HymyApp(App):
    """The touchscreen. Build it with ``create_app``; the constructor takes a ready ``KioskCore``.

    ``time_scale`` multiplies every timeout and period (1.0 in production; tests use less so an
    8 s follow-up timeout passes in a fraction of a second on the same code path). ``pin_clock`` is
    the PIN lock-out's monotonic clock in seconds.
    """

    title = "Hymy"
    flow = ObjectProperty(None)
    maintenance = ObjectProperty(None)
    lang = StringProperty("fi")
    languages = ListProperty(["fi", "sv", "en"])
    question_text = StringProperty("")
    scale = NumericProperty(4)
    last_mood = NumericProperty(1)
    #: The thank-you's heading and line in the tone of the face (the screen flow's ``thanks_for``).
    thanks_title = StringProperty("")
    thanks_text = StringProperty("")
    #: The thank-you screen's "Today 87 % of our customers smiled" line ("" hides it).
    today_line = StringProperty("")
    followup_kind = StringProperty("reason")
    backlight_off = BooleanProperty(False)
    #: Show the discreet staff-alert dot (config display.staff_indicator).
    staff_indicator = BooleanProperty(True)
    root_w = NumericProperty(800)
    root_h = NumericProperty(480)

    def __init__(self, core: KioskCore, *, time_scale: float = 1.0, backlight: Backlight | None = None,
                 pin_clock: Callable[[], float] = time.monotonic, **kwargs):
        super().__init__(**kwargs)
        self.core = core
        self.device_config = core.config
        self.time_scale = time_scale
        self.backlight = backlight or Backlight()
        self.flow = ScreenFlow(core, core.store_config, core.clock)
        self.maintenance = Maintenance(self.flow, PinLock(core.config.maintenance.pin_hash, clock=pin_clock), core)
        self.flow.on_change = self._render
        core.on_press = lambda response: self._on_main(self.flow.gpio_press, response)
        core.on_identify = lambda active: self._on_main(self.overlay.identify, active)
        core.on_sync_requested = lambda: self._on_main(self.maintenance.sync_requested)
        core.on_staff_alert = lambda active: self._on_main(self.overlay.staff_alert, active)
        self.overlay: Overlay | None = None
        self.watchdog = notify.Watchdog()
        self.staff_indicator = core.config.display.staff_indicator
        self._events: list = []
        self._timer = None
        self._timer_token: int | None = None
        self._rendering = False
        self._render_again = False
        self._backlight_is_off = False
        self._tested: tuple[int, int] | None = None
        self._keys = None  # the development keys' handler, while bound
        self._stopped = False
        self._last_touch = time.monotonic()
        #: perf_counter() of the first frame drawn (READY is sent then); None before.
        self.first_frame_at: float | None = None
        self.frame_listeners: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ Kivy life cycle

    def tr(self, message: str, *_bound) -> str:
        """gettext for .kv files: ``app.tr('Skip', app.lang)`` (the extra argument binds to the language)."""
        return translator.gettext(message)

    def build(self):
        screens.load_kv()
        Window.rotation = self.device_config.display.rotation
        root = Factory.KioskRoot()
        root.ids.corner.hold_s = screens.LONG_PRESS_S * self.time_scale
        root.bind(size=self._on_root_size)
        self._on_root_size(root, root.size)
        self.overlay = Overlay(root, self.device_config.device.name, self.device_config.provision_error_path,
                               self.time_scale)
        self.bind(languages=lambda *_: self._build_lang_buttons())
        return root

    def on_start(self):
        self.flow.show_question()
        self._build_lang_buttons()
        self.overlay.check_notice()
        Window.bind(on_flip=self._on_flip)
        Window.bind(on_touch_down=self._any_touch)
        self._events = [
            # ping systemd's watchdog from the UI loop itself: a hung loop stops the pings
            Clock.schedule_interval(lambda dt: self.watchdog.kick(), min(1.0, self.watchdog.interval or 1.0)),
            Clock.schedule_interval(self._periodic, HOURS_CHECK_S * self.time_scale),
            Clock.schedule_interval(self._attract, idle.ATTRACT_S * self.time_scale),
            Clock.schedule_interval(self._drift, idle.DRIFT_S * self.time_scale),
        ]

    def open_settings(self, *_args) -> bool:
        """Kivy's settings panel (F1) never opens on a kiosk."""
        return False

    def on_stop(self):
        self.shutdown()

    def shutdown(self) -> None:
        """Stop the timers and the kiosk's parts (``KioskCore.close``), switch the backlight back on
        (idempotent). Events still queued for Kivy's main thread are dropped."""
        self._stopped = True
        for ev in self._events:
            ev.cancel()
        self._events = []
        self._schedule(None)
        Window.unbind(on_flip=self._on_flip)
        Window.unbind(on_touch_down=self._any_touch)
        if self._keys is not None:
            Window.unbind(on_key_down=self._keys)
            self._keys = None
        self.core.close()
        self._switch_backlight(on=True)

    def _on_flip(self, *_):
        if self.first_frame_at is None:
            self.first_frame_at = time.perf_counter()
            notify.ready("showing the question")
            Clock.schedule_once(self._after_first_frame, 0)
        for listener in list(self.frame_listeners):
            listener()

    def _after_first_frame(self, _dt=None) -> None:
        # Opening the store (SQLite, migrations, sqlite-utils) is the slowest part of starting; it
        # happens once the first frame is on screen. A press that comes even earlier opens it itself.
        if self._stopped:
            return
        self.core.open()
        self._open_panel()
        for name in screens.WARM_SCREENS:
            self.screen(name)

    def _open_panel(self) -> None:
        try:
            self.core.open_panel()
        except HardwareError as exc:  # no GPIO, or a pin busy
            log.error("GPIO buttons unavailable: %s; the touchscreen keeps working", exc)
            return
        panel = self.core.panel
        if panel is not None and self._keys is None:
            from hardware.gpio import is_mock

            if is_mock(panel.factory):  # development: keys 1..n press the mock buttons
                from kiosk.ui.mockkeys import bind_mock_keys

                self._keys = bind_mock_keys(Window, lambda: self.core.panel, len(self.device_config.pins.buttons))

    def _on_root_size(self, _root, size):
        self.root_w, self.root_h = size

    def _any_touch(self, *_):
        self._last_touch = time.monotonic()
        self.maintenance.touched()
        return False

    def _on_main(self, fn: Callable, *args) -> None:
        """Run ``fn(*args)`` on Kivy's main thread (from gpiozero's or the staff monitor's thread)."""
        Clock.schedule_once(lambda dt: None if self._stopped else fn(*args), 0)

    # ------------------------------------------------------------------ binding the flow

    @property
    def manager(self):
        return self.root.manager

    @property
    def manager_current(self) -> str:
        return self.root.manager.current if self.root else ""

    def screen(self, name: str):
        """The screen called ``name``, built on first use."""
        return screens.get_screen(self.manager, name)

    def _render(self) -> None:
        """Show what the flow and the maintenance controller say (called after each of their changes)."""
        if self._rendering:  # a widget changed by this render told the flow something: render again
            self._render_again = True
            return
        self._rendering = True
        try:
            self._render_again = True
            while self._render_again:
                self._render_again = False
                self._apply()
        finally:
            self._rendering = False

    def _apply(self) -> None:
        flow, maint = self.flow, self.maintenance
        self.lang = flow.lang
        if list(self.languages) != list(flow.languages):
            self.languages = list(flow.languages)
        self.scale = flow.scale
        self.question_text = flow.question_text
        self.last_mood = flow.last_mood
        if flow.followup is not None:
            self.followup_kind = flow.followup.kind
        self.thanks_title, self.thanks_text = flow.thanks_title, flow.thanks_text
        self.today_line = flow.today_line
        self.backlight_off = flow.backlight_off
        self._switch_backlight(on=not flow.backlight_off)
        if not self.root or not flow.screen:
            return
        screen = self.screen(flow.screen)
        if flow.screen == FOLLOWUP:
            screen.options = flow.options
        elif flow.screen == PIN:
            screen.entered, screen.message = maint.entered, maint.pin_message
        elif flow.screen == MAINTENANCE:
            screen.rows, screen.message = maint.rows, maint.page_message
        elif flow.screen == TEST:
            screen.message = maint.test_message
            if maint.tested != self._tested:
                self._tested = maint.tested
                self._highlight(screen, maint.tested[0])
        self._show(flow.screen)
        self._schedule(flow.timer)

    def _show(self, name: str) -> None:
        current = self.manager.current
        if current == name:
            return
        if current == COMMENT:
            self.screen(COMMENT).ids.comment.focus = False  # hides the on-screen keyboard
        field = self.screen(COMMENT).ids.comment if name == COMMENT else None
        if field is not None:
            field.text = ""
        self.manager.current = name
        if field is not None:
            field.focus = True

    def _schedule(self, timer: Timer | None) -> None:
        """Keep one Kivy clock event for the flow's current timer (a new token replaces the old one)."""
        token = timer.token if timer else None
        if token == self._timer_token:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_token = None, token
        if timer is not None:
            self._timer = Clock.schedule_once(lambda dt: self.flow.timeout(token), timer.seconds * self.time_scale)

    def _switch_backlight(self, on: bool) -> None:
        if self._backlight_is_off == on:
            self._backlight_is_off = not on
            self.backlight.set(on)

    def _highlight(self, screen, mood: int) -> None:
        faces = screen.ids.faces.faces
        if 1 <= mood <= len(faces):
            face = faces[mood - 1]
            face.highlight = True
            Clock.schedule_once(lambda dt: setattr(face, "highlight", False), HIGHLIGHT_S)

    def _build_lang_buttons(self) -> None:
        if not self.root:
            return
        box = self.screen(QUESTION).ids.langs
        box.clear_widgets()
        for code in self.languages:
            button = Factory.LangButton()
            button.lang = code
            button.text = language_name(code)
            box.add_widget(button)

    # ------------------------------------------------------------------ periodic and events

    def _periodic(self, _dt=None) -> None:
        self.flow.check_hours()
        self.core.tick()
        self.overlay.check_notice()

    def _attract(self, _dt=None) -> None:
        if self.manager_current == QUESTION and time.monotonic() - self._last_touch >= idle.ATTRACT_S * self.time_scale:
            idle.attract(self.screen(QUESTION).ids.faces.faces)

    def _drift(self, _dt=None) -> None:
        idle.drift(self.root, self.screen("closed") if self.manager.has_screen("closed") else None)


def create_app(config: DeviceConfig, *, store_config: Callable[[], StoreConfig] | None = None,
               clock: Callable | None = None, time_scale: float = 1.0, use_panel: bool = True,
               backlight: Backlight | None = None, pin_clock: Callable[[], float] = time.monotonic) -> HymyApp:
    """A fresh kiosk app for ``config``: its own ``KioskCore`` (the store ``config.store_path``,
    opened once the first frame shows; the cached store config and the clock unless given;
    ``use_panel``: the GPIO buttons and staff lamp of ``config.pins``). Nothing shows until it runs."""
    core = KioskCore(config, store_config=store_config, clock=clock, gpio=use_panel)
    return HymyApp(core, time_scale=time_scale, backlight=backlight, pin_clock=pin_clock)


def run_kiosk(config: DeviceConfig) -> None:
    """``hymy kiosk``: run the touchscreen until stopped (systemd restarts it if it hangs)."""
    app = create_app(config)
    try:
        app.run()
    finally:
        notify.stopping()
        app.shutdown()
