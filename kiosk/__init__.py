"""The device app: capture pipeline, local SQLite store, device config, Kivy screens and i18n.

Importing ``kiosk`` loads nothing heavy; Kivy is imported only by ``kiosk.ui`` (an import-linter
contract keeps it so).
"""
