"""The server's inside holds (issue 17): ``lint-imports`` keeps the server's contracts of ``.importlinter``,
a wrong-way import in a copy of the tree breaks the right one, naming the import; no server module is
over 400 lines."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The server's contracts (their ids in .importlinter).
CONTRACTS = ("server-alone", "server-no-dashboard", "server-acyclic")
MAX_LINES = 400


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.fail("lint-imports is not installed: it comes with the dev extra (pip install -e '.[dev]')")
    args = [str(exe), "--no-cache", *[a for c in CONTRACTS for a in ("--contract", c)]]
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd), "LC_ALL": "C.UTF-8"})


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the packages' Python files and the contracts, to break on purpose."""
    dst = tmp_path_factory.mktemp("tree")

    def not_python(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if n == "__pycache__" or not (n.endswith(".py") or (Path(folder) / n).is_dir())]

    for package in ("hymy", "assets", "hardware", "kiosk", "sync", "server", "deploy"):
        if (ROOT / package).is_dir():
            shutil.copytree(ROOT / package, dst / package, ignore=not_python)
    shutil.copy(ROOT / ".importlinter", dst / ".importlinter")
    return dst


def test_lint_imports_keeps_the_servers_contracts():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 kept, 0 broken" in run.stdout


@pytest.mark.parametrize(("module", "line", "contract", "found"), [
    ("server/alerts/notice.py", "from server.dashboard.web import render", "never import the dashboard",
     "server.alerts.notice -> server.dashboard.web"),
    ("server/reports/render.py", "from server.dashboard import i18n", "never import the dashboard",
     "server.reports.render -> server.dashboard"),
    ("server/results/daily.py", "from server.api_manager import router", "No import cycles", ".results"),
    ("server/dashboard/views.py", "from server.dashboard.today import router", "No import cycles", ".views"),
    ("server/alerts/source.py", "from server.reports.scheduler import ReportScheduler", "No import cycles",
     ".alerts"),
    ("server/db.py", "from kiosk.store import Store", "never imports kiosk", "server.db -> kiosk.store"),
])
def test_a_wrong_way_import_breaks_the_servers_contracts_naming_it(tree, module, line, contract, found):
    path = tree / module
    original = path.read_text(encoding="utf-8")
    path.write_text(original + f"\n{line}  # a wrong-way import, on purpose\n", encoding="utf-8")
    try:
        run = lint_imports(tree)
    finally:
        path.write_text(original, encoding="utf-8")
    out = run.stdout + run.stderr
    assert run.returncode != 0, out
    broken = out[out.index("Broken contracts"):]
    assert contract in broken and found in " ".join(broken.split()), out


def test_no_server_module_over_400_lines_outside_migrations():
    too_long = {p.relative_to(ROOT).as_posix(): n for p in (ROOT / "server").rglob("*.py")
                if "migrations" not in p.parts and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert too_long == {}
