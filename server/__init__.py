"""The central server: ingest API, fleet registry, storage (SQLite or PostgreSQL), manager API.

Entry points: :func:`server.app.create_app` (the FastAPI app built from :class:`server.settings.Settings`),
:mod:`server.admin` (the Python admin API the CLI and tests use), :mod:`server.auth` (users, sessions,
API tokens, authorisation), :mod:`server.testing` (a real Uvicorn on a free loopback port).
"""
