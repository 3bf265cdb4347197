"""The technician's hidden screens: the PIN pad, the status page and the button test.

Layout in ``maintenance.kv``; what they show comes from ``kiosk.maintenance.Maintenance`` (the app
copies it into these properties). Imported when a technician first opens one of them.
"""

from __future__ import annotations

from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen


class PinScreen(Screen):
    entered = StringProperty("")
    message = StringProperty("")


class MaintenanceScreen(Screen):
    rows = ListProperty([])  # [(label, value), ...] shown as a two-column table
    message = StringProperty("")


class TestButtonsScreen(Screen):
    message = StringProperty("")
