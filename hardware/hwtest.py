"""The technician's self-test (``hymy hwtest``): every button, every LED, the staff lamp, one table.

It asks for each button in turn by colour and face ("press the green button (very happy)"),
lights that button's LED when the press comes and asks whether it lit, flags a wrong button (swapped
wires) or a button that never comes (a timeout: broken wire, bad switch), then tests the staff lamp
or buzzer. It never touches the store: presses here are not customers' presses.

The questions go through a ``HwTestUI`` so the same test runs at a terminal (``ConsoleUI``) and in CI
(``AutoUI``: gpiozero's MockFactory, pressing the asked button itself and reading the LED pins back).
It is given the pin map and the question's scale; ``hymy hwtest`` (``kiosk.cli``) reads them from the
device config and the cached store config.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from hardware.debounce import Debouncer
from hardware.gpio import describe_gpio_error, mock_press, resolve_factory
from hardware.labels import button_colour, face_name
from hardware.pins import example_pins, scale_problems
from hymy.errors import HardwareError

#: Seconds to wait for each asked press before flagging the button as missing.
PRESS_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Check:
    """One row of the result table. ``pin`` is None for a check of the whole config."""

    pin: int | None
    part: str
    ok: bool
    detail: str = ""


class HwTestUI(Protocol):
    def say(self, text: str) -> None: ...

    def ask_press(self, index: int, pin: int) -> None:
        """The prompt for button ``index`` (GPIO ``pin``) was shown; a person presses now."""

    def confirm(self, question: str, pin: int) -> bool:
        """A yes/no question about output ``pin`` (LED lit? lamp on?)."""


@dataclass(frozen=True)
class Button:
    index: int
    pin: int
    led: int | None
    colour: str
    face: str

    @property
    def name(self) -> str:
        return f"{self.colour} button ({self.face})"


def plan(pins, scale: int) -> list[Button]:
    """The buttons to ask for, in order, with their LED pin, colour and face name."""
    n = len(pins.buttons)
    face_scale = scale if n == scale else n
    return [
        Button(i, p, pins.leds[i] if i < len(pins.leds) else None, button_colour(i, n, pins.colours),
               face_name(i + 1, face_scale))
        for i, p in enumerate(pins.buttons)
    ]


def run_hwtest(pins, scale: int, ui: HwTestUI, *, pin_factory=None,
               timeout_s: float = PRESS_TIMEOUT_S) -> list[Check]:
    """Test every configured button, LED and the staff output; return one Check per part.

    ``pins``: a ``hardware.pins.PinsSection``; ``scale``: faces of the current question.
    Raises HardwareError (in plain words) when GPIO cannot be used at all.
    """
    from gpiozero import LED, ButtonBoard

    checks: list[Check] = [Check(None, "pins.buttons", False, p) for p in scale_problems(list(pins.buttons), scale)]
    buttons = plan(pins, scale)
    if not buttons and pins.staff_alert is None:
        return [*checks, Check(None, "pins", False, "no buttons and no staff lamp configured: nothing to test")]
    try:
        factory = resolve_factory(pin_factory)
        board = ButtonBoard(*pins.buttons, pull_up=True, bounce_time=None, pin_factory=factory) if buttons else None
        leds = [LED(b.led, pin_factory=factory) if b.led is not None else None for b in buttons]
    except Exception as exc:
        raise HardwareError(f"cannot use GPIO: {describe_gpio_error(exc)}") from None
    presses: queue.Queue[int] = queue.Queue()
    try:
        if board is not None:
            _listen(board, presses, pins.bounce_ms / 1000)
        for b in buttons:
            checks += _test_button(b, buttons, leds[b.index], presses, ui, timeout_s)
    finally:
        if board is not None:
            board.close()
        for led in leds:
            if led is not None:
                led.close()
    if pins.staff_alert is not None:
        checks.append(_test_staff_alert(pins.staff_alert, pins.staff_alert_kind, ui, factory))
    return checks


def _listen(board, presses: queue.Queue, bounce_s: float) -> None:
    lock = threading.Lock()
    filters = [Debouncer(bounce_s) for _ in board]

    def edge(i: int, pressed: bool) -> None:
        with lock:
            if filters[i].edge(pressed, time.monotonic()):
                presses.put(i)

    for i, button in enumerate(board):
        button.when_pressed = lambda i=i: edge(i, True)
        button.when_released = lambda i=i: edge(i, False)


def _drain(q: queue.Queue) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return


def _test_button(b: Button, all_buttons: list[Button], led, presses: queue.Queue, ui: HwTestUI,
                 timeout_s: float) -> list[Check]:
    _drain(presses)
    ui.say(f"Press the {b.name} (GPIO{b.pin}) ...")
    ui.ask_press(b.index, b.pin)
    try:
        got = presses.get(timeout=timeout_s)
    except queue.Empty:
        got = None
    if got == b.index:
        result = Check(b.pin, f"button {b.index + 1}: {b.name}", True, "pressed")
        ui.say("  ok")
    elif got is None:
        result = Check(b.pin, f"button {b.index + 1}: {b.name}", False,
                       f"no press within {timeout_s:g} s: check the switch and its wires to GPIO{b.pin} and ground")
        ui.say(f"  no press within {timeout_s:g} s")
    else:
        other = all_buttons[got]
        result = Check(b.pin, f"button {b.index + 1}: {b.name}", False,
                       f"the {other.name} on GPIO{other.pin} answered instead: wires swapped, or wrong button pressed")
        ui.say(f"  that was the {other.name} (GPIO{other.pin})")
    out = [result]
    if led is not None:
        led.on()
        try:
            lit = ui.confirm(f"Is the LED of the {b.name} lit?", b.led)
        finally:
            led.off()
        out.append(Check(b.led, f"LED {b.index + 1}: {b.colour}", lit,
                         "lit" if lit else f"not lit: check the LED, its resistor and wires to GPIO{b.led}"))
    return out


def _test_staff_alert(pin: int, kind: str, ui: HwTestUI, factory) -> Check:
    from hardware.staffalert import StaffAlert

    try:
        alert = StaffAlert(pin, kind, pin_factory=factory)
    except Exception as exc:
        return Check(pin, f"staff {kind}", False, describe_gpio_error(exc))
    try:
        alert.on()
        ok = ui.confirm(f"Is the staff {kind} {'sounding' if kind == 'buzzer' else 'on'}?", pin)
    finally:
        alert.close()
    return Check(pin, f"staff {kind}", ok, "works" if ok else f"not {'sounding' if kind == 'buzzer' else 'on'}: "
                 f"check the {kind}, its driver transistor or relay and wires to GPIO{pin}")


def passed(checks: list[Check]) -> bool:
    return bool(checks) and all(c.ok for c in checks)


def format_table(checks: list[Check]) -> str:
    """The pass/fail table per pin, as plain text for a terminal."""
    rows = [("PIN", "PART", "RESULT", "DETAIL")]
    rows += [(f"GPIO{c.pin}" if c.pin is not None else "-", c.part, "PASS" if c.ok else "FAIL", c.detail)
             for c in checks]
    widths = [max(len(r[k]) for r in rows) for k in range(3)]
    lines = ["  ".join(r[k].ljust(widths[k]) for k in range(3)) + "  " + r[3] for r in rows]
    verdict = "PASS: every part works" if passed(checks) else \
        f"FAIL: {sum(not c.ok for c in checks)} of {len(checks)} checks failed"
    return "\n".join([*lines, "", verdict])


class ConsoleUI:
    """A technician at a terminal: prompts on stdout, yes/no questions answered with the keyboard."""

    def __init__(self, echo=print, ask=None):
        self.echo = echo
        self.ask = ask or _ask_yes_no

    def say(self, text: str) -> None:
        self.echo(text)

    def ask_press(self, index: int, pin: int) -> None:
        pass

    def confirm(self, question: str, pin: int) -> bool:
        return self.ask(question)


def _ask_yes_no(question: str) -> bool:
    import click

    return click.confirm(question, default=True)


class AutoUI:
    """CI and development: presses each asked button on gpiozero's MockFactory and reads outputs back.

    ``press_for(index, pin)`` -> the pin to press (default: the asked one; None presses nothing), so
    tests can play a technician with swapped wires or a dead button on the very same path.
    ``lit(pin)`` -> whether an output pin reads as on (default: the mock pin's state).
    """

    def __init__(self, factory, echo=print, press_for=None, lit=None, hold_s: float = 0.01):
        self.factory = factory
        self.echo = echo
        self.press_for = press_for or (lambda index, pin: pin)
        self.lit = lit or (lambda pin: bool(self.factory.pin(pin).state))
        self.hold_s = hold_s

    def say(self, text: str) -> None:
        self.echo(text)

    def ask_press(self, index: int, pin: int) -> None:
        """Press (and release) the button right here, before the test starts waiting for it."""
        target = self.press_for(index, pin)
        if target is not None:
            mock_press(self.factory, target, hold_s=self.hold_s)

    def confirm(self, question: str, pin: int) -> bool:
        ok = self.lit(pin)
        self.echo(f"{question} {'yes' if ok else 'no'} (GPIO{pin} reads {'on' if ok else 'off'})")
        return ok


def check_hardware(pins, scale: int, *, auto: bool = False, timeout_s: float = PRESS_TIMEOUT_S, echo=print,
                   pin_factory=None, ui: HwTestUI | None = None) -> list[Check]:
    """The whole self-test of ``hymy hwtest``: ``pins`` (a ``hardware.pins.PinsSection``) for a question
    of ``scale`` faces (3, 4 or 5); returns the checks.

    A technician answers at the terminal (``ConsoleUI``, ``echo`` prints) unless ``ui`` is given.
    ``auto`` uses a fresh MockFactory (unless ``pin_factory`` is given) and ``AutoUI``; a pin map with
    no buttons and no lamp is then tested with the example pin map, so CI exercises the whole path.
    ``timeout_s``: seconds to wait for each press (default 20).
    """
    if not auto:
        return run_hwtest(pins, scale, ui or ConsoleUI(echo=echo), pin_factory=pin_factory, timeout_s=timeout_s)
    from gpiozero.pins.mock import MockFactory

    factory = pin_factory or MockFactory()
    if not pins.buttons and pins.staff_alert is None:
        echo("No pins configured: testing the example pin map of docs/hardware.md on mock pins.")
        pins, scale = example_pins(), 4
    try:
        return run_hwtest(pins, scale, ui or AutoUI(factory, echo=echo), pin_factory=factory, timeout_s=timeout_s)
    finally:
        if pin_factory is None:
            factory.close()
