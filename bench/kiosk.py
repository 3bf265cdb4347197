"""Kiosk screen benchmark: cold start, touch -> thank-you latency and peak memory, against a bare
one-button Kivy app started the same way in the same run.

    python bench/kiosk.py [--quick]

Each app runs in its own fresh process (headless SDL2 + Mesa unless SDL_VIDEODRIVER says otherwise):

- cold start: from spawning the process to its first frame on screen (the kiosk's first frame is
  the question with the faces, ready for a touch); median of several starts;
- touch latency: a real touch (down + up through Kivy's input dispatch) to the first frame that
  shows the result: the kiosk's thank-you screen (after committing the press to a real SQLite
  store with synchronous=FULL) or the bare app's changed button label; p50 and p99;
- peak RSS (ru_maxrss) of the process after the touches.

Frames are paced by the display config's maxfps (30, as on a Pi), for both apps.
Targets (issue 4): start within 1.5x the bare app, RSS within 1.3x, touch p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timings import percentile  # bench/timings.py: this folder is sys.path[0] until below

ROOT = Path(__file__).resolve().parent.parent
# This file is bench/kiosk.py: keep its folder off sys.path so ``import kiosk`` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from hymy import children  # noqa: E402

WIDTH, HEIGHT, MAXFPS = 800, 480, 30


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SDL_VIDEODRIVER", "offscreen")
    env.update(KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1",
               KIVY_HOME=tempfile.mkdtemp(prefix="hymy-bench-kivy-"))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


# --------------------------------------------------------------------------- child side


def _child(kind: str, touches: int) -> None:
    if kind == "kiosk":
        from kiosk.config import parse_config
        from kiosk.ui.window import configure

        data_dir = tempfile.mkdtemp(prefix="hymy-bench-")
        cfg = parse_config({"device": {"data_dir": data_dir, "clock": "trust"},
                            "display": {"width": WIDTH, "height": HEIGHT, "fullscreen": False, "maxfps": MAXFPS}})
        configure(cfg.display)
        from kiosk.ui.app import create_app

        app = create_app(cfg, use_panel=False)
    else:
        from kivy.config import Config

        for key, value in {"width": WIDTH, "height": HEIGHT, "fullscreen": "0", "maxfps": MAXFPS}.items():
            Config.set("graphics", key, str(value))
        from kivy.app import App
        from kivy.uix.button import Button

        class Bare(App):
            def build(self):
                button = Button(text="Press me", font_size=40)
                button.bind(on_press=lambda b: setattr(b, "text", "Thank you!"))
                return button

        app = Bare()
    from kivy.base import EventLoop
    from kivy.core.window import Window

    flips: list[float] = []
    Window.bind(on_flip=lambda *_: flips.append(time.perf_counter()))
    app._run_prepare()
    while not flips:
        EventLoop.idle()
    print("READY", flush=True)
    if not touches:
        return
    for _ in range(10):  # settle: the kiosk opens its store right after the first frame
        EventLoop.idle()
    rss_start_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    frames_start = len(flips)
    from kivy.tests.common import UnitTestTouch

    if kind == "kiosk":
        target = app.screen("question").ids.faces.faces[3]

        def reset():
            app.flow.show_question()

        def done():
            return app.manager_current == "thanks"
    else:
        target = app.root

        def reset():
            app.root.text = "Press me"

        def done():
            return app.root.text == "Thank you!"

    latencies = []
    for _ in range(touches):
        reset()
        for _ in range(3):
            EventLoop.idle()
        x, y = target.to_window(*target.center)
        seen = len(flips)
        t0 = time.perf_counter()
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        while not (done() and len(flips) > seen):
            EventLoop.idle()
        latencies.append(flips[seen] - t0)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps({"latencies": latencies, "rss_mb": rss_mb, "rss_start_mb": rss_start_mb,
                                  "frames": len(flips) - frames_start}), flush=True)


# --------------------------------------------------------------------------- parent side


def _run(kind: str, touches: int) -> tuple[float, dict | None]:
    t0 = time.perf_counter()
    proc = children.popen([sys.executable, __file__, "--child", kind, "--touches", str(touches)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    start = None
    result = None
    for line in proc.stdout:
        if line.startswith("READY") and start is None:
            start = time.perf_counter() - t0
        elif line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    proc.wait(timeout=300)
    if proc.returncode != 0 or start is None:
        raise SystemExit(f"{kind} child failed ({proc.returncode}):\n{proc.stderr.read()[-3000:]}")
    return start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer starts and touches (about half a minute)")
    parser.add_argument("--child", choices=("bare", "kiosk"), help=argparse.SUPPRESS)
    parser.add_argument("--touches", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.touches)
        return 0
    starts = 3 if args.quick else 7
    touches = 60 if args.quick else 300
    start_times: dict[str, list[float]] = {"bare": [], "kiosk": []}
    for _ in range(starts):  # interleaved so both see the same machine state
        for kind in ("bare", "kiosk"):
            start_times[kind].append(_run(kind, 0)[0])
    measured = {}
    for kind in ("bare", "kiosk"):
        first, result = _run(kind, touches)
        start_times[kind].append(first)
        lat = [v * 1000 for v in result["latencies"]]
        measured[kind] = {"start_s": percentile(start_times[kind], 50), "rss_mb": result["rss_mb"],
                          "rss_start_mb": result["rss_start_mb"], "frames": result["frames"],
                          "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99), "n": len(lat)}
    b, k = measured["bare"], measured["kiosk"]
    print(f"kiosk screen benchmark ({WIDTH}x{HEIGHT}, maxfps {MAXFPS}, SDL_VIDEODRIVER="
          f"{os.environ.get('SDL_VIDEODRIVER', 'offscreen')}, {starts + 1} starts, {touches} touches each)")
    print(f"{'':30}{'bare app':>12}{'kiosk':>12}{'ratio':>9}   target")
    rows = [
        ("cold start to first frame", "start_s", "s", 1.5),
        ("peak RSS after first frame", "rss_start_mb", "MB", 1.3),
        ("peak RSS after the touches", "rss_mb", "MB", 1.3),
        ("frames drawn for the touches", "frames", "  ", None),
        ("touch -> result frame p50", "p50_ms", "ms", None),
        ("touch -> result frame p99", "p99_ms", "ms", None),
    ]
    for label, key, unit, limit in rows:
        ratio = k[key] / b[key] if b[key] else float("nan")
        target = f"<= {limit}x: {'met' if ratio <= limit else 'NOT met'}" if limit else ""
        if key == "p99_ms":
            target = f"< 100 ms: {'met' if k[key] < 100 else 'NOT met'}"
        print(f"{label:30}{b[key]:>10.3f}{unit:>2}{k[key]:>10.3f}{unit:>2}{ratio:>8.2f}x   {target}")
    per_frame = (b["rss_mb"] - b["rss_start_mb"]) / max(1, b["frames"])
    print(f"note: the bare app's RSS grew {per_frame * 1024:.0f} KB per drawn frame: the offscreen SDL2 + Mesa "
          "llvmpipe stack keeps memory per frame, so peak RSS after touches follows the frame count "
          "(see docs/kiosk.md).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
