"""``hymy demo``: the whole system on one machine, as real processes on loopback.

A central server on a SQLite file with the demo's organisation (the story of ``hymy.demostory``: two
regions, three stores in two time zones, a regional manager), a kiosk with its screen and four buttons
on gpiozero's mock pins (pressed through the kiosk's press pipe, ``hardware.devpress``, so no display is
needed; with a display also keys 1-4 in its window), its sync agent enrolled through the real enrolment
API, and 30 days of the story's history with its past alerts, made through the real paths before the
processes start (``deploy.history``): the kiosk's own history through its capture core and its sync
agent, the other stores' through simulated devices and the device API, the alerts through the server's
alert engine. Ctrl-C stops everything.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from hymy import children
from hymy.invocation import hymy_command

#: Where the demo keeps its files (server database, kiosk data); made fresh at every start.
DEMO_DIR = Path(".hymy") / "demo"
DAYS = 30
#: The demo kiosk's mock buttons (BCM, most negative face first), their LEDs and the staff lamp.
BUTTONS = [5, 6, 13, 19]
LEDS = [12, 16, 20, 21]
STAFF_ALERT = 26

@dataclass
class Demo:
    """What ``setup`` made: where things are and how to log in."""

    base: Path
    port: int
    database_url: str
    kiosk_config: Path
    username: str
    password: str
    kiosk_store_id: str
    #: Story store name -> store id, and -> the one-time code of its simulated device.
    stores: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)
    #: Whether the kiosk runs its screen (False: buttons only); set by ``start``.
    screen: bool = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def press_pipe(self) -> Path:
        """The kiosk's press pipe (``hardware.devpress``): a button number written to it presses it."""
        from hardware.devpress import FIFO_NAME

        return (self.base / "kiosk").resolve() / FIFO_NAME

    def press_command(self, button: int = len(BUTTONS)) -> str:
        """A shell command that presses ``button`` (1 = the most negative face) of the running kiosk."""
        return f"echo {button} > {shlex.quote(str(self.press_pipe))}"

    def buttons_text(self) -> str:
        """Which number is which face, from the demo's buttons: ``1 = very unhappy ... 4 = very happy``."""
        from hardware.labels import face_name

        n = len(BUTTONS)
        return f"1 = {face_name(1, n)} ... {n} = {face_name(n, n)}"


def free_port(preferred: int) -> int:
    """``preferred`` if nothing listens there on loopback, else a free port the kernel picks."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free TCP port on 127.0.0.1")


def setup(base: Path = DEMO_DIR, port: int = 8000) -> Demo:
    """Make a fresh demo organisation (``hymy.demostory``) and the kiosk's config (no process, no presses yet)."""
    from hymy.demostory import REGIONAL_MANAGER, STORES, store_settings
    from server import admin
    from server.auth.users import create_user
    from server.db import make_engine
    from server.migrate import upgrade

    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    database_url = f"sqlite:///{(base / 'server.db').resolve()}"
    engine = make_engine(database_url)
    upgrade(engine)
    regions: dict[str, str] = {}
    stores: dict[str, str] = {}
    codes: dict[str, str] = {}
    kiosk_code = ""
    for story in STORES:
        if story.region not in regions:
            regions[story.region] = admin.create_region(engine, story.region)
        sid = admin.create_store(engine, story.name, region_id=regions[story.region], timezone=story.timezone,
                                 config=store_settings(story))
        stores[story.name] = sid
        device = admin.create_device(engine, sid, name=story.device_name)
        if story.device == "kiosk":
            kiosk, kiosk_code = story, device.code
        else:
            codes[story.name] = device.code
    password = "-".join(secrets.token_hex(3) for _ in range(3))
    username, display_name = REGIONAL_MANAGER
    create_user(engine, username, password, "regional_manager", regions=list(regions.values()),
                display_name=display_name)
    engine.dispose()

    port = free_port(port)
    data_dir = (base / "kiosk").resolve()
    config = base / "kiosk.toml"
    demo = Demo(base, port, database_url, config, username, password, stores[kiosk.name], stores, codes)
    n = len(BUTTONS)
    config.write_text(
        f"# Written by hymy demo: a kiosk with {n} buttons and their LEDs on mock GPIO pins.\n"
        f"# Press button N (1-{n}; {demo.buttons_text()}) with: echo N > {shlex.quote(str(demo.press_pipe))}\n"
        f"# or with keys 1-{n} in the kiosk window when there is a display.\n"
        f'[device]\nname = "{kiosk.device_name}"\ndata_dir = "{data_dir}"\nclock = "trust"\n\n'
        f'[server]\nurl = "http://127.0.0.1:{port}"\nenrolment_code = "{kiosk_code}"\n\n'
        f"[pins]\nbuttons = {BUTTONS}\nleds = {LEDS}\npwm = true\nstaff_alert = {STAFF_ALERT}\n\n"
        "[display]\nfullscreen = false\nwidth = 800\nheight = 480\n",
        encoding="utf-8",
    )
    return demo


def _env(demo: Demo, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HYMY_DATABASE_URL=demo.database_url, HYMY_INSECURE_COOKIES="1", GPIOZERO_PIN_FACTORY="mock",
               PYTHONUNBUFFERED="1")
    env.pop("HYMY_CONFIG", None)
    env.update(extra)
    return env


