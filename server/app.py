"""The FastAPI app factory: ``create_app(settings)`` builds a fresh app over its own database engine."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine, text
from starlette.routing import Match

from hymy import __version__
from hymy.extras import missing_package
from hymy.periodic import Jobs
from hymy.protocol import Batch

from . import admin, api_device, api_manager, limitsync
from .db import make_engine
from .jsontext import field_name
from .leases import LeaseGate, Leases
from .metrics import Metrics
from .migrate import upgrade
from .ratelimit import RateLimiter
from .settings import Settings

log = logging.getLogger(__name__)
OnIngested = Callable[[Engine, set[str]], None]
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

    ``app.state``: ``settings``, ``engine``, ``metrics``, ``on_ingested`` (callbacks run in a background
    thread after a batch that stored something commits: ``hook(engine, {store_id, ...})``), ``jobs``
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
    app.state.leases = Leases(engine)  # each job's work once across workers and instances
    app.state.jobs = Jobs(gate=LeaseGate(app.state.leases))
    app.state.on_shutdown: list[Callable[[], None]] = []
    limitsync.install(app)  # device_limiter, ip_limiter, enroll_limiter: hold across workers and instances
    app.include_router(api_device.router)
    app.include_router(api_manager.router)
    _ops(app)
    _middleware(app, settings)
    _openapi(app)
    _pruning(app, settings)
    _components(app, settings)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the app's periodic jobs (unless ``settings.background_jobs`` is False); at the end stop them
    (waiting at most ``JOBS_STOP_S`` seconds) and run ``app.state.on_shutdown``."""
    jobs: Jobs = app.state.jobs
    if app.state.settings.background_jobs:
        jobs.start()
    try:
        yield
    finally:
        await run_in_threadpool(jobs.stop, JOBS_STOP_S)
        for close in reversed(app.state.on_shutdown):
            try:
                close()
            except Exception:
                log.exception("shutdown step %r failed", close)


def _pruning(app: FastAPI, settings: Settings) -> None:
    """With ``settings.retention_days``: prune raw events older than that at start and every
    ``settings.prune_interval_s``. Several instances may all prune: the DELETE is idempotent."""
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


def _middleware(app: FastAPI, settings: Settings) -> None:
    @app.middleware("http")
    async def guard(request: Request, call_next):
        started = time.perf_counter()
        nul = _nul_parameter(request)
        if nul is not None:
            return JSONResponse({"detail": [{"loc": nul, "msg": f"{field_name(nul[1:] or nul)}: must not contain "
                                             "a NUL character", "type": "string_nul"}]}, status_code=422)
        if request.url.path.startswith("/api/"):
            ip = request.client.host if request.client else "?"
            wait = request.app.state.ip_limiter.hit(ip)
            if wait:
                return JSONResponse({"detail": "rate limit: too many requests from this address; retry later"},
                                    status_code=429, headers={"Retry-After": RateLimiter.retry_after(wait)})
            if request.method in ("POST", "PUT", "PATCH"):
                length = request.headers.get("content-length")
                if length is None and request.headers.get("transfer-encoding"):
                    return JSONResponse({"detail": "Content-Length: required"}, status_code=411)
                if length and (not length.isdigit() or int(length) > settings.max_body_bytes):
                    return JSONResponse({"detail": f"body: larger than {settings.max_body_bytes} bytes"},
                                        status_code=413)
        response = await call_next(request)
        if response.status_code == 405:
            response.headers["Allow"] = ", ".join(sorted(allowed_methods(request.app, request.scope)))
        route = request.scope.get("route")
        label = getattr(route, "path", "other")
        m = request.app.state.metrics
        m.requests.labels(request.method, label, str(response.status_code)).inc()
        m.latency.labels(label).observe(time.perf_counter() - started)
        return response


def _nul_parameter(request: Request) -> list[str] | None:
    """``["path"]`` or ``["query", name]`` when the URL carries a NUL character (no database stores it)."""
    if "\x00" in request.url.path:
        return ["path"]
    if "%00" in request.url.query:
        for key, value in request.query_params.multi_items():
            if "\x00" in key or "\x00" in value:
                return ["query", key]
        return ["query"]
    return None


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def allowed_methods(app: FastAPI, scope) -> set[str]:
    """Every method some route of ``app`` answers at the path of ``scope``: the ``Allow`` of a 405.
    Starlette lists only the methods of the first route whose path matched (POST but not DELETE for
    /api/v1/session); this asks every route, for every method, through the public ``matches``."""
    return {m for m in METHODS if any(route.matches({**scope, "method": m})[0] is Match.FULL
                                      for route in app.router.routes)}


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
