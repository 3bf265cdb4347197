"""The kiosk app: which screen shows when, wired to the capture core, the store and the GPIO panel.

``create_app(config)`` builds a fresh app from a device config (tests pass a temp data dir);
``run_kiosk(config)`` sets up Kivy for the real display and runs it. Every UI change happens on
Kivy's main thread: GPIO callbacks arrive on gpiozero's thread and are handed over with
``Clock.schedule_once``. The UI thread does no network I/O; "sync now" only writes a request into
the store's ``meta`` table for the sync agent to pick up.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kivy.animation import Animation
from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from hymy import notify
from hymy.errors import HymyError
from hymy.hours import is_open
from hymy.protocol import MAX_VALUE_CHARS, Response, StoreConfig
from kiosk.clock import SystemClock
from kiosk.config import DeviceConfig
from kiosk.i18n import _, default_language, language_name, translator
from kiosk.storeconfig import StoreConfigCache
from kiosk.ui import flow, screens
from kiosk.ui.backlight import Backlight
from kiosk.ui.pinlock import PinLock, PinResult

if TYPE_CHECKING:
    from kiosk.capture import Recorder
    from kiosk.store import Store

log = logging.getLogger(__name__)

#: The layout of the root and the question screen (the first frame); the lazy screens' files sit beside it.
KV_FILE = Path(__file__).with_name("kiosk.kv")
#: Seconds without a touch before the faces do their attract animation (then again every period).
ATTRACT_S = 20.0
#: Seconds between burn-in drift steps; each step moves the content by at most one pixel per axis.
DRIFT_S = 60.0
#: Largest drift from the centre, in pixels.
DRIFT_MAX = 8
#: Seconds between opening-hours checks.
HOURS_CHECK_S = 30.0
#: Idle seconds after which the PIN pad, the maintenance page and the button test close themselves.
MAINTENANCE_IDLE_S = 120.0
#: Seconds the identify banner shows (hardware identify gesture).
IDENTIFY_S = 10.0
#: Screens built on first use (keeps the start fast): name -> (class, the .kv file with its layout).
LAZY_SCREENS = {"thanks": ("ThankYouScreen", "customer.kv"), "followup": ("FollowupScreen", "customer.kv"),
                "closed": ("ClosedScreen", "customer.kv"), "comment": ("CommentScreen", "customer.kv"),
                "pin": ("PinScreen", "maintenance.kv"), "maintenance": ("MaintenanceScreen", "maintenance.kv"),
                "test": ("TestButtonsScreen", "maintenance.kv")}
#: Built right after the first frame, so the first press does not wait for them.
WARM_SCREENS = ("thanks", "followup")
#: The comment keyboard waits this long after the last keystroke (at least the follow-up timeout).
COMMENT_IDLE_S = 30.0

for _cls in ("KioskRoot", "CornerHotspot", "FaceRow", "OptionButton", "QuestionScreen", "ThankYouScreen",
             "FollowupScreen", "ClosedScreen"):
    Factory.register(_cls, cls=getattr(screens, _cls))
for _cls in ("LimitedInput", "CommentScreen"):
    Factory.register(_cls, module="kiosk.ui.comment")  # Kivy's TextInput: imported with the comment screen
for _cls in ("PinScreen", "MaintenanceScreen", "TestButtonsScreen"):
    Factory.register(_cls, module="kiosk.ui.maintenance")  # imported when a technician first opens one
Factory.register("Smiley", module="kiosk.ui.smiley")


class HymyApp(App):
    """The touchscreen. Build it with ``create_app``; the constructor takes ready parts.

    ``time_scale`` multiplies every timeout and period (1.0 in production; tests use less so an
    8 s follow-up timeout passes in a fraction of a second on the same code path).
    """

    title = "Hymy"
    lang = StringProperty("fi")
    languages = ListProperty(["fi", "sv", "en"])
    question_text = StringProperty("")
    scale = NumericProperty(4)
    last_mood = NumericProperty(1)
    #: Today's share of smiling customers for the thank-you screen; -1 when not shown.
    today_percent = NumericProperty(-1)
    #: The thank-you screen's "Today 87 % of our customers smiled" line ("" hides it).
    today_line = StringProperty("")
    followup_kind = StringProperty("reason")
    backlight_off = BooleanProperty(False)
    #: Show the discreet staff-alert dot (config display.staff_indicator).
    staff_indicator = BooleanProperty(True)
    root_w = NumericProperty(800)
    root_h = NumericProperty(480)

    def __init__(self, device_config: DeviceConfig, *, open_store: Callable[[], Store],
                 store_config: Callable[[], StoreConfig], clock: Callable, time_scale: float = 1.0,
                 use_panel: bool = True, backlight: Backlight | None = None,
                 pin_clock: Callable[[], float] = time.monotonic, **kwargs):
        super().__init__(**kwargs)
        self.device_config = device_config
        self._open_store = open_store
        self._store: Store | None = None
        self._recorder: Recorder | None = None
        self._core_lock = threading.Lock()
        self.store_config = store_config
        self.clock = clock
        self.time_scale = time_scale
        self.use_panel = use_panel
        self.backlight = backlight or Backlight()
        self.pinlock = PinLock(device_config.maintenance.pin_hash, clock=pin_clock)
        self.watchdog = notify.Watchdog()
        self.panel = None
        self.staff_monitor = None
        self.staff_indicator = device_config.display.staff_indicator
        self.current_response: Response | None = None
        self._followup: flow.Followup | None = None
        self._timer = None
        self._events: list = []
        self._last_touch = time.monotonic()
        self._backlight_is_off = False
        self._identify_event = None
        #: perf_counter() of the first frame drawn (READY is sent then); None before.
        self.first_frame_at: float | None = None
        self.frame_listeners: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ the capture core

    @property
    def store(self) -> Store:
        """The local store, opened on first use (right after the first frame, or by an earlier press)."""
        if self._store is None:
            self._open_core()
        return self._store

    @property
    def recorder(self) -> Recorder:
        if self._recorder is None:
            self._open_core()
        return self._recorder

    def _open_core(self) -> None:
        # Opening the store (SQLite, migrations, sqlite-utils) is the slowest part of starting; it
        # happens after the first frame is on screen. A press that comes even earlier opens it here,
        # so no press is ever lost or refused.
        from kiosk.capture import Recorder  # not needed for the first frame: imported after it

        with self._core_lock:
            if self._store is None:
                self._store = self._open_store()
                self.staff_monitor = self._open_staff_monitor(self._store)
                self._recorder = Recorder(self._store, self.store_config, self.clock,
                                          on_recorded=self.staff_monitor.on_recorded)

    def _open_staff_monitor(self, store: Store):
        """The local staff alert: the store's ``local`` rules on this kiosk's own presses, no network."""
        from kiosk.staffalert import LocalAlertMonitor

        lamp = None
        if self.use_panel and self.device_config.pins.staff_alert is not None:
            try:
                from hardware.staffalert import open_staff_alert

                lamp = open_staff_alert(self.device_config)
            except (ImportError, HymyError) as exc:
                log.error("staff lamp unavailable: %s", exc)

        def changed(active: bool, _evaluations) -> None:  # any thread: hop to Kivy's
            Clock.schedule_once(lambda dt: setattr(self.root, "staff_alert", active), 0)

        monitor = LocalAlertMonitor(store, self.store_config, lamp, clock=self.clock, on_change=changed)
        monitor.start()
        return monitor

    def _after_first_frame(self, _dt=None) -> None:
        self._open_core()
        self._open_panel()
        for name in WARM_SCREENS:
            self.screen(name)

    # ------------------------------------------------------------------ Kivy life cycle

    def tr(self, message: str, *_bound) -> str:
        """gettext for .kv files: ``app.tr('Skip', app.lang)`` (the extra argument binds to the language)."""
        return translator.gettext(message)

    def build(self):
        _load_kv(KV_FILE)
        Window.rotation = self.device_config.display.rotation
        root = Factory.KioskRoot()
        root.ids.corner.hold_s = screens.LONG_PRESS_S * self.time_scale
        root.bind(size=self._on_root_size)
        self._on_root_size(root, root.size)
        self.bind(languages=lambda *_: self._build_lang_buttons())
        return root

    def on_start(self):
        self._apply_config()
        self._build_lang_buttons()
        self.show_question()
        self._check_notice()
        Window.bind(on_flip=self._on_flip)
        Window.bind(on_touch_down=self._any_touch)
        self._events = [
            # ping systemd's watchdog from the UI loop itself: a hung loop stops the pings
            Clock.schedule_interval(lambda dt: self.watchdog.kick(), min(1.0, self.watchdog.interval or 1.0)),
            Clock.schedule_interval(self._check_hours, HOURS_CHECK_S * self.time_scale),
            Clock.schedule_interval(self._check_notice, HOURS_CHECK_S * self.time_scale),
            Clock.schedule_interval(self._attract, ATTRACT_S * self.time_scale),
            Clock.schedule_interval(self._drift, DRIFT_S * self.time_scale),
        ]

    def open_settings(self, *_args) -> bool:
        """Kivy's settings panel (F1) never opens on a kiosk."""
        return False

    def on_stop(self):
        self.shutdown()

    def shutdown(self) -> None:
        """Stop timers and the GPIO panel, switch the backlight back on (idempotent)."""
        for ev in self._events:
            ev.cancel()
        self._events = []
        self._cancel_timer()
        Window.unbind(on_flip=self._on_flip)
        Window.unbind(on_touch_down=self._any_touch)
        if getattr(self, "_press_pipe", None) is not None:
            self._press_pipe.close()
            self._press_pipe = None
        if self.staff_monitor is not None:
            self.staff_monitor.stop()
            if self.staff_monitor.staff_alert is not None:
                self.staff_monitor.staff_alert.close()
        if self.panel is not None:
            try:
                self.panel.close()
            except Exception:  # closing pins must not stop the shutdown
                log.exception("closing the GPIO panel failed")
            self.panel = None
        if self._backlight_is_off:
            self.backlight.set(True)
            self._backlight_is_off = False

    def _on_flip(self, *_):
        if self.first_frame_at is None:
            self.first_frame_at = time.perf_counter()
            notify.ready("showing the question")
            Clock.schedule_once(self._after_first_frame, 0)
        for listener in list(self.frame_listeners):
            listener()

    def _on_root_size(self, _root, size):
        self.root_w, self.root_h = size

    def _any_touch(self, *_):
        self._last_touch = time.monotonic()
        if self.manager_current in ("pin", "maintenance", "test"):
            self._start_timer(MAINTENANCE_IDLE_S, self.show_question)
        return False

    # ------------------------------------------------------------------ helpers

    @property
    def manager(self):
        return self.root.manager

    @property
    def manager_current(self) -> str:
        return self.root.manager.current if self.root else ""

    def screen(self, name: str):
        """The screen called ``name``; the rarely seen ones are built the first time they are needed."""
        manager = self.manager
        if not manager.has_screen(name) and name in LAZY_SCREENS:
            cls, kv = LAZY_SCREENS[name]
            _load_kv(KV_FILE.with_name(kv))  # parsed when first needed: not on the way to the first frame
            manager.add_widget(getattr(Factory, cls)(name=name))
        return manager.get_screen(name)

    def _go(self, name: str) -> None:
        self.screen(name)  # built on first use
        if self.manager.current == "comment" and name != "comment":
            self.screen("comment").ids.comment.focus = False  # hides the on-screen keyboard
        if self.manager.current != name:
            self.manager.current = name

    def _start_timer(self, seconds: float, callback: Callable[[], None]) -> None:
        self._cancel_timer()
        self._timer = Clock.schedule_once(lambda dt: callback(), seconds * self.time_scale)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def config_now(self) -> StoreConfig:
        return self.store_config()

    def _apply_config(self) -> StoreConfig:
        cfg = self.config_now()
        self.scale = cfg.question.scale
        if list(self.languages) != list(cfg.languages):
            self.languages = list(cfg.languages)
        if self.lang not in self.languages:
            self.set_lang(default_language(self.languages))
        self.question_text = cfg.question.texts.get(self.lang)
        return cfg

    def _build_lang_buttons(self) -> None:
        if not self.root:
            return
        box = self.screen("question").ids.langs
        box.clear_widgets()
        for code in self.languages:
            button = Factory.LangButton()
            button.lang = code
            button.text = language_name(code)
            box.add_widget(button)

    def set_lang(self, lang: str) -> None:
        """Switch the language of every text (catalog texts and the store's own texts)."""
        translator.switch(lang)
        self.lang = lang
        cfg = self.config_now()
        self.question_text = cfg.question.texts.get(lang)
        if self._followup is not None and self.root:
            self._fill_options()

    def is_closed(self) -> bool:
        cfg = self.config_now()
        return not is_open(cfg.opening_hours, cfg.timezone, self.clock().wall)

    # ------------------------------------------------------------------ customer flow

    def show_question(self, reset_lang: bool = True) -> None:
        """The start screen (or the closed view outside opening hours); back to the default language."""
        self._cancel_timer()
        self.current_response = None
        self._followup = None
        if reset_lang:
            self.set_lang(default_language(self.languages))
        cfg = self._apply_config()
        if self.is_closed():
            self.backlight_off = cfg.closed_display == "backlight_off"
            if self.backlight_off and not self._backlight_is_off:
                self._backlight_is_off = True
                self.backlight.set(False)
            self._go("closed")
            return
        self.backlight_off = False
        if self._backlight_is_off:
            self._backlight_is_off = False
            self.backlight.set(True)
        self._go("question")

    def press(self, mood: int, source: str = "touch") -> Response | None:
        """A face was touched: record it (committed before anything else shows), then follow up or thank."""
        if self.manager_current != "question":
            return None
        try:
            response = self.recorder.record(mood, source)
        except HymyError:
            log.exception("could not record a press of face %s", mood)
            return None
        self.after_response(response)
        return response

    def after_response(self, response: Response) -> None:
        """Show what follows a stored press: its follow-up, or the thanks."""
        self.current_response = response
        self.last_mood = response.mood
        fu = flow.followup_after(self.config_now(), response)
        if fu is None:
            self.show_thanks()
            return
        self._followup = fu
        self.followup_kind = fu.kind
        self._fill_options()
        self._go("followup")
        self._start_timer(self.config_now().followup_timeout_s, self.followup_timed_out)

    def _fill_options(self) -> None:
        fu = self._followup
        self.screen("followup").options = [(o.id, o.texts.get(self.lang)) for o in fu.options] if fu else []

    def followup_timed_out(self) -> None:
        log.debug("follow-up timed out; the press is stored, the follow-up is not")
        self.show_question()

    def choose(self, option_id: str) -> None:
        """A follow-up option was touched: store it as its own event, then comment or thanks."""
        response, fu = self.current_response, self._followup
        if response is None or fu is None:
            return
        self._followup = None
        try:
            self.recorder.record_followup(response.id, fu.kind, option_id)
        except HymyError:
            log.exception("could not record follow-up %s", option_id)
        if self.config_now().comments_enabled:
            self.show_comment()
        else:
            self.show_thanks()

    def skip(self) -> None:
        """Skip (follow-up) or No thanks (comment): nothing more is stored."""
        self._followup = None
        self.show_thanks()

    def show_comment(self) -> None:
        screen = self.screen("comment")
        field = screen.ids.comment
        field.text = ""
        field.max_chars = MAX_VALUE_CHARS
        self._go("comment")
        field.focus = True
        self.comment_typed()

    def comment_typed(self) -> None:
        if self.manager_current == "comment":
            idle = max(COMMENT_IDLE_S, self.config_now().followup_timeout_s)
            self._start_timer(idle, self.followup_timed_out)

    def send_comment(self, text: str) -> None:
        text = text.strip()[:MAX_VALUE_CHARS]
        response = self.current_response
        if text and response is not None:
            try:
                self.recorder.record_followup(response.id, "comment", text)
            except HymyError:
                log.exception("could not record a comment")
        self.show_thanks()

    def show_thanks(self) -> None:
        cfg = self.config_now()
        self.today_percent = -1
        self.today_line = ""
        if cfg.show_today_result:
            counts, _filtered, scale = self.store.today_counts(cfg.timezone)
            pct = flow.today_percent(counts, scale)
            if pct is not None:
                self.today_percent = pct
                from babel.numbers import format_percent

                percent = format_percent(pct / 100, locale=self.lang)
                self.today_line = _("Today {percent} of our customers smiled").format(percent=percent)
        self._go("thanks")
        self._start_timer(cfg.thank_you_s, self.show_question)

    # ------------------------------------------------------------------ periodic

    def _check_notice(self, _dt=None) -> None:
        """Show a refused provisioning file's message (written by ``hymy firstboot``) to the technician."""
        try:
            text = self.device_config.provision_error_path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            text = ""
        if text:
            text = translator.gettext("The provisioning file was refused; the last good settings stay in force:") \
                + "\n" + text[:400]
        if self.root is not None and self.root.notice_text != text:
            self.root.notice_text = text

    def _check_hours(self, _dt=None) -> None:
        current = self.manager_current
        if current not in ("question", "closed"):
            return
        if (current == "closed") != self.is_closed():
            self.show_question(reset_lang=False)

    def _attract(self, _dt=None) -> None:
        """When idle, the faces bob one after another: a gentle sign that the screen takes touches."""
        if self.manager_current != "question":
            return
        if time.monotonic() - self._last_touch < ATTRACT_S * self.time_scale:
            return
        for i, face in enumerate(self.screen("question").ids.faces.faces):
            anim = Animation(bob=1.0, d=0.3, t="out_quad") + Animation(bob=0.0, d=0.3, t="in_quad")
            Clock.schedule_once(lambda dt, a=anim, f=face: a.start(f), i * 0.15)

    def _drift(self, _dt=None) -> None:
        """Move everything by at most a pixel, staying within DRIFT_MAX of the centre (burn-in)."""
        root = self.root
        root.drift_x = max(-DRIFT_MAX, min(DRIFT_MAX, root.drift_x + random.choice((-1, 0, 1))))
        root.drift_y = max(-DRIFT_MAX, min(DRIFT_MAX, root.drift_y + random.choice((-1, 0, 1))))
        if not self.manager.has_screen("closed"):
            return
        closed = self.screen("closed")
        closed.spot_x = random.uniform(0.38, 0.62)
        closed.spot_y = random.uniform(0.35, 0.65)

    # ------------------------------------------------------------------ GPIO panel

    def _open_panel(self) -> None:
        if not self.use_panel or not self.device_config.pins.buttons:
            return
        try:
            from hardware.panel import open_panel
        except ImportError:
            log.warning("hardware.panel is not available; running without GPIO buttons")
            return
        try:
            self.panel = open_panel(self.device_config, self.recorder, int(self.scale),
                                    on_press=self.on_gpio_press, on_identify=self.on_identify,
                                    on_sync_now=self.on_gpio_sync_now)
        except HymyError as exc:  # no GPIO (HardwareError) or a pin map that does not fit (ConfigError)
            log.error("GPIO buttons unavailable: %s; the touchscreen keeps working", exc)
        if self.panel is not None:
            from kivy.core.window import Window

            from kiosk.ui.mockkeys import bind_mock_keys

            bind_mock_keys(Window, list(self.device_config.pins.buttons))
            # development: mock pins pressed from another process (hardware/devpress.py)
            from hardware.devpress import open_press_pipe

            self._press_pipe = open_press_pipe(self.device_config.data_dir, self.panel.factory, lambda: self.panel)

    def on_gpio_press(self, response: Response) -> None:
        """Called on gpiozero's thread after the press was committed: hand it to the main thread."""
        Clock.schedule_once(lambda dt: self._gpio_press(response), 0)

    def _gpio_press(self, response: Response) -> None:
        current = self.manager_current
        if current == "test":
            self.recorder.void(response.id)
            self.test_press(response.mood, button=True)
        elif current in ("pin", "maintenance"):
            return
        else:
            self.after_response(response)

    def on_identify(self, active: bool = True) -> None:
        """The panel's identify gesture (gpiozero's thread): True entered, False left."""
        Clock.schedule_once(lambda dt: self.identify(active), 0)

    def identify(self, active: bool = True) -> None:
        """Show the device's name big on the screen (find this kiosk among many); it hides when
        identify mode ends, or after IDENTIFY_S seconds at the latest."""
        if self._identify_event is not None:
            self._identify_event.cancel()
            self._identify_event = None
        self.root.identify_text = self.device_config.device.name if active else ""
        if active:
            self._identify_event = Clock.schedule_once(lambda dt: self.identify(False), IDENTIFY_S * self.time_scale)

    def on_gpio_sync_now(self, *_args) -> None:
        Clock.schedule_once(lambda dt: self.sync_now(), 0)

    # ------------------------------------------------------------------ maintenance

    def open_pin_pad(self) -> None:
        if self.manager_current in ("pin", "maintenance", "test"):
            return
        self._cancel_timer()
        pin = self.screen("pin")
        pin.entered = ""
        pin.message = self._pin_message(None)
        self._go("pin")
        self._start_timer(MAINTENANCE_IDLE_S, self.show_question)

    def _pin_message(self, result: PinResult | None) -> str:
        if not self.pinlock.enabled or result is PinResult.disabled:
            return _("No maintenance PIN is configured.")
        locked = self.pinlock.locked_for()
        if locked > 0:
            return _("Locked. Try again in {seconds} s.").format(seconds=math.ceil(locked))
        if result is PinResult.wrong:
            return _("Wrong PIN. Tries left: {tries}").format(tries=self.pinlock.tries_left)
        return ""

    def pin_key(self, digit: str) -> None:
        pin = self.screen("pin")
        if len(pin.entered) < 12:
            pin.entered += digit

    def pin_clear(self) -> None:
        self.screen("pin").entered = ""

    def pin_submit(self) -> PinResult:
        pin = self.screen("pin")
        result = self.pinlock.check(pin.entered)
        pin.entered = ""
        if result is PinResult.ok:
            self.show_maintenance()
        else:
            pin.message = self._pin_message(result)
        return result

    def show_maintenance(self) -> None:
        screen = self.screen("maintenance")
        screen.message = ""
        self.refresh_maintenance()
        self._go("maintenance")
        self._start_timer(MAINTENANCE_IDLE_S, self.show_question)

    def refresh_maintenance(self) -> None:
        from kiosk.status import device_status
        from kiosk.ui import maintenance as maint  # the technician's screens: not needed at start

        cfg = self.config_now()
        info = device_status(self.device_config, self.store)
        counts, filtered, scale = self.store.today_counts(cfg.timezone)
        self.screen("maintenance").rows = maint.status_rows(info, counts, filtered, scale, maint.network_address())

    def sync_now(self) -> None:
        """Ask the sync agent to sync at once; never waits for it."""
        self.store.request_sync()
        if self.manager_current == "maintenance":
            self.screen("maintenance").message = _("Sync requested.")

    def show_test(self) -> None:
        self.screen("test").message = ""
        self._go("test")
        self._start_timer(MAINTENANCE_IDLE_S, self.show_question)

    def test_press(self, mood: int, button: bool = False) -> None:
        """Button test: show which face or button was pressed (not recorded; GPIO presses are voided)."""
        screen = self.screen("test")
        text = _("Button {number} works.") if button else _("Face {number} works.")
        screen.message = text.format(number=mood)
        faces = screen.ids.faces.faces
        if 1 <= mood <= len(faces):
            face = faces[mood - 1]
            face.highlight = True
            Clock.schedule_once(lambda dt: setattr(face, "highlight", False), 0.6)


