"""The commands Hymy prints for the user run as printed: after `make demo` in a checkout, `hymy` is not on
the shell's PATH (it is .venv/bin/hymy), so the demo's banner must not say plain `hymy status`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from deploy.demo import Demo, banner
from tests import procs
from tests.conftest import ROOT


def _demo(tmp_path: Path) -> Demo:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[device]\nname = "demo"\ndata_dir = "{tmp_path / "data"}"\nclock = "trust"\n')
    return Demo(base=tmp_path, port=8000, database_url="sqlite://", kiosk_config=config, username="manager",
                password="pw", kiosk_store_id="s1")


def _hints(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "Try:" in line)
    return [lines[start].split("Try:", 1)[1].strip()] + [
        line.strip() for line in lines[start + 1:] if line.startswith("      ") and line.strip()]


def test_the_demo_banner_hints_run_as_printed_without_hymy_on_path(tmp_path: Path, monkeypatch) -> None:
    shell_path = "/usr/local/bin:/usr/bin:/bin"  # a fresh shell after `make demo`: no venv activated
    monkeypatch.setenv("PATH", shell_path)
    monkeypatch.chdir(ROOT)  # where `make demo` runs
    status = _hints(banner(_demo(tmp_path)))[0]
    assert status.split()[1:3] == ["status", "--config"], status
    done = procs.run(["sh", "-c", status], capture_output=True, text=True, timeout=120,
                     env={**os.environ, "PATH": shell_path}, cwd=ROOT)
    assert done.returncode == 0, f"{status!r}: {done.stderr}"
    assert "Pending events:" in done.stdout


def test_the_demo_banner_says_plain_hymy_when_the_shell_finds_this_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", f"{Path(sys.prefix) / 'bin'}{os.pathsep}/usr/bin:/bin")
    hints = _hints(banner(_demo(tmp_path)))
    if not (Path(sys.prefix) / "bin" / "hymy").exists():  # running from a tree without the console script
        assert all(h.startswith(f"{sys.executable} -m hymy ") for h in hints), hints
    else:
        assert [h.split()[:2] for h in hints] == [["hymy", "status"], ["hymy", "simulate"]], hints
