"""Wiring alerts into the server app: one call from ``server.app.create_app``.

``install(app)`` adds the alerts JSON API, registers the post-ingest hook, and adds the sweep to the
app's periodic jobs (``app.state.jobs``, run by the app's lifespan). Everything it reads comes from
``app.state.settings`` (``server.settings.Settings``): ``smtp`` (HYMY_SMTP_*), ``public_url``
(HYMY_PUBLIC_URL: links in notices) and ``alert_sweep_s`` (HYMY_ALERT_SWEEP_S).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from server.alerts.api import router
from server.alerts.engine import AlertService

log = logging.getLogger(__name__)


def install(app: FastAPI) -> AlertService:
    """Mount the alerts API, evaluate after every ingested batch and sweep with the app; returns the AlertService."""
    settings = app.state.settings
    service = AlertService(app.state.engine, smtp=settings.smtp, base_url=settings.public_url)
    app.state.alerts = service
    app.state.on_ingested.append(service.on_ingested)
    app.state.jobs.add("alert-sweep", settings.alert_sweep_s, service.sweep)
    app.state.on_shutdown.append(lambda: service.close(wait=False))
    app.include_router(router)
    if settings.smtp is None:
        log.info("e-mail alerts and reports are off: HYMY_SMTP_HOST is not set")
    return service