def _load_kv(path: Path) -> None:
    """Load a .kv file's rules once per process (later apps reuse them)."""
    if str(path) not in Builder.files:
        Builder.load_file(str(path))


def create_app(config: DeviceConfig, *, store: Store | None = None,
               store_config: Callable[[], StoreConfig] | None = None, clock: Callable | None = None,
               time_scale: float = 1.0, use_panel: bool = True, backlight: Backlight | None = None,
               pin_clock: Callable[[], float] = time.monotonic) -> HymyApp:
    """A fresh kiosk app for ``config``: its own store (``config.store_path``, opened once the first
    frame shows), cached store config and clock unless given. Nothing is shown until it runs."""

    def open_store() -> Store:
        if store is not None:
            return store
        from kiosk.store import open_store as open_or_defer

        return open_or_defer(config.store_path)

    store_config = store_config or StoreConfigCache(config.store_config_path)
    clock = clock or SystemClock.for_config(config.device)
    return HymyApp(config, open_store=open_store, store_config=store_config, clock=clock,
                   time_scale=time_scale, use_panel=use_panel, backlight=backlight, pin_clock=pin_clock)


def run_kiosk(config: DeviceConfig) -> None:
    """``hymy kiosk``: run the touchscreen until stopped (systemd restarts it if it hangs)."""
    app = create_app(config)
    try:
        app.run()
    finally:
        app.shutdown()
        notify.stopping()
        if app._store is not None:
            app._store.close()
