"""The architecture holds: ``lint-imports`` keeps the layer contracts of ``.importlinter`` (docs/architecture.md),
a wrong-way import breaks them, and no module outgrows 400 lines.

The wrong-way imports are written into a copy of the tree (its Python files only) and checked there, so
the checkout is never touched; the checker must name the contract and the import it found.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import procs

ROOT = Path(__file__).resolve().parents[1]
#: The packages the contracts cover (``root_packages`` of .importlinter).
PACKAGES = ("hymy", "assets", "hardware", "kiosk", "sync", "server", "deploy")
#: The longest a module may be (issue 17), outside migrations and tests.
MAX_LINES = 400


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the tree at ``cwd`` (its packages come first on the path, no cache)."""
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.fail("lint-imports is not installed: it comes with the dev extra (pip install -e '.[dev]')")
    return procs.run([str(exe), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd), "LC_ALL": "C.UTF-8"})


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the packages' Python files and the contracts, to break on purpose."""
    dst = tmp_path_factory.mktemp("tree")

    def not_python(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if n == "__pycache__" or not (n.endswith(".py") or (Path(folder) / n).is_dir())]

    for package in PACKAGES:
        shutil.copytree(ROOT / package, dst / package, ignore=not_python)
    shutil.copy(ROOT / ".importlinter", dst / ".importlinter")
    return dst


def test_lint_imports_keeps_every_contract():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_contracts_list_no_ignored_imports():
    """A wrong-way import is fixed by moving code, never excused in the contracts file."""
    text = (ROOT / ".importlinter").read_text(encoding="utf-8")
    assert "ignore_imports" not in text


@pytest.mark.parametrize(("module", "line", "contract", "found"), [
    ("hardware/pins.py", "from kiosk.config import DeviceConfig", "Layers:",
     "hardware.pins -> kiosk.config"),
    ("hymy/score.py", "from server.db import make_engine", "Layers:", "hymy.score -> server.db"),
    ("kiosk/capture.py", "from sync.agent import Agent", "Layers:", "kiosk.capture -> sync.agent"),
    ("server/db.py", "from kiosk.store import Store", "The server shares only the core",
     "server.db -> kiosk.store"),
    ("sync/watch.py", "from kiosk.capture import Recorder", "The sync agent reaches the kiosk only",
     "sync.watch -> kiosk.capture"),
    ("hymy/hours.py", "import requests", "The core (hymy) imports only", "hymy.hours -> requests"),
    ("kiosk/capture.py", "import kivy.app", "Only kiosk.ui imports Kivy", "kiosk.capture -> kivy"),
    ("kiosk/clock.py", "import gpiozero", "Only hardware imports gpiozero", "kiosk.clock -> gpiozero"),
    # the server's inside
    ("server/alerts/notice.py", "from server.dashboard.web import render", "never import the dashboard",
     "server.alerts.notice -> server.dashboard.web"),
    ("server/reports/render.py", "from server.dashboard import i18n", "never import the dashboard",
     "server.reports.render -> server.dashboard"),
    ("server/results/daily.py", "from server.api_manager import router", "No import cycles", ".results"),
    ("server/dashboard/views.py", "from server.dashboard.today import router", "No import cycles", ".views"),
    ("server/alerts/source.py", "from server.reports.scheduler import ReportScheduler", "No import cycles",
     ".alerts"),
])
def test_a_wrong_way_import_breaks_the_contracts_naming_it(tree, module, line, contract, found):
    path = tree / module
    if not path.exists():
        pytest.fail(f"{module} is gone: pick another module of that package for this case")
    original = path.read_text(encoding="utf-8")
    path.write_text(original + f"\n{line}  # a wrong-way import, on purpose\n", encoding="utf-8")
    try:
        run = lint_imports(tree)
    finally:
        path.write_text(original, encoding="utf-8")
    out = run.stdout + run.stderr
    assert run.returncode != 0, out
    broken = out[out.index("Broken contracts"):] if "Broken contracts" in out else out
    assert contract in broken, out
    assert found in " ".join(broken.split()), out


def test_no_module_over_400_lines_outside_migrations():
    too_long = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel:
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                too_long[rel] = lines
    assert too_long == {}, f"split these by concept (at most {MAX_LINES} lines): {too_long}"
