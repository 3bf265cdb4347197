"""The device app: capture pipeline, local SQLite store, device config, Kivy screens and i18n.

Importing ``kiosk`` loads nothing heavy; Kivy is imported only by ``kiosk.app`` and its screens.
"""
