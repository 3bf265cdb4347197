"""The comment screen and its text field, which never holds more than the protocol's value length.

A module of its own so that starting the kiosk does not import Kivy's TextInput: only this screen,
built the first time a customer is asked for a comment, uses it. Layout: ``customer.kv``.
"""

from __future__ import annotations

from kivy.properties import NumericProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.textinput import TextInput

from hymy.protocol import MAX_VALUE_CHARS


class LimitedInput(TextInput):
    """A TextInput that never holds more than ``max_chars`` characters (the comment limit)."""

    max_chars = NumericProperty(MAX_VALUE_CHARS)

    def insert_text(self, substring, from_undo=False):
        room = int(self.max_chars) - len(self.text)
        if room <= 0:
            return None
        return super().insert_text(substring[:room], from_undo=from_undo)


class CommentScreen(Screen):
    pass
