"""Wiring reports into the server app: one call from ``server.app.create_app`` (with the alerts).

``install(app)`` makes the app's ``ReportScheduler`` (``app.state.reports``) and, when the server can
send e-mail (``Settings.smtp``), adds it to the app's periodic jobs: every
``Settings.report_interval_s`` seconds (HYMY_REPORT_INTERVAL_S) it sends the reports that are due.
"""

from __future__ import annotations

from fastapi import FastAPI

from server.reports.scheduler import ReportScheduler


def install(app: FastAPI) -> ReportScheduler:
    settings = app.state.settings
    reports = ReportScheduler(app.state.engine, settings.smtp, base_url=settings.public_url)
    app.state.reports = reports
    if settings.smtp is not None:
        app.state.jobs.add("reports", settings.report_interval_s, reports.run_once)
    return reports
