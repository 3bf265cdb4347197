"""Side-by-side releases with automatic rollback: ``hymy update <wheel or directory>``.

Layout (made by ``image/install.sh``)::

    /opt/hymy/releases/<version>/    one virtual environment per release, with release.json
    /opt/hymy/current -> releases/<version>   what the units run (/opt/hymy/current/bin/hymy)

An update installs the new release beside the running one (nothing running is touched while pip
works), switches ``current`` atomically (a new link renamed over the old one), restarts the services
and watches them: each must reach READY (``Type=notify`` units are "active" only after READY=1), stay
up without a restart for ``watch_s`` seconds (default 60), and ``hymy status --json`` of the new
release must succeed. Otherwise ``current`` goes back to the previous release, the services are
restarted on it, and the failed release is marked in its release.json. Local data (/var/lib/hymy) and
config (/etc/hymy) are never touched: a release is code only.

The service manager is injectable (``ServiceManager``): ``Systemctl`` in production, a small real
process supervisor in the tests (systemd cannot run there). File moves are always real.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hymy.errors import HymyError
from hymy.timestamps import format_ts, utcnow

DEFAULT_UNITS = ("hymy-kiosk.service", "hymy-sync.service", "hymy-server.service")
#: The source tree's folders that make up the package (pyproject's packages.find include list).
PACKAGE_DIRS = ("hymy", "kiosk", "hardware", "sync", "server", "assets")
_WHEEL = re.compile(r"^hymy-(?P<version>[^-]+)-.*\.whl$")


class UpdateError(HymyError, RuntimeError):
    """An update could not be installed (nothing was switched)."""


@dataclass(frozen=True)
class UnitState:
    """A unit as the service manager sees it: ``active`` is systemd's ActiveState
    (active, activating, failed, inactive...); ``restarts`` counts automatic restarts (NRestarts)."""

    active: str
    sub: str = ""
    restarts: int = 0


class ServiceManager(Protocol):
    def enabled(self, unit: str) -> bool: ...
    def restart(self, units: Sequence[str]) -> str | None:
        """Restart the units (waiting for the start jobs); None when done, else what went wrong."""
        ...
    def state(self, unit: str) -> UnitState: ...


CommandRunner = Callable[[Sequence[str]], subprocess.CompletedProcess]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess:
    # 150 s: longer than the kiosk's TimeoutStartSec (120 s), so systemd decides first.
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=150, check=False)


class Systemctl:
    """The real service manager, through ``systemctl`` (``runner`` is injectable)."""

    def __init__(self, runner: CommandRunner = _run) -> None:
        self.run = runner

    def enabled(self, unit: str) -> bool:
        return self.run(["systemctl", "is-enabled", unit]).stdout.strip() == "enabled"

    def restart(self, units: Sequence[str]) -> str | None:
        # Blocking: for Type=notify units systemctl returns once READY=1 arrived (or the start failed),
        # so a state read afterwards is never the old process's.
        proc = self.run(["systemctl", "restart", *units])
        if proc.returncode != 0:
            return f"systemctl restart {' '.join(units)} failed: {proc.stderr.strip()}"
        return None

    def state(self, unit: str) -> UnitState:
        out = self.run(["systemctl", "show", "-p", "ActiveState,SubState,NRestarts", unit]).stdout
        props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        try:
            restarts = int(props.get("NRestarts", "0") or 0)
        except ValueError:
            restarts = 0
        return UnitState(props.get("ActiveState", "unknown"), props.get("SubState", ""), restarts)


@dataclass
class Source:
    """What to install: a pip requirement plus options, its version and a content fingerprint."""

    version: str
    spec: str
    pip_options: list[str]
    fingerprint: str


@dataclass
class Outcome:
    ok: bool
    version: str
    previous: str | None
    summary: str


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve_source(source: str | Path, extras: str) -> Source:
    """A wheel file, a directory of wheels (offline: hymy and its dependencies) or a source tree."""
    path = Path(source).resolve()
    suffix = f"[{extras}]" if extras else ""
    if path.is_file():
        m = _WHEEL.match(path.name)
        if not m:
            raise UpdateError(f"{path}: not a Hymy wheel (expected hymy-<version>-...whl)")
        return Source(m["version"], f"{path}{suffix}", [], sha256_file(path))
    if (path / "pyproject.toml").exists():
        init = path / "hymy" / "__init__.py"
        m = re.search(r'^__version__ = "([^"]+)"', init.read_text(encoding="utf-8"), re.M) if init.exists() else None
        if not m:
            raise UpdateError(f"{init}: no __version__ found")
        h = hashlib.sha256()  # what goes into the package (as image/install.sh fingerprints it)
        files = [path / "pyproject.toml"]
        for top in PACKAGE_DIRS:
            if (path / top).is_dir():
                files += [p for p in (path / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts
                          and p.suffix != ".pyc"]
        for f in sorted(files):
            h.update(str(f.relative_to(path)).encode() + b"\0" + f.read_bytes())
        return Source(m.group(1), f"{path}{suffix}", [], h.hexdigest())
    if path.is_dir():
        wheels = sorted(path.glob("hymy-*.whl"), key=lambda p: p.stat().st_mtime)
        if not wheels:
            raise UpdateError(f"{path}: no hymy-*.whl here (give a wheel, a directory of wheels or a source tree)")
        wheel = wheels[-1]
        version = _WHEEL.match(wheel.name)["version"]  # type: ignore[index]
        return Source(version, f"hymy{suffix}=={version}", ["--no-index", "--find-links", str(path)],
                      sha256_file(wheel))
    raise UpdateError(f"{path}: no such file or directory")


class Updater:
    """Installs releases under ``prefix`` and switches between them.

    ``units``: the services to restart and watch (default: the enabled ones of DEFAULT_UNITS);
    ``watch_s``: seconds they must stay up after the restart (default 60); ``poll_s``: how often to
    look (default 0.5 s); ``keep``: releases kept on disk (default 3, never the current or previous);
    ``python``: the interpreter for new venvs (default ``python3``, falling back to this one);
    ``pip_options``: extra pip options (e.g. ``--no-deps`` in tests); ``health_command``: run after the
    units are up, relative names resolved in the new release (default ``bin/hymy status --json``);
    ``pip_from_here``: make the venv without pip and install into it with this interpreter's pip
    (``pip --python``; quicker, for tests and for systems whose venvs lack ensurepip; default False).
    """

    def __init__(self, prefix: str | Path = "/opt/hymy", *, manager: ServiceManager | None = None,
                 units: Sequence[str] | None = None, watch_s: float = 60.0, poll_s: float = 0.5,
                 extras: str | None = None, keep: int = 3, python: str | None = None,
                 system_site_packages: bool = True, pip_options: Sequence[str] = (),
                 health_command: Sequence[str] | None = ("bin/hymy", "status", "--json"),
                 pip_from_here: bool = False,
                 log: Callable[[str], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.prefix = Path(prefix)
        self.manager = manager or Systemctl()
        self._units = list(units) if units else None
        self.watch_s = watch_s
        self.poll_s = poll_s
        self.extras = extras
        self.keep = keep
        self.python = python or shutil.which("python3") or sys.executable
        self.system_site_packages = system_site_packages
        self.pip_options = list(pip_options)
        self.health_command = list(health_command) if health_command else None
        self.pip_from_here = pip_from_here
        self.log = log or (lambda line: print(line, file=sys.stderr))
        self.sleep = sleep
        self.clock = clock

    # --- layout ---------------------------------------------------------------------------------
    @property
    def releases(self) -> Path:
        return self.prefix / "releases"

    @property
    def current_link(self) -> Path:
        return self.prefix / "current"

    def current(self) -> str | None:
        """The name of the release ``current`` points at, or None."""
        try:
            return Path(os.readlink(self.current_link)).name
        except OSError:
            return None

    def release_info(self, name: str) -> dict:
        try:
            return json.loads((self.releases / name / "release.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def units(self) -> list[str]:
        if self._units is None:
            self._units = [u for u in DEFAULT_UNITS if self.manager.enabled(u)]
        return self._units

    # --- steps ----------------------------------------------------------------------------------
    def install(self, source: Source, extras: str) -> str:
        """Install ``source`` as a release beside the others; returns the release's name.

        A release with the same content is reused. Nothing running is touched.
        """
        self.releases.mkdir(parents=True, exist_ok=True)
        name = source.version
        current = self.current()
        existing = self.release_info(name)
        if existing.get("source_sha256") == source.fingerprint and (self.releases / name / "bin/hymy").exists():
            self.log(f"release {name} already installed")
            return name
        if name == current:  # same version, different content: never overwrite the running code
            name = f"{source.version}-{source.fingerprint[:8]}"
        target = self.releases / name
        shutil.rmtree(target, ignore_errors=True)
        self.log(f"installing release {name} into {target}")
        venv = [self.python, "-m", "venv", str(target)]
        if self.system_site_packages:
            venv.insert(3, "--system-site-packages")
        pip = [str(target / "bin/python"), "-m", "pip"]
        if self.pip_from_here:
            venv.insert(3, "--without-pip")
            pip = [sys.executable, "-m", "pip", "--python", str(target / "bin/python")]
        pip += ["install", "--disable-pip-version-check", "--no-input", "-q", *self.pip_options,
                *source.pip_options, source.spec]
        for argv in (venv, pip):
            proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=1800)
            if proc.returncode != 0:
                shutil.rmtree(target, ignore_errors=True)
                raise UpdateError(f"{' '.join(argv[:4])}... failed:\n{(proc.stderr or proc.stdout).strip()[-2000:]}")
        info = {"version": source.version, "source_sha256": source.fingerprint, "extras": extras,
                "installed_at": format_ts(utcnow())}
        (target / "release.json").write_text(json.dumps(info), encoding="utf-8")
        return name

    def switch(self, name: str) -> None:
        """Point ``current`` at ``releases/<name>`` atomically (a new link renamed over the old)."""
        if not (self.releases / name / "bin").is_dir():
            raise UpdateError(f"{self.releases / name}: not an installed release")
        tmp = self.prefix / f".current.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(Path("releases") / name)
        os.replace(tmp, self.current_link)
        fd = os.open(self.prefix, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def wait_healthy(self, watch_s: float) -> str | None:
        """Restart the units and watch them for ``watch_s`` seconds; None when healthy, else why not."""
        units = self.units()
        start = self.clock()
        if units:
            problem = self.manager.restart(units)
            if problem:
                return problem
        baseline: dict[str, int] = {}
        ready: set[str] = set()
        while True:
            elapsed = self.clock() - start
            for unit in units:
                st = self.manager.state(unit)
                if st.active == "failed":
                    return f"{unit} failed ({st.sub or 'no detail'})"
                if unit in ready:
                    if st.active != "active":
                        return f"{unit} stopped being active after READY ({st.active}/{st.sub})"
                    if st.restarts > baseline[unit]:
                        return f"{unit} restarted {st.restarts - baseline[unit]} time(s) within {elapsed:.0f} s"
                elif st.active == "active":
                    ready.add(unit)
                    baseline[unit] = st.restarts
                    self.log(f"{unit} ready after {elapsed:.1f} s")
            if elapsed >= watch_s:
                missing = [u for u in units if u not in ready]
                if missing:
                    return f"{', '.join(missing)} not ready within {watch_s:.0f} s"
                break
            self.sleep(self.poll_s)
        if self.health_command:
            argv = [str(self.current_link / a) if a.startswith("bin/") else a for a in self.health_command]
            try:
                proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return f"health check {' '.join(argv)} failed: {exc}"
            if proc.returncode != 0:
                return f"health check {' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[-500:]}"
        return None

    def prune(self, protect: Sequence[str]) -> None:
        """Keep the newest ``keep`` releases (by install time) plus those in ``protect``."""
        dirs = sorted((p for p in self.releases.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime,
                      reverse=True)
        for p in dirs[self.keep:]:
            if p.name not in protect:
                shutil.rmtree(p, ignore_errors=True)
                self.log(f"removed old release {p.name}")

    # --- the whole update -----------------------------------------------------------------------
    def update(self, source: str | Path) -> Outcome:
        previous = self.current()
        extras = self.extras or (self.release_info(previous).get("extras") if previous else None) or "kiosk"
        src = resolve_source(source, extras)
        name = self.install(src, extras)
        if name == previous:
            return Outcome(True, name, previous, f"release {name} is already the current one; nothing to do")
        self.switch(name)
        self.log(f"switched {self.current_link} -> releases/{name} (was {previous or 'nothing'})")
        problem = self.wait_healthy(self.watch_s)
        if problem is None:
            self.prune([name] + ([previous] if previous else []))
            return Outcome(True, name, previous, f"updated to {name} (was {previous or 'nothing'})")

        self.log(f"release {name} is unhealthy: {problem}")
        info = self.release_info(name)
        info.update(failed=problem, failed_at=format_ts(utcnow()))
        (self.releases / name / "release.json").write_text(json.dumps(info), encoding="utf-8")
        if previous is None:
            return Outcome(False, name, None, f"release {name} failed ({problem}) and there is nothing to roll back to")
        self.switch(previous)
        self.log(f"rolled back {self.current_link} -> releases/{previous}")
        again = self.wait_healthy(min(self.watch_s, 30.0))
        tail = "" if again is None else f"; WARNING: {previous} is not healthy either: {again}"
        return Outcome(False, name, previous, f"update to {name} failed ({problem}); rolled back to {previous}{tail}")
