"""The customer's touchscreen (Kivy). ``kiosk.ui.app.create_app(config)`` builds the app.

Importing this package loads nothing heavy: the pure parts (``flow``, ``pinlock``, ``faces``,
``backlight``) import no Kivy and test in microseconds; ``app``, ``screens``, ``smiley`` and
``maintenance`` import Kivy.
"""
