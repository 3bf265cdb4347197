"""image/install.sh and image/ci-check.sh: shell syntax and argument handling (the full installer run
is image/ci-check.sh, in a debootstrap root, run by .ci/run)."""

from __future__ import annotations

import pytest

from tests import procs
from tests.conftest import ROOT

SCRIPTS = ["image/install.sh", "image/ci-check.sh", "image/pi-gen/stage-hymy/prerun.sh",
           "image/pi-gen/stage-hymy/00-install/00-run.sh"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_install_scripts_parse_and_are_executable(script: str) -> None:
    path = ROOT / script
    assert path.stat().st_mode & 0o111, f"{script} is not executable"
    proc = procs.run(["bash", "-n", str(path)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def test_install_script_help_and_missing_source() -> None:
    help_ = procs.run(["bash", str(ROOT / "image/install.sh"), "--help"], capture_output=True, text=True,
                      timeout=30)
    assert help_.returncode == 0 and "--wheelhouse DIR" in help_.stdout
    bare = procs.run(["bash", str(ROOT / "image/install.sh")], capture_output=True, text=True, timeout=30)
    assert bare.returncode == 2 and "give --wheel, --source or --wheelhouse" in bare.stderr
    wrong = procs.run(["bash", str(ROOT / "image/install.sh"), "--frobnicate"], capture_output=True,
                      text=True, timeout=30)
    assert wrong.returncode == 2 and "unknown option --frobnicate" in wrong.stderr


def test_install_script_installs_every_unit_and_enables_the_device_ones() -> None:
    text = (ROOT / "image/install.sh").read_text()
    assert 'ENABLE_UNITS="hymy-firstboot.service hymy-kiosk.service hymy-sync.service"' in text
    assert "RuntimeWatchdogSec=15s" in text
    assert 'GROUPS_NEEDED="gpio video render input"' in text
