"""Enrolment: a one-time code becomes a device id and a bearer token, kept in a file only we can read.

The token file (``server.token_file``, default ``<data_dir>/device-token``) is written atomically with
mode 0600 (temporary file created 0600, fsync, rename), so a power cut leaves the old file or the new one,
never half a token, and no other user can read it at any moment. After enrolment the code is removed
from the device config where the file is writable: the line is dropped and everything else (comments,
order) stays as the technician wrote it; the code is single-use on the server anyway.
"""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

from hymy.atomicfile import write_atomic

log = logging.getLogger(__name__)

_CODE_LINE = re.compile(r"^\s*enrolment_code\s*=")
_SECTION = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$")


def read_token(path: Path) -> str | None:
    """The stored device token, or None when there is none (missing or empty file)."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return token or None


def write_token(path: Path, token: str) -> None:
    """Replace the token file atomically; the file is mode 0600 from its first byte."""
    write_atomic(path, token + "\n", mode=0o600, sync_dir=True)


def remove_enrolment_code(config_path: Path) -> bool:
    """Drop ``enrolment_code`` from the ``[server]`` table of the device TOML; True when the file changed.

    The rest of the file is kept byte for byte. Nothing is written unless the result still parses and
    differs from the original only by that key; a read-only file is left alone (logged).
    """
    try:
        text = config_path.read_text(encoding="utf-8")
        before = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.warning("%s: cannot read the device config to remove the used enrolment code: %s", config_path, exc)
        return False
    if "enrolment_code" not in before.get("server", {}):
        return False
    lines = text.splitlines(keepends=True)
    section = None
    kept: list[str] = []
    for line in lines:
        m = _SECTION.match(line)
        if m:
            section = m.group(1)
        if section == "server" and _CODE_LINE.match(line):
            continue
        kept.append(line)
    new_text = "".join(kept)
    try:
        after = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        after = None
    expected = {**before, "server": {k: v for k, v in before["server"].items() if k != "enrolment_code"}}
    if after != expected:
        log.warning("%s: could not remove enrolment_code safely (unusual layout); remove it by hand", config_path)
        return False
    try:
        mode = config_path.stat().st_mode & 0o7777
        write_atomic(config_path, new_text, mode=mode)
    except OSError as exc:
        log.warning("%s: the used enrolment code stays in the file (%s); it cannot be used again",
                    config_path, exc.strerror or exc)
        return False
    log.info("%s: removed the used enrolment code", config_path)
    return True
