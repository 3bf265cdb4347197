"""Small real wheels named ``hymy`` for the update tests (installing the full Hymy with Kivy into two
fresh venvs per test would need the package index and minutes).

Each wheel's ``hymy`` command behaves like a release's: ``hymy sync`` runs a loop that sends READY=1
and WATCHDOG=1 over the real notify protocol (hymy.notify's wire format), or, for a broken release,
never becomes ready (exits at once, or hangs); ``hymy status --json`` prints a JSON object.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

SERVICE = '''
import json, os, socket, sys, time

BEHAVIOUR = {behaviour!r}
VERSION = {version!r}

def _notify(msg):
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(msg.encode(), "\\0" + addr[1:] if addr.startswith("@") else addr)

def main():
    cmd = sys.argv[1:2]
    if cmd == ["status"]:
        print(json.dumps({{"version": VERSION}}))
        return 0
    if BEHAVIOUR == "crash":
        return 1
    if BEHAVIOUR == "hang":
        time.sleep(3600)
        return 0
    _notify("READY=1\\nSTATUS=" + VERSION)
    interval = int(os.environ.get("WATCHDOG_USEC", "1000000")) / 2e6
    while True:
        _notify("WATCHDOG=1")
        time.sleep(min(interval, 0.2))
'''


def build_wheel(directory: Path, version: str, behaviour: str = "good") -> Path:
    """Write ``hymy-<version>-py3-none-any.whl`` with a ``hymy`` console script; returns its path."""
    files = {
        "hymy_release_probe.py": SERVICE.format(behaviour=behaviour, version=version).encode(),
        f"hymy-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: hymy\nVersion: {version}\n".encode(),
        f"hymy-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: hymy-tests\nRoot-Is-Purelib: true\n"
                                          b"Tag: py3-none-any\n",
        f"hymy-{version}.dist-info/entry_points.txt": b"[console_scripts]\nhymy = hymy_release_probe:main\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"hymy-{version}.dist-info/RECORD,,")
    files[f"hymy-{version}.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    path = directory / f"hymy-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path
