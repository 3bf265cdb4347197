"""The kiosk's screen flow, maintenance controller and assembly run where Kivy cannot be imported.

A child pytest runs their tests with an import hook that refuses every ``kivy`` module and notes
each attempt; a caught ImportError (``except ImportError``) would hide an attempt from the tests, so
the child also reports what was tried, and the test fails on any attempt.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests import procs

ROOT = Path(__file__).resolve().parents[2]
#: The test modules that must pass without Kivy.
KIVY_FREE = ("tests/kiosk/test_screenflow.py", "tests/kiosk/test_maintenance.py", "tests/kiosk/test_assembly.py")

CHILD = """
import importlib.abc, sys

tried = []

class NoKivy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "kivy" or name.startswith("kivy."):
            tried.append(name)
            raise ImportError(f"{name}: Kivy is blocked in this process")
        return None

sys.meta_path.insert(0, NoKivy())
import pytest

code = pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]])
print("KIVY IMPORTS TRIED:", sorted(set(tried)) or "none")
print("KIVY MODULES LOADED:", sorted(m for m in sys.modules if m.split(".")[0] == "kivy") or "none")
sys.exit(code)
"""


def test_screen_flow_and_maintenance_tests_pass_without_kivy(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = procs.run([sys.executable, "-c", CHILD, *KIVY_FREE, "--basetemp", str(tmp_path / "child")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert " passed" in out and " failed" not in out and " error" not in out, out[-4000:]
    assert "KIVY IMPORTS TRIED: none" in out, out[-2000:]
    assert "KIVY MODULES LOADED: none" in out, out[-2000:]


def test_kivy_blocker_catches_an_import_of_kivy(tmp_path):
    """The blocker really blocks: a test module that imports Kivy fails in the child."""
    probe = tmp_path / "test_probe.py"
    probe.write_text("def test_probe():\n    import kivy.clock  # noqa: F401\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = procs.run([sys.executable, "-c", CHILD, str(probe), "--rootdir", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "Kivy is blocked in this process" in proc.stdout
    assert "KIVY IMPORTS TRIED: ['kivy']" in proc.stdout
