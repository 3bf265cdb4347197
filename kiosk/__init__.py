"""The device app: capture pipeline, local SQLite store, device config, the kiosk's assembly, its
screen flow, the buttons-only kiosk, the Kivy screens and i18n.

Importing ``kiosk`` loads nothing heavy; Kivy is imported only by ``kiosk.ui`` (an import-linter
contract keeps it so).
"""
