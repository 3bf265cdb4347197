"""The technician's hidden screens: the PIN pad, the status page and the button test.

Layout in ``maintenance.kv``; what they show comes from ``kiosk.maintenance.Maintenance`` (the app
copies it into these properties). Imported when a technician first opens one of them.
"""

from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

#: A maintenance row's comfortable height, in lines of its text.
ROW_LINES = 2.0


class PinScreen(Screen):
    entered = StringProperty("")
    message = StringProperty("")


class MaintenanceScreen(Screen):
    rows = ListProperty([])  # [(label, value), ...] shown as a two-column table
    message = StringProperty("")

    def on_kv_post(self, base_widget):
        self.ids.info.bind(height=self._size_rows)

    def on_rows(self, *_):
        """One ``InfoRow`` per row, all on the screen at once, from the top (no scrolling that could
        hide the last row)."""
        box = self.ids.info
        box.clear_widgets()
        for label, value in self.rows:
            row = Factory.InfoRow(size_hint_y=None)
            row.label, row.value = label, value
            box.add_widget(row)
        box.add_widget(Widget())  # takes what the rows leave, below them
        self._size_rows()

    def _size_rows(self, *_):
        """Each row ``ROW_LINES`` of its text tall, or less when that many rows would not fit the box."""
        rows = [w for w in self.ids.info.children if w.size_hint_y is None]
        if rows:
            height = min(ROW_LINES * rows[0].font_px, self.ids.info.height / len(rows))
            for row in rows:
                row.height = height


class TestButtonsScreen(Screen):
    message = StringProperty("")
