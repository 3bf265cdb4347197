"""Fixtures of the whole-system tests."""

from __future__ import annotations

import pytest

from tests.e2e.system import System


@pytest.fixture
def system(tmp_path):
    """A fresh :class:`System` under ``tmp_path/sys``; every process it started is stopped afterwards."""
    s = System(tmp_path / "sys")
    try:
        yield s
    finally:
        s.stop_all()
