"""Render every kiosk screen in every language to PNG files: ``python -m kiosk.ui.screenshots OUTDIR``.

Two display sizes: 800x480 (the official 7" touch display) and 720x1280 portrait (Touch Display 2).
Each size runs in its own process (Kivy makes one window per process, sized at creation), headless
through SDL2's offscreen driver. Files: ``OUTDIR/kiosk-<W>x<H>-<lang>-<screen>.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from hymy import children

SIZES = ((800, 480), (720, 1280))
#: ``thanks`` follows the most negative face (the apology), ``thanks-happy`` a very happy one (with
#: today's share of smiles); ``question-5`` is the question on five faces (three rows in portrait).
SCREENS = ("question", "question-5", "followup-reason", "followup-praise", "comment", "thanks", "thanks-happy",
           "closed", "pin", "maintenance", "test")


def demo_store_config(closed: bool = False, scale: int = 4):
    """A store config that exercises every screen: 6 reasons, praise, comments, today's result;
    ``scale`` faces (3, 4 or 5); ``closed``: closed all of today."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from hymy.hours import WEEKDAYS
    from hymy.protocol import StoreConfig, default_store_config

    data = default_store_config().model_dump(mode="json")
    data.update(
        store_name="Hymy Demo Market",
        reasons=data["reasons"] + [{"id": "staff", "texts": {"fi": "Henkilökunnan ystävällisyys",
                                                             "sv": "Personalens vänlighet",
                                                             "en": "Staff friendliness"}}],
        praise=[{"id": "cashier", "texts": {"fi": "Kassa", "sv": "Kassan", "en": "Cashier"}},
                {"id": "bakery", "texts": {"fi": "Leipomo", "sv": "Bageriet", "en": "Bakery"}},
                {"id": "deli", "texts": {"fi": "Palvelutiski", "sv": "Delikatessdisken", "en": "Deli counter"}}],
        followup={"1": "reason", "2": "reason", "4": "praise"},
        comments_enabled=True, show_today_result=True, response_interval_s=0,
    )
    data["question"]["scale"] = scale
    if closed:
        today = datetime.now(ZoneInfo(data["timezone"])).weekday()
        data["opening_hours"] = {WEEKDAYS[(today + 2) % 7]: ["08:00-21:00"]}
    return StoreConfig.model_validate(data)


def render_size(width: int, height: int, outdir: Path) -> list[Path]:
    """Render all screens at one size (call in a fresh process: it creates Kivy's window)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    data_dir = Path(tempfile.mkdtemp(prefix="hymy-shots-"))
    os.environ.setdefault("KIVY_HOME", str(data_dir / "kivy"))

    from kiosk.config import parse_config
    from kiosk.ui.window import configure

    cfg = parse_config({"device": {"data_dir": str(data_dir), "clock": "trust", "name": "kassa-2"},
                        "display": {"width": width, "height": height, "fullscreen": False, "maxfps": 60},
                        "server": {"url": "https://hymy.example.fi"}})
    configure(cfg.display)
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.i18n import LANGUAGES
    from kiosk.pinlock import hash_pin
    from kiosk.storeconfig import write_store_config
    from kiosk.ui.app import create_app

    cfg = cfg.model_copy(update={"maintenance": cfg.maintenance.model_copy(update={"pin_hash": hash_pin("1")})})
    write_store_config(cfg.store_config_path, demo_store_config())
    app = create_app(cfg, time_scale=10_000, use_panel=False)  # timers never fire while we pose
    app._run_prepare()
    for mood in [4] * 40 + [3] * 12 + [2] * 6 + [1] * 4:
        app.core.recorder.record(mood, "simulated")
    outdir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    stamp = [time.time_ns()]

    def use(config) -> None:
        """Pose with ``config``: the cache sees a new file (a new mtime, even within one clock tick)."""
        write_store_config(cfg.store_config_path, config)
        stamp[0] += 1_000_000
        os.utime(cfg.store_config_path, ns=(stamp[0], stamp[0]))
        app.flow.show_question(reset_lang=False)

    def frames(n: int = 4) -> None:
        for _ in range(n):
            EventLoop.idle()

    def shoot(lang: str, name: str) -> None:
        frames()
        target = outdir / f"kiosk-{width}x{height}-{lang}-{name}.png"
        made = Window.screenshot(name=str(outdir / "shot.png"))
        os.replace(made, target)
        written.append(target)

    for lang in LANGUAGES:
        app.flow.show_question()
        app.flow.set_lang(lang)
        shoot(lang, "question")
        use(demo_store_config(scale=5))
        shoot(lang, "question-5")
        use(demo_store_config())
        app.flow.press(1)
        shoot(lang, "followup-reason")
        app.flow.choose("queue")
        app.screen("comment").ids.comment.text = {"fi": "Kassalla oli pitkä jono", "sv": "Lång kö vid kassan",
                                                   "en": "Long queue at the checkout"}[lang]
        shoot(lang, "comment")
        app.flow.skip()
        shoot(lang, "thanks")
        app.flow.show_question(reset_lang=False)
        app.flow.press(4)
        shoot(lang, "followup-praise")
        app.flow.choose("bakery")
        app.flow.skip()
        shoot(lang, "thanks-happy")
        app.maintenance.open_pin_pad()
        app.maintenance.key("2")
        app.maintenance.submit()
        app.maintenance.key("1")
        app.maintenance.key("2")
        shoot(lang, "pin")
        app.maintenance.clear()
        app.maintenance.key("1")
        app.maintenance.submit()
        shoot(lang, "maintenance")
        app.maintenance.show_test()
        app.maintenance.test_press(3)
        shoot(lang, "test")
        use(demo_store_config(closed=True))
        shoot(lang, "closed")
        use(demo_store_config())
    app.dispatch("on_stop")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, nargs="?", default=Path("build/screenshots"))
    parser.add_argument("--size", help="render only WxH, in this process (used internally)")
    args = parser.parse_args(argv)
    if args.size:
        w, h = (int(v) for v in args.size.lower().split("x"))
        for path in render_size(w, h, args.outdir):
            print(path)
        return 0
    status = 0
    for w, h in SIZES:
        run = children.run([sys.executable, "-m", "kiosk.ui.screenshots", str(args.outdir), "--size", f"{w}x{h}"])
        status = status or run.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
