"""The manager dashboard: server-rendered pages over the central server's rollups.

``server.dashboard.routes.build_router()`` returns the FastAPI router the app factory mounts.
Pure parts (charts, honest numbers, translations) import nothing from FastAPI or SQLAlchemy.
"""
