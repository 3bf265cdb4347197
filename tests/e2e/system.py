"""The whole-system harness: the server, kiosks and sync agents as real ``python -m hymy`` processes.

Every part runs the way it runs in a shop, on 127.0.0.1: ``hymy server`` on a SQLite file,
``hymy kiosk --no-screen`` (buttons-only, gpiozero's mock pins) or the Kivy kiosk offscreen, and
``hymy sync``. Buttons are pressed through the kiosk's development pipe (hardware/devpress.py).
Each process logs to ``<root>/logs/<name>.log``; on a failure the tests print the tails.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from hardware.devpress import FIFO_NAME
from server import admin
from server.auth.users import create_user
from server.db import make_engine
from server.migrate import upgrade
from server.testing import free_port
from tests import procs

ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
PASSWORD = "e2e-password-123"
BUTTONS = [5, 6, 13, 19]


def store_settings(**extra) -> dict:
    """Open all day (the tests run at any hour), a reason after faces 1-2, praise after 4."""
    return {"timezone": "Europe/Helsinki", "opening_hours": ALL_DAY,
            "reasons": [{"id": "queue", "texts": {"fi": "Jono"}}, {"id": "service", "texts": {"fi": "Palvelu"}}],
            "praise": [{"id": "cashier", "texts": {"fi": "Kassa"}}],
            "followup": {"1": "reason", "2": "reason", "4": "praise"}, "followup_timeout_s": 60,
            "show_today_result": True, **extra}


def wait_until(check, timeout_s: float, what: str, every_s: float = 0.1):
    """Call ``check()`` until it returns something truthy (returned) or ``timeout_s`` passes (AssertionError)."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"{what}: not within {timeout_s} s (last: {last!r})")


@dataclass
class Kiosk:
    """One kiosk's config and data directory."""

    name: str
    config: Path
    data_dir: Path

    @property
    def store_path(self) -> Path:
        return self.data_dir / "kiosk.db"

    @property
    def fifo(self) -> Path:
        return self.data_dir / FIFO_NAME

    def press(self, button: int, hold_s: float = 0.05) -> None:
        """Press mock button ``button`` (1-based) of the running kiosk process."""
        def opened() -> int | None:
            try:  # ENXIO: no reader yet (the kiosk is starting, or a killed kiosk left its pipe behind)
                return os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except (FileNotFoundError, OSError) as exc:
                if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENXIO:
                    return None
                raise

        fd = wait_until(opened, 60, f"{self.name}: press pipe {self.fifo} read by the kiosk")
        try:
            os.write(fd, f"{button} {hold_s}\n".encode())
        finally:
            os.close(fd)

    def press_stored(self, button: int, timeout_s: float = 10.0) -> str:
        """Press ``button`` and wait until the kiosk stored the press; returns the response's id."""
        before = {i for i, _ in self.events("response")}
        self.press(button)
        new = wait_until(lambda: [i for i, _ in self.events("response") if i not in before], timeout_s,
                         f"{self.name}: press of button {button} stored", 0.02)
        return new[0]

    def events(self, kind: str | None = None) -> list[tuple[str, str]]:
        """(id, type) of every event in the kiosk's store, oldest first."""
        if not self.store_path.exists():
            return []
        with contextlib.closing(sqlite3.connect(self.store_path, timeout=10)) as conn:
            rows = conn.execute("SELECT id, type FROM events ORDER BY seq").fetchall()
        return [r for r in rows if kind is None or r[1] == kind]

    def meta(self, key: str) -> str | None:
        if not self.store_path.exists():
            return None
        with contextlib.closing(sqlite3.connect(self.store_path, timeout=10)) as conn:
            try:
                row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            except sqlite3.OperationalError:
                return None
        return row[0] if row else None

    def pending(self) -> int:
        with contextlib.closing(sqlite3.connect(self.store_path, timeout=10)) as conn:
            return conn.execute("SELECT count(*) FROM events WHERE sent_at IS NULL").fetchone()[0]


