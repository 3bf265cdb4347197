"""Alerts on the server: rules evaluated on ingest, episodes with history, acknowledgement, channels.

``hymy.rules`` decides; this package stores episodes (``store``), runs the evaluation after each
ingested batch and on a sweep timer (``engine``), tells people (``webhook``, ``smtp``, ``notice``) in
the store's language (``language``) and offers the JSON API the dashboard uses (``api``). See docs/alerts.md.
"""


def attach(app) -> None:
    """Install alerts and reports on ``app`` unless already there (``server.alerts.install``).

    ``server.app.create_app`` installs them itself; this hook (which ``hymy server`` also calls)
    is therefore idempotent.
    """
    if getattr(app.state, "alerts", None) is not None:
        return
    from server.alerts.install import install

    install(app)
