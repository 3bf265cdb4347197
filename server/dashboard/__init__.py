"""The manager dashboard: server-rendered pages over the central server's results.

``server.dashboard.routes.install(app, data)`` mounts every page module's router on the app.
Results come from ``server.results`` as ``hymy.figures.Figure``; the pure parts (charts, page models)
import nothing from FastAPI or SQLAlchemy.
"""
