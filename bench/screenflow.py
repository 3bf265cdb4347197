"""Screen-flow benchmark: the cost of one transition of the kiosk's pure state machine, no Kivy.

    python bench/screenflow.py [--quick]

A real ``KioskCore`` (no GPIO) on a real store in a temp dir with the default store config. Printed
per transition (median of several rounds, microseconds):

- a customer who records nothing more: a stored press arrives (``after_response``: the thanks, or
  the follow-up and then Skip), and the thank-you times out back to the question;
- a language switch (``set_lang``);
- a touch on a face (``press``): includes committing the press to SQLite (synchronous=FULL), which is
  the I/O the flow asks for, not the flow itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))


def per_call_us(fn, n: int, rounds: int) -> float:
    """Median over ``rounds`` of the mean time of ``n`` calls of ``fn``, in microseconds."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a few seconds)")
    args = parser.parse_args(argv)
    n, rounds, presses = (200, 3, 50) if args.quick else (2000, 7, 300)

    from kiosk.assembly import KioskCore
    from kiosk.config import parse_config
    from kiosk.screenflow import ScreenFlow

    data_dir = tempfile.mkdtemp(prefix="hymy-bench-flow-")
    core = KioskCore(parse_config({"device": {"data_dir": data_dir, "clock": "trust"}}), gpio=False)
    flow = ScreenFlow(core, core.store_config, core.clock)
    flow.show_question()
    unhappy, happy = core.record(1), core.record(4)

    def customer(response) -> None:
        flow.after_response(response)
        if flow.followup is not None:
            flow.skip()
        flow.timeout(flow.timer.token)

    langs = iter(["sv", "en", "fi"] * (n * rounds))
    rows = [
        ("happy press -> thanks -> question", per_call_us(lambda: customer(happy), n, rounds) / 2),
        ("unhappy -> follow-up -> skip -> question", per_call_us(lambda: customer(unhappy), n, rounds) / 3),
        ("language switch", per_call_us(lambda: flow.set_lang(next(langs)), n, rounds)),
    ]

    def touch() -> None:
        flow.show_question()
        flow.press(4, "simulated")

    rows.append(("touch on a face (with the SQLite commit)", per_call_us(touch, presses, 3)))
    core.close()
    print(f"screen flow benchmark (pure state machine, no Kivy; {n} calls x {rounds} rounds)")
    for label, us in rows:
        print(f"{label:45}{us:>10.1f} us per transition")
    return 0


if __name__ == "__main__":
    sys.exit(main())
