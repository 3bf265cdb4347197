"""For image/ci-check.sh: a real central server on loopback with one store and one new device.

Prints ``<base url> <one-time enrolment code>`` on one line, then serves until stdin closes or the
process is stopped. Usage: ``python image/ci_server.py DB_FILE``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(db: str) -> None:
    from server.admin import create_device, create_store
    from server.settings import Settings
    from server.testing import serve

    Path(db).unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{db}")
    with serve(settings) as running:
        engine = running.app.state.engine
        store_id = create_store(engine, "CI store", timezone="Europe/Helsinki")
        device = create_device(engine, store_id, "CI kiosk")
        print(running.base_url, device.code, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main(sys.argv[1])
