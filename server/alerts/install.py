"""Wiring alerts and reports into the server app: one call from ``server.app.create_app``.

``install(app)`` adds the alerts JSON API, registers the post-ingest hook, and runs the sweep and
the report scheduler for the app's lifetime (started and stopped with the app's lifespan).

Configuration: e-mail from ``HYMY_SMTP_*`` (see ``server.alerts.smtp``), links in notices from
``HYMY_PUBLIC_URL`` (the dashboard's address, e.g. ``https://hymy.shop.example``). Tests and tools
may pass ``settings.extra["smtp"]`` (an SmtpSettings), ``["public_url"]``, ``["alert_sweep_s"]``
and ``["report_interval_s"]`` instead.
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI

from server.alerts.api import router
from server.alerts.engine import SWEEP_S, AlertService
from server.alerts.smtp import SmtpSettings
from server.reports.scheduler import ReportScheduler

log = logging.getLogger(__name__)


def install(app: FastAPI) -> AlertService:
    """Mount the alerts API and start alerts and reports with the app; returns the AlertService."""
    settings = app.state.settings
    engine = app.state.engine
    extra = getattr(settings, "extra", None) or {}
    smtp = extra["smtp"] if "smtp" in extra else SmtpSettings.from_env()
    base_url = extra.get("public_url") or os.environ.get("HYMY_PUBLIC_URL") or None
    service = AlertService(engine, smtp=smtp, base_url=base_url, sweep_s=float(extra.get("alert_sweep_s", SWEEP_S)))
    reports = ReportScheduler(engine, smtp, base_url=base_url,
                              interval_s=float(extra.get("report_interval_s", 60.0)))
    app.state.alerts = service
    app.state.reports = reports
    app.state.on_ingested.append(service.on_ingested)
    app.include_router(router)

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        service.start()
        reports.start()
        if smtp is None:
            log.info("e-mail alerts and reports are off: HYMY_SMTP_HOST is not set")
        try:
            async with inner(a) as state:
                yield state
        finally:
            reports.stop()
            service.stop(wait=False)

    app.router.lifespan_context = lifespan
    return service
