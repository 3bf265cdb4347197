"""``hymy server``'s processes: one Uvicorn, or N worker processes on one port (``Settings.workers``).

With several workers (uvicorn's own multi-process mode, see docs/server.md for why not gunicorn): the
parent runs the migrations once, then starts N spawned workers that share its listening socket; the
kernel hands each new connection to one of them. Each worker builds its app with :func:`worker_app`
(the app factory uvicorn imports by name) from the same environment as the parent, which
:func:`server.settings.export_for_workers` completed (database, worker count, no migrations). The
parent only supervises: a worker that dies is replaced, SIGTERM/SIGINT stop them all, SIGHUP replaces
them one by one, SIGTTIN/SIGTTOU add or remove one.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import sys

from hymy import children

from . import accesslog
from .settings import Settings, export_for_workers

log = logging.getLogger(__name__)

#: The import name of :func:`worker_app`, for uvicorn.
WORKER_APP = "server.workers:worker_app"
#: The interpreter's thread switch interval in a server process, in seconds (CPython's default 0.005). The event
#: loop and the database threads (``server.offload``, the after-ingest worker) share the GIL, and each sqlite3 or
#: psycopg call gives it up: with the default, a thread that gave it up for a 20 us read could wait 5 ms to get it
#: back while another thread ran Python, so a database thread got the GIL a few hundred times a second while
#: every request needs it several times (``bench/fleet.py --realistic --quick`` on SQLite: p50 0.1-5 s, p99
#: 5.7-25 s, failed connections; with 1 ms: p50 7 ms, p99 245 ms, about 8 % more CPU per request).
SWITCH_INTERVAL_S = 0.001
#: Exit status that tells uvicorn's parent a worker cannot start (it then stops instead of restarting it).
STARTUP_FAILURE = 3


def uvicorn_options(settings: Settings, host: str, port: int) -> dict:
    """What ``uvicorn.run`` is given besides the app: the address, the keep-alive (``keep_alive_s``),
    ``X-Forwarded-For`` trusted from the local proxy only, and the access log (``access_log``)."""
    return {"host": host, "port": port, "log_level": "info", "proxy_headers": True,
            "forwarded_allow_ips": "127.0.0.1", "timeout_keep_alive": settings.keep_alive_s,
            **accesslog.uvicorn_options(settings.access_log)}


def raise_open_files_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit (inherited by the workers): every
    kiosk keeps a connection open for ``keep_alive_s``, 10,000 kiosks need 10,000 sockets, and a
    service's soft limit is often 1,024. Returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):  # pragma: no cover - a sandbox that refuses: keep the soft limit
            log.warning("could not raise the open files limit from %d to %d", soft, hard)
    return soft


def serve(settings: Settings, host: str, port: int) -> None:
    """Run the server until stopped: in this process with one worker, else the parent of ``workers``."""
    import uvicorn

    from .app import create_app, settle_heap

    sys.setswitchinterval(SWITCH_INTERVAL_S)  # inherited by nothing: worker_app sets it in each worker
    raise_open_files_limit()
    options = uvicorn_options(settings, host, port)
    if settings.workers == 1:
        app = create_app(settings)  # migrations, then the dashboard, alerts, reports, pruning
        settle_heap()
        uvicorn.run(app, **options)
        return
    from .db import make_engine
    from .migrate import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)  # once, before any worker starts
    engine.dispose()
    export_for_workers(settings)
    uvicorn.run(WORKER_APP, factory=True, workers=settings.workers, **options)


def worker_app():
    """The app of one worker process (uvicorn calls it in each): settings from the environment, no
    migrations; the worker ends when the parent does, however the parent ends. A worker that cannot build its app exits with :data:`STARTUP_FAILURE`, so the parent
    stops (and systemd restarts the service) instead of restarting it in a loop."""
    from .app import create_app, settle_heap

    children.die_with_parent(signal.SIGTERM, os.getppid())  # a parent killed outright takes its workers along
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        app = create_app(Settings.from_env())
    except Exception:
        log.exception("worker: the app could not be built")
        sys.exit(STARTUP_FAILURE)
    settle_heap()
    return app
