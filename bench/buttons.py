"""Button benchmark: a GPIO edge to the committed press and to the LED lighting, against the store's commit.

    python bench/buttons.py [--quick] [--presses N] [--pwm] [--dir PATH]

All in this process, on the same file system, interleaved in rounds so disk noise hits both alike:

- **commit**: ``kiosk.store.Store.append(response)`` of a ready-made response into the same store
  (WAL, synchronous=FULL): the store's own commit time, the floor any press must pay;
- **edge->committed**: a falling edge on a gpiozero ``MockFactory`` pin of a real ``SmileyPanel``
  (ButtonBoard + LEDBoard) until ``Recorder``'s ``on_recorded`` runs after the commit: debounce,
  clock, store config (a file stat), flags, the response record and the commit;
- **edge->LED**: the same edge until the pressed button's LED pin changed to on (the mock pin's own
  timestamp of that change).

Times from ``time.monotonic`` (the clock MockPin stamps its changes with). Prints p50 / p99 / max in
milliseconds and the ratio edge->LED p99 / commit p99. Target (issue 3): below 2x. As with
bench/capture.py, on a Pi's SD card the commit is milliseconds and the ratio shrinks; on a fast
disk the Python layer shows.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

from timings import latency_table  # bench/timings.py: this folder is sys.path[0] until below

ROOT = Path(__file__).resolve().parent.parent
# This file is bench/buttons.py: keep its folder off sys.path so imports find the packages.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from gpiozero.pins.mock import MockFactory, MockPWMPin  # noqa: E402

from hardware import effects  # noqa: E402
from hardware.panel import SmileyPanel  # noqa: E402
from hymy.protocol import default_store_config  # noqa: E402
from kiosk.capture import Recorder, build_response  # noqa: E402
from kiosk.clock import SystemClock  # noqa: E402
from kiosk.config import parse_config  # noqa: E402
from kiosk.store import Store  # noqa: E402
from kiosk.storeconfig import StoreConfigCache, write_store_config  # noqa: E402

BUTTONS = [5, 6, 13, 19]
LEDS = [17, 27, 22, 23]


def run(presses: int, rounds: int, base: Path, pwm: bool) -> dict[str, list[float]]:
    cfg = default_store_config().model_copy(update={"response_interval_s": 0.0})
    write_store_config(base / "store-config.json", cfg, etag="bench")
    store = Store(base / "kiosk.db")
    clock = SystemClock(trust=False)
    committed: list[float] = []
    recorder = Recorder(store, StoreConfigCache(base / "store-config.json"), clock,
                        on_recorded=lambda _e: committed.append(time.monotonic()))
    factory = MockFactory(pin_class=MockPWMPin if pwm else None)
    pins = parse_config({"pins": {"buttons": BUTTONS, "leds": LEDS, "pwm": pwm, "idle_pulse": False}}).pins
    # Edges here come far faster than fingers: the debounce reads a clock that moves 100 ms per edge,
    # so it filters (and costs) as usual but never takes a bench press for contact chatter.
    ticks = itertools.count()
    panel = SmileyPanel(pins, recorder, 4, pin_factory=factory, hours_check_s=None,
                        clock=lambda: next(ticks) * 0.1)
    n = len(LEDS)
    timings: dict[str, list[float]] = {"commit": [], "edge->committed": [], "edge->LED": []}

    def press(i: int) -> None:
        panel.lights.play(effects.dark(n), "bench")  # LEDs off, so the press turns its LED on
        pin, led = factory.pin(BUTTONS[i]), factory.pin(LEDS[i])
        committed.clear()
        t0 = time.monotonic()
        pin.drive_low()
        assert led.state and committed, "the press did not commit or light its LED"
        timings["edge->committed"].append((committed[0] - t0) * 1000)
        timings["edge->LED"].append((led._last_change - t0) * 1000)
        pin.drive_high()

    def commit() -> None:
        response = build_response(3, "button", clock(), cfg, [])
        t0 = time.monotonic()
        store.append(response)
        timings["commit"].append((time.monotonic() - t0) * 1000)

    for k in range(20):  # warm-up: statements compile, files grow
        press(k % 4)
        commit()
    for name in timings:
        timings[name].clear()
    per_round = max(1, presses // rounds)
    for r in range(rounds):
        # one press, one commit, alternating (who goes first swaps each round): both see the same
        # spacing between fsyncs, which on some disks matters more than the work itself
        for k in range(per_round):
            if r % 2:
                commit()
                press(k % 4)
            else:
                press(k % 4)
                commit()
    panel.close()
    factory.close()
    store.close()
    return timings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (finishes in well under a minute)")
    ap.add_argument("--presses", type=int, default=None, help="presses per contender (default 5000, quick 1000)")
    ap.add_argument("--pwm", action="store_true", help="PWM LEDs (PWMLED on MockPWMPin) instead of plain LEDs")
    ap.add_argument("--dir", type=Path, default=None, help="directory on the disk to measure (default: a temp dir)")
    args = ap.parse_args(argv)
    presses = args.presses or (1000 if args.quick else 5000)
    rounds = 10
    with tempfile.TemporaryDirectory(prefix="hymy-bench-buttons-", dir=args.dir) as tmp:
        base = Path(tmp)
        timings = run(presses, rounds, base, args.pwm)
        fs = os.statvfs(base)
    print(f"button latency ({'PWM' if args.pwm else 'plain'} LEDs), {presses} presses and commits, interleaved "
          f"in {rounds} rounds, dir {base.parent} (block size {fs.f_bsize})")
    stats = latency_table(timings, 16)
    led, commit = stats["edge->LED"], stats["commit"]
    ratio = led.p99 / commit.p99
    print(f"ratio edge->LED / commit: p50 {led.p50 / commit.p50:.2f}x, p99 {ratio:.2f}x "
          f"(target p99 < 2x: {'met' if ratio < 2.0 else 'NOT met'})")
    print(f"LED after commit (edge->LED - edge->committed), p50: "
          f"{(led.p50 - stats['edge->committed'].p50) * 1000:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