@dataclass
class System:
    """A fresh organisation (one store) on a SQLite server database under ``root``, and its processes."""

    root: Path
    port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "logs").mkdir(exist_ok=True)
        self.db_path = self.root / "server.db"
        self.database_url = f"sqlite:///{self.db_path}"
        engine = make_engine(self.database_url)
        upgrade(engine)
        self.region = admin.create_region(engine, "E2E")
        self.store_id = admin.create_store(engine, "E2E store", region_id=self.region, config=store_settings())
        create_user(engine, "manager", PASSWORD, "regional_manager", regions=[self.region], display_name="E2E")
        engine.dispose()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ, HYMY_DATABASE_URL=self.database_url, HYMY_INSECURE_COOKIES="1",
                   GPIOZERO_PIN_FACTORY="mock", PYTHONUNBUFFERED="1")
        env.pop("HYMY_CONFIG", None)
        env.update(extra)
        return env

    def spawn(self, name: str, *args: str, **env: str) -> subprocess.Popen:
        """``python -m hymy ARGS`` as process ``name`` (its own process group), logging to logs/NAME.log."""
        self.stop(name)
        log = open(self.root / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - closed by the child's exit
        proc = procs.Popen([sys.executable, "-m", "hymy", *args], env=self.env(**env), stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs[name] = proc
        return proc

    def start_server(self, **env: str) -> subprocess.Popen:
        proc = self.spawn("server", "server", "--host", "127.0.0.1", "--port", str(self.port), **env)

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"server exited {proc.returncode}:\n{self.log_tail('server')}")
            try:
                return httpx.get(self.url + "/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, 60, "server ready")
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to process ``name``'s group and wait for it to end."""
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(30)

    def stop(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill(name)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.root / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"

    def logs(self) -> str:
        return "\n".join(f"--- {n}.log\n{self.log_tail(n)}" for n in self.procs)

    @contextlib.contextmanager
    def logs_on_failure(self) -> Iterator[None]:
        """Print every process's log tail when an assertion inside fails, then let it fail."""
        try:
            yield
        except AssertionError:
            print(self.logs())
            raise

    def new_kiosk(self, name: str, *, clock: str = "trust", extra_device: str = "") -> Kiosk:
        """A device registered for the store with a one-time code, and its TOML config (mock pins)."""
        engine = make_engine(self.database_url)
        code = admin.create_device(engine, self.store_id, name=name).code
        engine.dispose()
        data = self.root / name
        data.mkdir()
        config = self.root / f"{name}.toml"
        config.write_text(
            f'[device]\nname = "{name}"\ndata_dir = "{data}"\nclock = "{clock}"\n{extra_device}\n'
            f'[server]\nurl = "{self.url}"\nenrolment_code = "{code}"\n\n'
            f"[pins]\nbuttons = {BUTTONS}\n", encoding="utf-8")
        return Kiosk(name, config, data)

    def start_kiosk(self, kiosk: Kiosk, *, screen: bool = False, **env: str) -> subprocess.Popen:
        if screen:
            env = {"SDL_VIDEODRIVER": "offscreen", "KIVY_GL_BACKEND": "sdl2", **env}
            for var in ("DISPLAY", "WAYLAND_DISPLAY"):
                env.setdefault(var, "")
            return self.spawn(f"{kiosk.name}-kiosk", "kiosk", "--config", str(kiosk.config), **env)
        return self.spawn(f"{kiosk.name}-kiosk", "kiosk", "--no-screen", "--config", str(kiosk.config), **env)

    def start_sync(self, kiosk: Kiosk, **env: str) -> subprocess.Popen:
        return self.spawn(f"{kiosk.name}-sync", "sync", "--config", str(kiosk.config), **env)

    def enrol(self, kiosk: Kiosk, **env: str) -> None:
        """Start the kiosk's sync agent and wait (60 s at most) until it has enrolled with its code."""
        self.start_sync(kiosk, **env)
        wait_until(lambda: status(kiosk)["enrolment"] == "enrolled", 60, "kiosk enrolled")

    # ------------------------------------------------------------------ the server's database

    def query(self, sql: str, *params) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=10)) as conn:
            return conn.execute(sql, params).fetchall()

    def response_ids(self) -> list[str]:
        return [r[0] for r in self.query("SELECT id FROM responses")]

    def followup_ids(self) -> list[str]:
        return [r[0] for r in self.query("SELECT id FROM followups")]


def status(kiosk: Kiosk) -> dict:
    out = procs.run([sys.executable, "-m", "hymy", "status", "--json", "--config", str(kiosk.config)],
                    capture_output=True, text=True, check=True).stdout
    return json.loads(out)
