"""How a user runs this installation's ``hymy`` from a shell, for the commands Hymy prints as hints.

In a checkout, ``make`` installs ``hymy`` into ``.venv/bin``, which is not on the shell's PATH: a hint
that says ``hymy status`` would answer "hymy: command not found". :func:`hymy_command` says ``hymy`` only
when that name finds this same installation, else the script's path (``.venv/bin/hymy``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def hymy_command() -> str:
    """``hymy`` when PATH finds this installation's script, else its path: relative to the working
    directory when below it (``.venv/bin/hymy``), else absolute; ``python -m hymy`` without a script."""
    script = Path(sys.prefix) / "bin" / "hymy"
    if not script.exists():
        return f"{sys.executable} -m hymy"
    found = shutil.which("hymy")
    if found and Path(found).resolve() == script.resolve():
        return "hymy"
    relative = os.path.relpath(script)
    return relative if not relative.startswith("..") else str(script)
