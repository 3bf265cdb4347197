"""The technician's hidden screens: the PIN pad, the status page and the button test.

Layout in ``maintenance.kv``; what they show comes from ``kiosk.maintenance.Maintenance`` (the app
copies it into these properties). Imported when a technician first opens one of them.
"""

from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen


class PinScreen(Screen):
    entered = StringProperty("")
    message = StringProperty("")


class MaintenanceScreen(Screen):
    rows = ListProperty([])  # [(label, value), ...] shown as a two-column table
    message = StringProperty("")

    def on_rows(self, *_):
        """One ``InfoRow`` per row, all on the screen (the box shares its height among them)."""
        box = self.ids.info
        box.clear_widgets()
        for label, value in self.rows:
            row = Factory.InfoRow()
            row.label, row.value = label, value
            box.add_widget(row)


class TestButtonsScreen(Screen):
    message = StringProperty("")
