"""200 simulated kiosks enrol and sync at once against one ``hymy server`` process: no error, no loss.

Four worker processes (tests/e2e/fleetworker.py) hold 50 kiosks each: a real device store with a few
hours of simulated presses and a real sync agent per kiosk, all starting their enrolment and drain at
the same instant.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from server import admin
from server.db import make_engine
from tests import procs
from tests.e2e.system import System

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DEVICES = 200
WORKERS = 4


def test_200_kiosks_sync_at_once_without_error_or_loss(tmp_path):
    system = System(tmp_path / "sys")
    try:
        system.start_server()
        engine = make_engine(system.database_url)
        codes = [admin.create_device(engine, system.store_id, name=f"fleet-{i}").code for i in range(DEVICES)]
        store_config = admin.store_config(engine, system.store_id).model_dump(mode="json")
        engine.dispose()

        start_at = time.time() + 8  # every worker has made its stores by then
        workers = []
        for w in range(WORKERS):
            spec = {"server": system.url, "root": str(tmp_path / f"w{w}"), "start_at": start_at, "hours": 3,
                    "rate": 10, "store_config": store_config,
                    "devices": [{"index": i, "code": codes[i]} for i in range(w, DEVICES, WORKERS)]}
            path = tmp_path / f"worker{w}.json"
            path.write_text(json.dumps(spec))
            workers.append(procs.Popen([sys.executable, "-m", "tests.e2e.fleetworker", str(path)], cwd=ROOT,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        results = []
        for p in workers:
            out, err = p.communicate(timeout=180)
            assert p.returncode == 0, err[-3000:]
            results += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        took = time.time() - start_at

        assert len(results) == DEVICES
        failed = [r for r in results if not r["ok"] or r["error"]]
        assert not failed, failed[:5]
        assert all(r["sent"] == r["stored"] for r in results)
        device_ids = {r["device_id"] for r in results}
        assert len(device_ids) == DEVICES  # each kiosk enrolled as itself

        # the server holds exactly what each kiosk stored, per device
        on_server = Counter(dict(system.query(
            "SELECT device_id, count(*) FROM (SELECT device_id FROM responses UNION ALL "
            "SELECT device_id FROM followups) GROUP BY device_id")))
        assert on_server == Counter({r["device_id"]: r["stored"] for r in results if r["stored"]})
        total = sum(r["stored"] for r in results)
        assert total > 0  # the kiosks had presses to send (busy hours, tests/e2e/fleetworker.py)
        assert sum(on_server.values()) == total
        errors = system.query("SELECT count(*) FROM responses WHERE device_id NOT IN (SELECT id FROM devices)")
        assert errors == [(0,)]
        print(f"{DEVICES} kiosks, {total} events delivered {took:.1f} s after the common start")
    finally:
        system.stop_all()