def _hymy(*args: str) -> list[str]:
    return [sys.executable, "-m", "hymy", *args]


def wait_http(url: str, timeout_s: float = 30.0) -> bool:
    """Poll ``url`` until it answers 200 or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def start(demo: Demo, *, screen: bool = True, days: float = DAYS, echo=print) -> None:
    """Make the story's history (``deploy.history``), then start server, sync agent and kiosk as child
    processes of this one."""
    from deploy.history import make_history

    log = demo.base / "logs"
    log.mkdir(exist_ok=True)

    def spawn(name: str, args: list[str], **env: str) -> subprocess.Popen:
        out = open(log / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        # its own session (Ctrl-C in the terminal reaches only the demo, which stops them in order);
        # SIGTERM from the kernel when the demo ends without stopping them (kill -9, a crash)
        proc = children.popen(args, env=_env(demo, **env), stdout=out, stderr=subprocess.STDOUT,
                              start_new_session=True)
        demo.processes.append(proc)
        return proc

    echo(f"Making {days:g} days of history (the story of hymy.demostory) ...")
    episodes = make_history(demo.database_url, demo.base, demo.kiosk_config, demo.stores, demo.codes,
                            timedelta(days=days), echo=echo)
    echo(f"  Past alerts replayed through the server's alert engine: {episodes} episodes.")
    open_for_trying(demo)

    echo(f"Starting the central server on {demo.url} (SQLite: {demo.base / 'server.db'}) ...")
    spawn("server", _hymy("server", "--host", "127.0.0.1", "--port", str(demo.port)))
    if not wait_http(demo.url + "/readyz", 60):
        raise RuntimeError(f"the server did not become ready; see {log / 'server.log'}")

    echo("Starting the kiosk's sync agent ...")
    spawn("sync", _hymy("sync", "--config", str(demo.kiosk_config)))
    n = len(BUTTONS)
    demo.screen = screen
    if screen:
        extra = {}
        if has_display():
            echo(f"Starting the kiosk screen ({n} buttons on mock GPIO; keys 1-{n} in its window press them) ...")
        else:
            extra = {"SDL_VIDEODRIVER": "offscreen", "KIVY_GL_BACKEND": "sdl2"}
            echo("No display found: the kiosk screen runs offscreen (nothing is shown; press its buttons "
                 "with the command printed below).")
            echo(f"Starting the kiosk screen ({n} buttons on mock GPIO) ...")
        spawn("kiosk", _hymy("kiosk", "--config", str(demo.kiosk_config)), **extra)
    else:
        echo(f"Starting the buttons-only kiosk ({n} buttons on mock GPIO) ...")
        spawn("kiosk", _hymy("kiosk", "--no-screen", "--config", str(demo.kiosk_config)))
    if not _wait_for_pipe(demo.press_pipe, 60):
        echo(f"  The kiosk has not opened its press pipe yet; see {log / 'kiosk.log'}")


def open_for_trying(demo: Demo) -> None:
    """From now on the demo kiosk's store is open around the clock. Its history keeps the story's hours
    (customers come 08-21), but someone trying the demo at 22:00 must see their press counted on Today,
    not filtered as a press while the store is closed. The other stores keep their hours.

    The kiosk's cached copy is written too (without an ETag, so the agent's first pull replaces it with
    the server's), so a press made before that pull already counts."""
    from kiosk.config import load_config
    from kiosk.storeconfig import write_store_config
    from server import admin
    from server.db import make_engine

    engine = make_engine(demo.database_url)
    try:
        now_open = admin.set_opening_hours(engine, demo.kiosk_store_id, {})
    finally:
        engine.dispose()
    write_store_config(load_config(demo.kiosk_config).store_config_path, now_open)


def _wait_for_pipe(path: Path, timeout_s: float) -> bool:
    """Wait until the kiosk made its press pipe, so a pasted ``echo N > pipe`` never makes a plain file."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if stat.S_ISFIFO(path.stat().st_mode):
                return True
        time.sleep(0.2)
    return False


def stop(demo: Demo, timeout_s: float = 10.0) -> None:
    """SIGTERM every child, wait up to ``timeout_s``, then SIGKILL what is left."""
    for proc in demo.processes:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for proc in demo.processes:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def banner(demo: Demo) -> str:
    n = len(BUTTONS)
    hymy = hymy_command()  # `make demo` ran .venv/bin/hymy: the hints must run as printed
    return (
        "\n"
        "  Hymy demo is running.\n"
        f"  Dashboard:  {demo.url}/\n"
        f"  Login:      {demo.username} / {demo.password}\n"
        f"  Kiosk:      config {demo.kiosk_config}; logs in {demo.base / 'logs'}\n"
        f"  Press:      {demo.press_command(n)}\n"
        f"              (another terminal; button 1-{n}: {demo.buttons_text()}"
        f"{f'; or keys 1-{n} in the kiosk window' if demo.screen and has_display() else ''})\n"
        f"  Try:        {hymy} status --config {demo.kiosk_config}\n"
        f"              {hymy} simulate --config {demo.kiosk_config} --days 0.05\n"
        "  Ctrl-C stops everything.\n"
    )
