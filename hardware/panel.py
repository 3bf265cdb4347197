"""The smiley button panel: arcade buttons (gpiozero ``ButtonBoard``) and their LEDs (``LEDBoard``).

One press of a button is one call of the capture core (``Recorder.record(mood, "button")``), made
in gpiozero's callback thread; the button's LED answers once the press is committed (bright blink,
or a dim double blink for a ``repeat``), then ``on_press(response)`` lets a screen thank the
customer. Outside opening hours the LEDs are dark (presses are still recorded, flagged ``closed``).

The maintenance gesture: hold the two *outer* buttons together. After ``identify_hold_s`` (5 s) the
panel enters identify mode (LEDs chase, ``on_identify(True)``) and voids the two presses that began
the hold (``Recorder.void``: a ``void`` follow-up, the press is kept but never counted); after
``sync_hold_s`` (15 s) it asks for a sync now. A long hold of one button is an ordinary press.

Wiring: each button between its GPIO and ground, the Pi's internal pull-up on (pressed = low).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from hardware import effects
from hardware.debounce import Debouncer
from hardware.gpio import describe_gpio_error, is_mock, mock_press, prepare_mock_pwm, resolve_factory
from hardware.lights import Base, PanelLights
from hardware.pins import scale_problems
from hymy.errors import ConfigError, HardwareError
from hymy.hours import is_open
from hymy.protocol import Flag, Response, Source

log = logging.getLogger(__name__)

#: Seconds both outer buttons must be held to enter identify mode.
IDENTIFY_HOLD_S = 5.0
#: Seconds both outer buttons must be held to ask the sync agent to sync now.
SYNC_HOLD_S = 15.0
#: Seconds identify mode lasts after the outer buttons are let go (presses meanwhile are voided).
IDENTIFY_LINGER_S = 10.0
#: How often the panel re-checks the opening hours for its LEDs (seconds; None = only on presses).
HOURS_CHECK_S = 30.0


class SmileyPanel:
    """Buttons (BCM pins, most negative first) -> mood 1..scale; optional LED per button.

    ``pins``: the device config's ``PinsSection``; ``recorder``: a ``kiosk.capture.Recorder``;
    ``scale``: faces of the current question (must equal the number of buttons).
    ``on_press(response)``: after the press is committed (gpiozero's thread; Kivy code must hop to
    its main thread). ``on_identify(active)``: identify mode entered (True) / left (False).
    ``on_sync_now()``: the 15 s hold; default ``store.request_sync()``.
    The timings (seconds) are keyword arguments so tests can run the gesture quickly; ``clock`` is
    the monotonic clock the debounce reads (seconds).
    """

    def __init__(self, pins, recorder, scale: int, *,
                 pin_factory=None,
                 on_press: Callable[[Response], None] | None = None,
                 on_identify: Callable[[bool], None] | None = None,
                 on_sync_now: Callable[[], None] | None = None,
                 identify_hold_s: float = IDENTIFY_HOLD_S,
                 sync_hold_s: float = SYNC_HOLD_S,
                 identify_linger_s: float = IDENTIFY_LINGER_S,
                 hours_check_s: float | None = HOURS_CHECK_S,
                 clock: Callable[[], float] = time.monotonic):
        if not pins.buttons:
            raise ConfigError("pins.buttons: empty; give the BCM pins of the smiley buttons, most negative first")
        problems = scale_problems(list(pins.buttons), scale)
        if problems:
            raise ConfigError(problems)
        from gpiozero import ButtonBoard, LEDBoard

        self.pins = pins
        self.recorder = recorder
        self.scale = scale
        self.on_press = on_press
        self.on_identify = on_identify
        self.on_sync_now = on_sync_now
        self.identify_hold_s = identify_hold_s
        self.sync_hold_s = sync_hold_s
        self.identify_linger_s = identify_linger_s
        self._clock = clock
        self.factory = resolve_factory(pin_factory)
        if pins.pwm and pins.leds:
            prepare_mock_pwm(self.factory, pins.leds)
        # bounce_time=None: the Debouncer below filters chatter the same way on every pin factory.
        self.buttons = ButtonBoard(*pins.buttons, pull_up=True, bounce_time=None, pin_factory=self.factory)
        try:
            self.leds = LEDBoard(*pins.leds, pwm=pins.pwm, pin_factory=self.factory) if pins.leds else None
        except Exception:
            self.buttons.close()
            raise
        self.lights = PanelLights(self.leds, pins.pwm)
        self._lock = threading.RLock()
        self._debounce = [Debouncer(pins.bounce_ms / 1000) for _ in pins.buttons]
        self._last_press_id: list[str | None] = [None] * len(pins.buttons)
        self._voided: set[str] = set()
        self._open = True
        self._identify = False
        self._gesture = 0  # token of the current two-button hold; 0 = none
        self._timers: list[threading.Timer] = []
        self._closed = False
        self._misfit: int | None = None
        self._stop = threading.Event()
        #: Presses recorded by this panel (counted or not), for status and tests.
        self.presses = 0
        for i, button in enumerate(self.buttons):
            button.when_pressed = lambda i=i: self._edge(i, True)
            button.when_released = lambda i=i: self._edge(i, False)
        self.check_hours()
        self._hours_thread = None
        if hours_check_s:
            self._hours_thread = threading.Thread(target=self._hours_loop, args=(hours_check_s,),
                                                  name="hymy-panel-hours", daemon=True)
            self._hours_thread.start()

    # ------------------------------------------------------------------ public

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def identifying(self) -> bool:
        """True while identify mode is on (LEDs chase)."""
        return self._identify

    def set_open(self, is_open: bool) -> None:
        """Outside opening hours the LEDs are off (presses are still recorded, flagged ``closed``)."""
        with self._lock:
            self._open = bool(is_open)
            self.lights.set_base(self._base())

    def check_hours(self) -> bool:
        """Apply the store config's opening hours at the recorder's clock; returns whether open."""
        try:
            cfg = self.recorder.config()
            now = self.recorder.clock().wall
            open_now = is_open(cfg.opening_hours, cfg.timezone, now)
        except Exception:
            log.exception("cannot check the opening hours for the button LEDs")
            return self._open
        self.set_open(open_now)
        return open_now

    def press(self, index: int, hold_s: float = 0.0) -> None:
        """Development only (mock pins): press and release button ``index`` (0-based), e.g. demo keys 1..n."""
        if not is_mock(self.factory):
            raise HardwareError("SmileyPanel.press: only mock pins can be pressed from software "
                                "(GPIOZERO_PIN_FACTORY=mock)")
        mock_press(self.factory, self.pins.buttons[index], hold_s)

    def close(self) -> None:
        """Release every pin and stop the LED and hours threads (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._gesture = 0
            for t in self._timers:
                t.cancel()
            self._timers = []
        self._stop.set()
        self.lights.close()
        for board in (self.buttons, self.leds):
            if board is not None:
                try:
                    board.close()
                except Exception:
                    log.debug("closing a GPIO board failed", exc_info=True)
        if self._hours_thread is not None and self._hours_thread is not threading.current_thread():
            self._hours_thread.join(timeout=2)

    def __enter__(self) -> SmileyPanel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ edges and presses

    def _edge(self, index: int, pressed: bool) -> None:
        t = self._clock()
        with self._lock:
            if self._closed:
                return
            accepted = self._debounce[index].edge(pressed, t)
            self._update_gesture()
        if accepted:
            self._press(index)

    def _fits_question(self) -> bool:
        """Whether the buttons still map onto the question (the server may change its scale any time).

        Button ``i`` means mood ``i + 1`` only while there is one button per face; otherwise a press
        would be stored with the wrong meaning, so it is refused (logged once per change).
        """
        try:
            scale = self.recorder.config().question.scale
        except Exception:
            return True  # the recorder reports its own config problems
        problems = scale_problems(list(self.pins.buttons), scale)
        if problems:
            if self._misfit != scale:
                log.error("%s; button presses are not recorded until it fits", problems[0])
            self._misfit = scale
            return False
        if self._misfit is not None:
            log.warning("the buttons fit the question again (%d faces); recording presses", scale)
        self._misfit = None
        self.scale = scale
        return True

    def _press(self, index: int) -> None:
        if not self._fits_question():
            return
        try:
            response = self.recorder.record(index + 1, Source.button)
        except Exception:  # a bad scale or a broken store must not kill gpiozero's callback thread
            log.exception("recording the press of button %d failed", index + 1)
            return
        self.presses += 1
        with self._lock:
            self._last_press_id[index] = response.id
            identify = self._identify
        if identify:
            self._void([response.id])  # a technician's press during identify mode
            return
        if Flag.closed in response.flags:
            self.set_open(False)
        else:
            if not self._open:
                self.set_open(True)
            n = self.lights.n
            if n:
                if Flag.repeat in response.flags:
                    self.lights.play(effects.repeat(n, index, self.pins.pwm), "repeat")
                else:
                    self.lights.play(effects.accept(n, index, self.pins.pwm), "accept")
        if self.on_press is not None:
            try:
                self.on_press(response)
            except Exception:
                log.exception("on_press callback failed")

    def _void(self, ids) -> None:
        with self._lock:  # the gesture timer and gpiozero's thread may both get here
            todo = [rid for rid in dict.fromkeys(ids) if rid is not None and rid not in self._voided]
            self._voided.update(todo)
        for rid in todo:
            try:
                self.recorder.void(rid)
            except Exception:
                log.exception("voiding press %s failed", rid)

    # ------------------------------------------------------------------ maintenance gesture

    def _outer_held(self) -> bool:
        d = self._debounce
        return len(d) >= 2 and d[0].pressed and d[-1].pressed

    def _update_gesture(self) -> None:
        """With the lock held, after every edge: start or end the two-outer-buttons hold."""
        held = self._outer_held()
        if held and not self._gesture:
            self._gesture = time.monotonic_ns()
            token = self._gesture
            self._cancel_timers()
            self._later(self.identify_hold_s, self._gesture_identify, token)
            self._later(self.sync_hold_s, self._gesture_sync, token)
        elif not held and self._gesture:
            self._gesture = 0
            self._cancel_timers()
            if self._identify:
                self._later(self.identify_linger_s, self._leave_identify, 0)

    def _later(self, delay: float, fn, token: int) -> None:
        t = threading.Timer(delay, fn, args=(token,))
        t.daemon = True
        t.name = "hymy-panel-gesture"
        self._timers.append(t)
        t.start()

    def _cancel_timers(self) -> None:
        for t in self._timers:
            t.cancel()
        self._timers = []

    def _gesture_identify(self, token: int) -> None:
        with self._lock:
            if self._closed or token != self._gesture:
                return
            was = self._identify
            self._identify = True
            ids = [self._last_press_id[0], self._last_press_id[-1]]
            self.lights.set_base(Base.chase)
        log.info("maintenance gesture: identify mode (the two presses that began it are voided)")
        self._void(ids)
        if not was and self.on_identify is not None:
            try:
                self.on_identify(True)
            except Exception:
                log.exception("on_identify callback failed")

    def _gesture_sync(self, token: int) -> None:
        with self._lock:
            if self._closed or token != self._gesture:
                return
        log.info("maintenance gesture: sync now")
        try:
            if self.on_sync_now is not None:
                self.on_sync_now()
            else:
                self.recorder.store.request_sync()
        except Exception:
            log.exception("sync-now request failed")
            return
        n = self.lights.n
        if n:  # all LEDs flash once: "heard you", then the chase goes on
            self.lights.play([effects.Frame((1.0,) * n, 0.5), effects.Frame((0.0,) * n, 0.0)], "sync")

    def _leave_identify(self, _token: int) -> None:
        with self._lock:
            if self._closed or self._gesture or not self._identify:
                return
            self._identify = False
            self.lights.set_base(self._base())
        log.info("identify mode ended")
        if self.on_identify is not None:
            try:
                self.on_identify(False)
            except Exception:
                log.exception("on_identify callback failed")

    # ------------------------------------------------------------------ lights and hours

    def _base(self) -> Base:
        if self._identify:
            return Base.chase
        if not self._open:
            return Base.dark
        if self.pins.pwm and self.pins.idle_pulse:
            return Base.pulse
        return Base.dark

    def _hours_loop(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.check_hours()


def open_panel(config, recorder, scale: int, **kwargs) -> SmileyPanel | None:
    """The configured panel, or None when there are no buttons.

    ``config``: a ``kiosk.config.DeviceConfig``; ``kwargs`` go to ``SmileyPanel``. GPIO that cannot
    be used (no GPIO chip or pin factory, a pin busy) raises HardwareError in plain words; what that
    means is the caller's to say (the touchscreen kiosk keeps its screen, the buttons-only kiosk has
    nothing left to record with). A pin map that does not fit the question (fewer buttons than faces)
    raises ConfigError naming ``pins.buttons``.
    """
    pins = config.pins
    if not pins.buttons:
        log.info("no smiley buttons configured (pins.buttons is empty)")
        return None
    problems = scale_problems(list(pins.buttons), scale)
    if problems:
        raise ConfigError(problems, str(config.source) if config.source else None)
    try:
        return SmileyPanel(pins, recorder, scale, **kwargs)
    except ConfigError:
        raise
    except Exception as exc:  # BadPinFactory, no /dev/gpiochip*, pin busy...
        raise HardwareError(describe_gpio_error(exc)) from None
