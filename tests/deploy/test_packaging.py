"""Building and installing Hymy prints no warning (setuptools once warned three times about the license
table), in both ways it is installed: a wheel (image/install.sh, hymy update) and editable (make).

Offline: the dev extra brings a setuptools that can build it (--no-build-isolation), so no package index
is needed. Installing each extra alone from the index is image/extras_check.py's job (CI).
"""

from __future__ import annotations

import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from tests import procs
from tests.conftest import ROOT

#: What the sdist/wheel is made from (pyproject's packages plus the files it names).
SOURCE = ["pyproject.toml", "README.md", "hymy", "kiosk", "hardware", "sync", "server", "assets"]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the source, so that the build's own files (build/, *.egg-info) land outside the checkout."""
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    return src


def _warnings(output: str) -> list[str]:
    """The lines a user sees as warnings: Python's (``file.py:LINE: Category: ...``) and pip's (``WARNING:``)."""
    return [line for line in output.splitlines() if re.search(r"\.py:\d+: \w+: |WARNING: ", line)]


def test_building_the_wheel_prints_no_warning(checkout: Path, tmp_path: Path) -> None:
    done = procs.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "wheel", "--no-deps",
                      "--no-build-isolation", "--no-index", "-w", str(tmp_path / "wheels"), str(checkout)],
                     capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _warnings(done.stdout + done.stderr) == [], done.stdout + done.stderr
    [wheel] = (tmp_path / "wheels").glob("hymy-*.whl")
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: AGPL-3.0-or-later" in meta.splitlines()


def test_the_editable_build_prints_no_warning(checkout: Path, tmp_path: Path) -> None:
    """What ``make`` runs (``pip install -e``): pip shows the build backend's warnings, so there must be none.
    (The hook pip calls, called directly: pip would install into the running venv.)"""
    build = "import sys; from setuptools import build_meta; print(build_meta.build_editable(sys.argv[1]))"
    done = procs.run([sys.executable, "-c", build, str(tmp_path / "wheels")], cwd=checkout, capture_output=True,
                     text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert _warnings(done.stdout + done.stderr) == [], done.stdout + done.stderr
    with zipfile.ZipFile(tmp_path / "wheels" / done.stdout.split()[-1]) as z:
        pth = z.read(next(n for n in z.namelist() if n.endswith(".pth"))).decode()
    assert pth.strip() == str(checkout)  # a plain path to the checkout: imports come from the source
