"""The customer's screens (question, follow-up, thank-you, closed), the root layout, and how the
screens are built: the question with the first frame, the others when first needed.

Layout and bindings are in ``kiosk.kv`` and ``customer.kv``; these classes hold the little behaviour
a screen owns (building option buttons, the corner long-press). The comment screen is in
``kiosk.ui.comment``, the technician's in ``kiosk.ui.maintenance``. Which screen shows is the screen
flow's decision (``kiosk.screenflow``), bound by the app (``kiosk.ui.app``).
"""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.ui.smiley import Smiley

#: Seconds a finger must rest in the corner to open the maintenance PIN pad.
LONG_PRESS_S = 3.0
#: The layout of the root and the question screen (the first frame); the lazy screens' files sit beside it.
KV_FILE = Path(__file__).with_name("kiosk.kv")
#: Screens built on first use (keeps the start fast): name -> (class, the .kv file with its layout).
LAZY_SCREENS = {"thanks": ("ThankYouScreen", "customer.kv"), "followup": ("FollowupScreen", "customer.kv"),
                "closed": ("ClosedScreen", "customer.kv"), "comment": ("CommentScreen", "customer.kv"),
                "pin": ("PinScreen", "maintenance.kv"), "maintenance": ("MaintenanceScreen", "maintenance.kv"),
                "test": ("TestButtonsScreen", "maintenance.kv")}
#: Built right after the first frame, so the first press does not wait for them.
WARM_SCREENS = ("thanks", "followup")


def load_kv(path: Path = KV_FILE) -> None:
    """Load a .kv file's rules once per process (later apps reuse them)."""
    if str(path) not in Builder.files:
        Builder.load_file(str(path))


def get_screen(manager, name: str):
    """The screen called ``name``; the rarely seen ones are built (and their .kv parsed) the first
    time they are needed, not on the way to the first frame."""
    if not manager.has_screen(name) and name in LAZY_SCREENS:
        cls, kv = LAZY_SCREENS[name]
        load_kv(KV_FILE.with_name(kv))
        manager.add_widget(getattr(Factory, cls)(name=name))
    return manager.get_screen(name)


class KioskRoot(FloatLayout):
    """Screens plus what floats above them: the maintenance corner and the identify banner.

    ``drift_x``/``drift_y`` (pixels) move all content a little over the day against burn-in.
    """

    drift_x = NumericProperty(0)
    drift_y = NumericProperty(0)
    identify_text = StringProperty("")
    #: True while a local staff-alert rule is in an episode (the discreet dot in the top-right corner)
    staff_alert = BooleanProperty(False)
    #: A technician's notice across the bottom (a refused provisioning file); empty = hidden
    notice_text = StringProperty("")
    manager = ObjectProperty(None)


class CornerHotspot(Widget):
    """An invisible corner: a touch held ``hold_s`` seconds calls ``on_long_press`` (the maintenance
    gesture). A shorter touch passes nothing on; it sits where no face or button is."""

    hold_s = NumericProperty(LONG_PRESS_S)
    #: Only listens on the question and closed screens (elsewhere the corner belongs to the screen).
    active = BooleanProperty(True)

    def __init__(self, **kwargs):
        self.register_event_type("on_long_press")
        super().__init__(**kwargs)
        self._event = None

    def on_touch_down(self, touch):
        if not self.active or not self.collide_point(*touch.pos):
            return False
        touch.grab(self)
        self._event = Clock.schedule_once(lambda dt: self.dispatch("on_long_press"), self.hold_s)
        return True

    def on_touch_up(self, touch):
        if touch.grab_current is self:
            touch.ungrab(self)
            if self._event is not None:
                self._event.cancel()
                self._event = None
            return True
        return False

    def on_long_press(self):
        pass


class FaceRow(FloatLayout):
    """The faces side by side, each cell ``1/scale`` of the row's width (so at least 20 % of the
    screen width with up to 5 faces). ``on_face(mood)`` is called on release."""

    scale = NumericProperty(4)
    callback = ObjectProperty(None, allownone=True)
    faces = ListProperty([])

    def on_kv_post(self, base_widget):
        self.rebuild()

    def on_scale(self, *_):
        self.rebuild()

    def rebuild(self) -> None:
        self.clear_widgets()
        n = int(self.scale)
        self.faces = []
        for mood in range(1, n + 1):
            face = Smiley(mood=mood, scale=n, size_hint=(1 / n, 1), pos_hint={"x": (mood - 1) / n, "y": 0})
            face.bind(on_release=self._released)
            self.add_widget(face)
            self.faces.append(face)

    def _released(self, face):
        if self.callback is not None:
            self.callback(int(face.mood))


class OptionButton(Button):
    """A follow-up choice (a reason or a praise target); ``option_id`` is what gets stored."""

    option_id = StringProperty("")


class QuestionScreen(Screen):
    pass


class ThankYouScreen(Screen):
    pass


class FollowupScreen(Screen):
    options = ListProperty([])  # [(id, text), ...]
    callback = ObjectProperty(None, allownone=True)

    def on_options(self, *_):
        grid = self.ids.grid
        grid.clear_widgets()
        for option_id, text in self.options:
            btn = OptionButton(option_id=option_id, text=text)
            btn.bind(on_release=lambda b: self.callback and self.callback(b.option_id))
            grid.add_widget(btn)


class ClosedScreen(Screen):
    #: 0..1 position of the quiet text, moved now and then against burn-in.
    spot_x = NumericProperty(0.5)
    spot_y = NumericProperty(0.5)


for _cls in ("KioskRoot", "CornerHotspot", "FaceRow", "OptionButton", "QuestionScreen", "ThankYouScreen",
             "FollowupScreen", "ClosedScreen", "Smiley"):
    Factory.register(_cls, cls=globals()[_cls])
for _cls in ("LimitedInput", "CommentScreen"):
    Factory.register(_cls, module="kiosk.ui.comment")  # Kivy's TextInput: imported with the comment screen
for _cls in ("PinScreen", "MaintenanceScreen", "TestButtonsScreen"):
    Factory.register(_cls, module="kiosk.ui.maintenance")  # imported when a technician first opens one
