#!/usr/bin/env python3
"""The extras check: each extra of Hymy installed ALONE in a fresh venv from this checkout, as
``pip install "hymy[server]"`` (or ``image/install.sh --extras ...``) installs it, and its processes started.

- The wheel is built once from this checkout with build isolation (the declared build requirement, as
  pip builds it for a user); the build must print no warning.
- core (no extra): ``hymy --help`` lists every command, ``hymy status`` and ``--json`` run (and create no file); ``hymy server``
  and ``hymy kiosk`` refuse with one line that names the extra to install.
- kiosk: every module of hymy, kiosk, hardware and sync imports; ``hymy kiosk --help``, ``hymy sync
  --help``, ``hymy status``, ``hymy hwtest --auto`` (gpiozero's mock pins) run.
- server: every module of hymy and server imports; ``hymy server`` on a loopback port answers
  ``/healthz`` "ok", ``/readyz``, ``/login`` 200 with its form and ``/openapi.json``, and stops on SIGTERM;
  ``hymy kiosk`` refuses naming the kiosk extra.
- postgres: psycopg loads its compiled part; ``hymy status`` runs.

Run by ``.ci/run`` after the tests. Needs the package index (or pip's cache). Writes only under
``build/extras-check/`` (the venvs are made fresh at every run) and pip's own cache.

    .venv/bin/python image/extras_check.py [--work DIR] [core|kiosk|server|postgres ...]   (default: all)

(Any Python 3.11+ with pip; the wheel is built with it.)
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = ["core", "kiosk", "server", "postgres"]
#: The packages whose every module must import with each extra (``__main__`` modules and Alembic's
#: env.py, which runs migrations when imported, are left out). ``psycopg``: the package and its libpq.
IMPORTS = {"core": [], "kiosk": ["hymy", "kiosk", "hardware", "sync"], "server": ["hymy", "server"],
           "postgres": ["psycopg"]}
SKIP_MODULES = {"server.migrations.env"}


# --------------------------------------------------------------------------- inside a venv


def import_all(packages: list[str]) -> int:
    """Import every module of ``packages``; print one line per failure; exit status 0/1."""
    failed = 0
    for package in packages:
        if package == "psycopg":
            failed += psycopg_works()
            continue
        try:
            top = importlib.import_module(package)
        except Exception as exc:
            print(f"  {package}: {type(exc).__name__}: {exc}")
            return 1
        names = [info.name for info in pkgutil.walk_packages(getattr(top, "__path__", []), package + ".")]
        for name in names:
            if name.endswith(".__main__") or name in SKIP_MODULES:
                continue
            try:
                importlib.import_module(name)
            except Exception as exc:
                failed += 1
                print(f"  {name}: {type(exc).__name__}: {exc}")
                if not isinstance(exc, ImportError):
                    traceback.print_exc(limit=-3)
    return 1 if failed else 0


def psycopg_works() -> int:
    """psycopg with its binary build (libpq and the C optimisations) loads, and talks to the PostgreSQL of
    ``HYMY_TEST_POSTGRES_URL`` when that is set (CI); 0 when it does."""
    try:
        import psycopg

        print(f"  psycopg {psycopg.__version__}, libpq {psycopg.pq.version()}, implementation {psycopg.pq.__impl__}")
        if psycopg.pq.__impl__ != "binary":
            print("  psycopg: the binary implementation (psycopg[binary]) is not the one in use")
            return 1
        url = os.environ.get("HYMY_TEST_POSTGRES_URL", "")
        if url:
            with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=10) as conn:
                print(f"  PostgreSQL answers: {conn.execute('SELECT version()').fetchone()[0][:40]}")
    except Exception as exc:
        print(f"  psycopg: {type(exc).__name__}: {exc}")
        return 1
    return 0


# --------------------------------------------------------------------------- the check


class Check:
    def __init__(self, work: Path):
        self.work = work
        self.failed: list[str] = []

    def ok(self, what: str, good: bool, detail: str = "") -> bool:
        print(f"  {'ok' if good else 'FAIL'}: {what}")
        if not good:
            self.failed.append(what)
            if detail:
                print("    " + detail.strip().replace("\n", "\n    ")[-3000:])
        return good

    def env(self, extra: str, **more: str) -> dict[str, str]:
        """The environment of a fresh shell: no venv, no Hymy settings of the machine running the check."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("HYMY_", "VIRTUAL_ENV", "PYTHON", "KIVY_", "SDL_", "GPIOZERO_"))}
        run = self.work / f"run-{extra}"
        env.update(KIVY_HOME=str(run / "kivy"), KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", SDL_VIDEODRIVER="offscreen",
                   **more)
        return env

    def run(self, extra: str, argv: list[str], timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=self.work / f"run-{extra}", env=self.env(extra, **env), capture_output=True,
                              text=True, timeout=timeout, check=False)

    def command(self, extra: str, what: str, argv: list[str], expect: str | None = None, **env: str) -> None:
        """``argv`` exits 0 (and prints ``expect``, a regular expression, when given)."""
        done = self.run(extra, argv, **env)
        out = done.stdout + done.stderr
        self.ok(what, done.returncode == 0 and (expect is None or re.search(expect, out) is not None),
                f"exit {done.returncode}:\n{out}")

    def refuses(self, extra: str, what: str, argv: list[str], needs: str) -> None:
        """``argv`` exits 2 with one line naming the extra ``needs``, and no traceback."""
        done = self.run(extra, argv, timeout=120)
        lines = done.stderr.strip().splitlines()
        self.ok(what, done.returncode == 2 and len(lines) == 1 and f"pip install 'hymy[{needs}]'" in lines[0],
                f"exit {done.returncode}:\n{done.stderr}")
        if lines:
            print(f"    {lines[-1]}")

    # -- steps

    def build_wheel(self) -> Path:
        out = self.work / "wheel"
        # setuptools builds in build/lib of the checkout and would package a file left there by an older build
        for old in [out, ROOT / "build" / "lib", *(ROOT / "build").glob("bdist.*")]:
            shutil.rmtree(old, ignore_errors=True)
        t0 = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                               "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=900, check=False)
        text = done.stdout + done.stderr
        # The build backend's warnings, as pip shows them (file.py:LINE: Category: ...); pip's own notes
        # (e.g. about a site's index settings) are not the build's.
        warnings = [ln for ln in text.splitlines() if re.search(r"\.py:\d+: \w+: ", ln)]
        wheels = list(out.glob("hymy-*.whl"))
        self.ok(f"wheel built from the checkout ({time.monotonic() - t0:.0f} s)", done.returncode == 0 and len(wheels) == 1,
                text)
        self.ok("the build printed no warning", not warnings, "\n".join(warnings))
        if not wheels:
            raise SystemExit("extras check: no wheel, nothing to install")
        return wheels[0]

    def install(self, extra: str, wheel: Path) -> Path:
        venv = self.work / f"venv-{extra}"
        run = self.work / f"run-{extra}"
        for d in (venv, run):
            shutil.rmtree(d, ignore_errors=True)
        run.mkdir(parents=True)
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        spec = str(wheel) if extra == "core" else f"{wheel}[{extra}]"
        done = self.run(extra, [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                                "--disable-pip-version-check", spec], timeout=1800)
        if not self.ok(f"pip install {'hymy' if extra == 'core' else f'hymy[{extra}]'} in a fresh venv "
                       f"({time.monotonic() - t0:.0f} s)", done.returncode == 0, done.stdout + done.stderr):
            raise RuntimeError("install failed")
        return venv

    def imports(self, extra: str, venv: Path) -> None:
        if not IMPORTS[extra]:
            return
        # -I: only the venv's own packages, never this checkout's.
        done = self.run(extra, [str(venv / "bin" / "python"), "-I", __file__, "--import", *IMPORTS[extra]],
                        HYMY_TEST_POSTGRES_URL=os.environ.get("HYMY_TEST_POSTGRES_URL", ""))
        what = "psycopg and libpq load" if extra == "postgres" else f"every module of {', '.join(IMPORTS[extra])} imports"
        self.ok(what, done.returncode == 0,
                done.stdout + done.stderr[-3000:])
        if done.returncode == 0 and done.stdout.strip():
            print(done.stdout.rstrip())

    def serve(self, venv: Path) -> None:
        """``hymy server`` on a free loopback port: it starts, serves the whole app, stops on SIGTERM."""
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        run = self.work / "run-server"
        env = self.env("server", HYMY_DATABASE_URL=f"sqlite:///{run / 'server.db'}")
        log = (run / "server.log").open("wb")
        from hymy.children import popen  # stdlib only; the child dies with this script

        proc = popen([str(venv / "bin" / "hymy"), "server", "--host", "127.0.0.1", "--port", str(port)], cwd=run,
                     env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            health = ""
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=2) as resp:
                        health = resp.read().decode().strip()
                        break
                except OSError:
                    time.sleep(0.2)
            server_log = lambda: (run / "server.log").read_text(errors="replace")  # noqa: E731
            if not self.ok(f"hymy server started: /healthz says {health!r}", health == "ok", server_log()):
                return
            for path, expect in (("/readyz", "ready"), ("/login", "<form"), ("/openapi.json", '"openapi"')):
                try:
                    with urllib.request.urlopen(base + path, timeout=10) as resp:
                        status, body = resp.status, resp.read().decode(errors="replace")
                except urllib.error.HTTPError as exc:
                    status, body = exc.code, ""
                except OSError as exc:
                    status, body = 0, str(exc)
                self.ok(f"GET {path}: {status}", status == 200 and expect in body, body[:500] or server_log())
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            log.close()
        # Uvicorn ends a graceful shutdown by re-raising the signal (systemd counts that as a clean stop).
        stopped = (run / "server.log").read_text(errors="replace")
        self.ok(f"hymy server stopped on SIGTERM (exit {proc.returncode})",
                proc.returncode in (0, -signal.SIGTERM) and "Finished server process" in stopped, stopped)

    def check(self, extra: str, wheel: Path) -> None:
        print(f"== {extra}{'' if extra == 'core' else ' extra'} alone")
        t0 = time.monotonic()
        try:
            venv = self.install(extra, wheel)
        except RuntimeError:
            return
        hymy = str(venv / "bin" / "hymy")
        self.command(extra, "hymy --version", [hymy, "--version"], r"hymy, version \d")
        self.command(extra, "hymy --help lists every command", [hymy, "--help"], r"(?s)admin.*demo.*server.*update")
        # no config and no store yet: status says so and, as it only reads, creates neither
        self.command(extra, "hymy status", [hymy, "status"], r"Local store:\s+none at .hymy/kiosk\.db")
        self.command(extra, "hymy status --json", [hymy, "status", "--json"], r'"state": "missing"')
        made = sorted(str(p.relative_to(self.work)) for p in (self.work / f"run-{extra}").rglob("*"))
        self.ok("hymy status created no file", not made, "\n".join(made))
        self.imports(extra, venv)
        if extra == "core":
            self.refuses(extra, "hymy server refuses, naming the server extra", [hymy, "server", "--port", "0"], "server")
            self.refuses(extra, "hymy kiosk refuses, naming the kiosk extra", [hymy, "kiosk"], "kiosk")
        elif extra == "kiosk":
            self.command(extra, "hymy kiosk --help", [hymy, "kiosk", "--help"], r"--no-screen")
            self.command(extra, "hymy sync --help", [hymy, "sync", "--help"], r"--once")
            self.command(extra, "hymy hwtest --auto (mock pins)", [hymy, "hwtest", "--auto"], r"PASS: every part works",
                         GPIOZERO_PIN_FACTORY="mock")
        elif extra == "server":
            self.serve(venv)
            self.refuses(extra, "hymy kiosk refuses, naming the kiosk extra", [hymy, "kiosk"], "kiosk")
        print(f"  {extra}: {time.monotonic() - t0:.0f} s")


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--work", type=Path, default=ROOT / "build" / "extras-check")
    args.add_argument("--import", dest="imports", nargs="+", help=argparse.SUPPRESS)  # inside a venv
    args.add_argument("extras", nargs="*", metavar="EXTRA", help=f"some of {', '.join(EXTRAS)} (default: all)")
    opts = args.parse_args(argv)
    if opts.imports:
        return import_all(opts.imports)
    unknown = set(opts.extras) - set(EXTRAS)
    if unknown:
        args.error(f"unknown extra {', '.join(sorted(unknown))}; valid: {', '.join(EXTRAS)}")
    sys.path.insert(0, str(ROOT))  # hymy.children, on the host side only
    opts.work.mkdir(parents=True, exist_ok=True)
    check = Check(opts.work.resolve())
    t0 = time.monotonic()
    print("== wheel")
    wheel = check.build_wheel()
    for extra in opts.extras or EXTRAS:
        check.check(extra, wheel)
    print(f"== extras check: {len(check.failed)} failed, {time.monotonic() - t0:.0f} s")
    for what in check.failed:
        print(f"  FAIL: {what}")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
