"""``hymy demo``: the whole system on one machine, as real processes on loopback.

A central server on a SQLite file with a demo organisation (a region, two stores in different time
zones, a regional manager), a kiosk with its screen and four buttons on gpiozero's mock pins (pressed
through the kiosk's press pipe, ``hardware.devpress``, so no display is needed; with a display also keys
1-4 in its window), its sync agent enrolled through the real enrolment API, and 30 days of simulated history:
the kiosk's own history goes into its store and reaches the server through its sync agent; the second
store's history comes from a simulated device through the device API. Ctrl-C stops everything.
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

HOURS_HEL = {d: ["08:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": ["10:00-18:00"]}
HOURS_STO = {d: ["09:00-20:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["10:00-17:00"]}

REASONS = [
    {"id": "queue", "texts": {"fi": "Jono", "sv": "Kön", "en": "Queue"}},
    {"id": "service", "texts": {"fi": "Palvelu", "sv": "Service", "en": "Service"}},
    {"id": "selection", "texts": {"fi": "Valikoima", "sv": "Sortiment", "en": "Selection"}},
    {"id": "price", "texts": {"fi": "Hinta", "sv": "Pris", "en": "Price"}},
    {"id": "cleanliness", "texts": {"fi": "Siisteys", "sv": "Renlighet", "en": "Cleanliness"}},
]
PRAISE = [
    {"id": "cashier", "texts": {"fi": "Kassan palvelu", "sv": "Kassapersonalen", "en": "The cashier"}},
    {"id": "advice", "texts": {"fi": "Hyvä neuvonta", "sv": "Bra rådgivning", "en": "Good advice"}},
    {"id": "fresh", "texts": {"fi": "Tuoreet tuotteet", "sv": "Färska varor", "en": "Fresh products"}},
]


def store_settings(timezone: str, hours: dict) -> dict:
    """A store's config for the demo: 4 faces, reasons after unhappy faces, praise after very happy."""
    return {
        "timezone": timezone,
        "opening_hours": hours,
        "reasons": REASONS,
        "praise": PRAISE,
        "followup": {"1": "reason", "2": "reason", "4": "praise"},
        "show_today_result": True,
        "alert_rules": [{"id": "unhappy-15min", "kind": "negative_share", "window_min": 15, "min_count": 4,
                         "threshold": 50, "local": True}],
    }


@dataclass
class Demo:
    """What ``setup`` made: where things are and how to log in."""

    base: Path
    port: int
    database_url: str
    kiosk_config: Path
    username: str
    password: str
    sim_code: str
    kiosk_store_id: str
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
    """Make a fresh demo organisation, the kiosk's config and its simulated history (no process yet)."""
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
    region = admin.create_region(engine, "Etelä-Suomi ja Tukholma")
    helsinki = admin.create_store(engine, "Helsinki Kamppi", region_id=region,
                                  timezone="Europe/Helsinki", config=store_settings("Europe/Helsinki", HOURS_HEL))
    stockholm = admin.create_store(engine, "Stockholm Södermalm", region_id=region, timezone="Europe/Stockholm",
                                   config=store_settings("Europe/Stockholm", HOURS_STO))
    password = "-".join(secrets.token_hex(3) for _ in range(3))
    username = "manager"
    create_user(engine, username, password, "regional_manager", regions=[region], display_name="Demo manager")
    kiosk_device = admin.create_device(engine, helsinki, name="Kamppi exit")
    sim_device = admin.create_device(engine, stockholm, name="Södermalm checkout (simulated)")
    engine.dispose()

    port = free_port(port)
    data_dir = (base / "kiosk").resolve()
    config = base / "kiosk.toml"
    demo = Demo(base, port, database_url, config, username, password, sim_device.code, helsinki)
    n = len(BUTTONS)
    config.write_text(
        f"# Written by hymy demo: a kiosk with {n} buttons and their LEDs on mock GPIO pins.\n"
        f"# Press button N (1-{n}; {demo.buttons_text()}) with: echo N > {shlex.quote(str(demo.press_pipe))}\n"
        f"# or with keys 1-{n} in the kiosk window when there is a display.\n"
        f'[device]\nname = "Kamppi exit"\ndata_dir = "{data_dir}"\nclock = "trust"\n\n'
        f'[server]\nurl = "http://127.0.0.1:{port}"\nenrolment_code = "{kiosk_device.code}"\n\n'
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
    """Start server, history, sync agent and kiosk as child processes of this one."""
    from deploy.simulate import deliver_simulated
    from kiosk.config import load_config
    from kiosk.simulate import simulate_device_store

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

    echo(f"Starting the central server on {demo.url} (SQLite: {demo.base / 'server.db'}) ...")
    spawn("server", _hymy("server", "--host", "127.0.0.1", "--port", str(demo.port)))
    if not wait_http(demo.url + "/readyz", 60):
        raise RuntimeError(f"the server did not become ready; see {log / 'server.log'}")

    echo(f"Simulating {days:g} days of history for the kiosk (into its own store) ...")
    config = load_config(demo.kiosk_config)
    # The store config arrives with enrolment; until then the history uses the store's settings.
    from kiosk.storeconfig import write_store_config
    from server import admin
    from server.db import make_engine

    engine = make_engine(demo.database_url)
    write_store_config(config.store_config_path, admin.store_config(engine, demo.kiosk_store_id))
    engine.dispose()
    stored = simulate_device_store(config, timedelta(days=days), seed=7)
    echo(f"  {stored} events stored on the kiosk; its sync agent will deliver them.")
    echo("Simulating the second store's device through the device API ...")
    sent = deliver_simulated(demo.url, demo.sim_code, demo.base / "simulated-device", timedelta(days=days),
                             rate=9, seed=11)
    echo(f"  {sent} events delivered for Stockholm Södermalm.")

    echo("Starting the kiosk's sync agent (enrols with its one-time code) ...")
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
