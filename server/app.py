"""The FastAPI app factory: ``create_app(settings)`` builds a fresh app over its own database engine."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine, text

from hymy import __version__
from hymy.extras import missing_package
from hymy.periodic import Jobs
from hymy.protocol import Batch

from . import admin, api_device, api_manager, limitsync
from .afteringest import AfterIngest, OnIngested
from .db import make_engine
from .fastpath import DevicePath
from .leases import LeaseGate, Leases
from .loopwrite import LoopWrites
from .metrics import Metrics
from .middleware import Guard
from .migrate import upgrade
from .offload import Offload
from .settings import Settings

log = logging.getLogger(__name__)
#: How long the app's shutdown waits for periodic jobs in progress, in seconds (all of them together).
JOBS_STOP_S = 10.0


def settle_heap() -> None:
    """Call once start-up is done: collect, then move every object alive now (SQLAlchemy metadata, pydantic
    schemas, routes: they live as long as the process) out of the garbage collector's generations. The
    collections that a batch of 500 events triggers then look only at new objects (bench/ingest.py
    measured ingest about a fifth faster on SQLite)."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """A new app: engine from ``settings.database_url`` (or ``engine``), migrations run if ``settings.migrate``.

    ``app.state``: ``settings``, ``engine``, ``offload`` (the device API's database threads,
    ``server.offload``), ``metrics``, ``on_ingested`` (callbacks run on one worker
    thread after a batch that stored something commits: ``hook(engine, {store_id, ...})``, batches that
    arrive meanwhile folded into the next call; see ``server.afteringest``), ``after_ingest`` (that
    worker), ``jobs``
    (``hymy.periodic.Jobs``: pruning, the alert sweep, reports; run by the app's lifespan when
    ``settings.background_jobs``) and ``on_shutdown`` (callables run when the lifespan ends, after the jobs
    stopped).
    """
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url, settings.pool_per_worker)
    if settings.migrate:
        upgrade(engine)
    app = FastAPI(title="Hymy server", version=__version__, lifespan=_lifespan,
                  description="Device API (enrol, responses, heartbeat, config) and the manager API. "
                              "See docs/protocol.md and docs/server.md.")
    app.state.settings = settings
    app.state.engine = engine
    app.state.metrics = Metrics()
    app.state.on_ingested: list[OnIngested] = []
    app.state.after_ingest = AfterIngest(engine, app.state.on_ingested)
    app.state.leases = Leases(engine)  # each job's work once across workers and instances
    app.state.jobs = Jobs(gate=LeaseGate(app.state.leases))
    app.state.on_shutdown: list[Callable[[], None]] = []
    limitsync.install(app)  # device_limiter, ip_limiter, enroll_limiter: hold across workers and instances
    app.state.offload = Offload(engine.dialect.name, settings.pool_per_worker,
                                LoopWrites(engine) if engine.dialect.name == "sqlite" else None)
    app.state.on_shutdown.append(app.state.offload.close)
    app.include_router(api_device.router)
    app.include_router(api_manager.router)
    _ops(app)
    app.add_middleware(DevicePath)  # the device API's hot path (server.fastpath), inside Guard
    app.add_middleware(Guard, max_body_bytes=settings.max_body_bytes)
    _openapi(app)
    _pruning(app, settings)
    _components(app, settings)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the app's periodic jobs (unless ``settings.background_jobs`` is False); at the end stop them
    and the after-ingest worker (waiting at most ``JOBS_STOP_S`` seconds for each) and run
    ``app.state.on_shutdown``."""
    jobs: Jobs = app.state.jobs
    # the threads that run the other requests' database work (the device API has server.offload's):
    # as many as the worker's pool has connections, so a burst queues here, not on the pool
    to_thread.current_default_thread_limiter().total_tokens = app.state.settings.pool_per_worker
    app.state.offload.start()
    if app.state.settings.background_jobs:
        jobs.start()
    try:
        yield
    finally:
        await run_in_threadpool(jobs.stop, JOBS_STOP_S)
        await run_in_threadpool(app.state.after_ingest.stop, JOBS_STOP_S)
        for close in reversed(app.state.on_shutdown):
            try:
                close()
            except Exception:
                log.exception("shutdown step %r failed", close)


def _pruning(app: FastAPI, settings: Settings) -> None:
    """With ``settings.retention_days``: prune raw events older than that at start and every
    ``settings.prune_interval_s``, once per period across workers and instances (the jobs' lease gate;
    the DELETE is idempotent anyway)."""
    if not settings.retention_days:
        return
    engine, days = app.state.engine, settings.retention_days

    def prune() -> None:
        log.info("pruned %s", admin.prune(engine, days))

    app.state.jobs.add("prune", settings.prune_interval_s, prune, first_after_s=0)


def _components(app: FastAPI, settings: Settings) -> None:
    """Install the components of ``settings.components`` (alerts, then the dashboard).

    A component that cannot load stops the start-up with :class:`hymy.errors.MissingPackage`, which names
    the missing package and the extra to install: a server without its dashboard or alerts must never
    start and look healthy.
    """
    for name, install in (("alerts", _install_alerts), ("dashboard", _install_dashboard)):
        if name in settings.components:
            try:
                install(app, settings)
            except ModuleNotFoundError as exc:
                raise missing_package(exc, f"the server's {name}") from exc


def _install_alerts(app: FastAPI, settings: Settings) -> None:
    from server.alerts.install import install
    from server.reports.install import install as install_reports

    install(app)
    install_reports(app)


def _install_dashboard(app: FastAPI, settings: Settings) -> None:
    from server.dashboard.data import DashboardData
    from server.dashboard.routes import install

    install(app, DashboardData(app.state.engine, settings))


def _ops(app: FastAPI) -> None:
    @app.get("/healthz", tags=["ops"], response_class=PlainTextResponse)
    def healthz() -> str:
        """Liveness: the process answers."""
        return "ok"

    @app.get("/readyz", tags=["ops"], response_class=PlainTextResponse,
             responses={503: {"description": "database unreachable"}})
    async def readyz(request: Request) -> Response:
        """Readiness: the database answers a query."""
        def ping() -> None:
            with request.app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        try:
            await run_in_threadpool(ping)
        except Exception as exc:
            return PlainTextResponse(f"database unreachable: {type(exc).__name__}", status_code=503)
        return PlainTextResponse("ready")

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def metrics(request: Request) -> Response:
        """Prometheus text format: requests, ingest counts, rejected events, devices' last seen."""
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _openapi(app: FastAPI) -> None:
    """Add the Batch model (read by hand for per-event validation and gzip) to the OpenAPI components."""
    from fastapi.openapi.utils import get_openapi

    def build() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        batch = Batch.model_json_schema(ref_template="#/components/schemas/{model}", mode="validation")
        for name, sub in batch.pop("$defs", {}).items():
            comps.setdefault(name, sub)
        comps["Batch"] = batch
        app.openapi_schema = schema
        return schema

    app.openapi = build
