"""Alerts on the server: rules evaluated on ingest, episodes with history, acknowledgement, channels.

``hymy.rules`` decides; this package stores episodes (``store``), runs the evaluation after each
ingested batch and on a sweep timer (``engine``), tells people (``webhook``, ``smtp``, ``notice``)
and offers the JSON API the dashboard uses (``api``). See docs/alerts.md.
"""
