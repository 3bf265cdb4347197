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

from kiosk.ui.faces import face_rows
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
    """The faces as the touch targets: side by side in landscape, each cell ``1/scale`` of the row's
    width (at least 20 % of the screen with up to 5 faces); in ``portrait`` two to a row
    (``faces.face_rows``), each cell half the width. ``callback(mood)`` is called on release."""

    scale = NumericProperty(4)
    portrait = BooleanProperty(False)
    callback = ObjectProperty(None, allownone=True)
    faces = ListProperty([])

    def on_kv_post(self, base_widget):
        self.rebuild()

    def on_scale(self, *_):
        self.rebuild()

    def on_portrait(self, *_):
        self.rebuild()

    def rebuild(self) -> None:
        self.clear_widgets()
        n = int(self.scale)
        rows = face_rows(n, self.portrait)
        cols = max(len(row) for row in rows)
        self.faces = []
        by_mood = {}
        for r, row in enumerate(rows):
            left = (cols - len(row)) / (2 * cols)  # a shorter row is centred
            for c, mood in enumerate(row):
                face = Smiley(mood=mood, scale=n, size_hint=(1 / cols, 1 / len(rows)),
                              pos_hint={"x": left + c / cols, "top": 1 - r / len(rows)})
                face.bind(on_release=self._released)
                by_mood[mood] = face
        for mood in range(1, n + 1):
            self.add_widget(by_mood[mood])
            self.faces.append(by_mood[mood])

    def _released(self, face):
        if self.callback is not None:
            self.callback(int(face.mood))

class KioskButton(Button):
    """A button whose label stays on one line in every language: the font is ``max_font_size``, or
    smaller when the text would not fit the width less ``pad`` pixels each side (measured with
    Kivy's own text renderer, so what fits here fits on the screen). Its look is in kiosk.kv."""

    max_font_size = NumericProperty(18)
    pad = NumericProperty(12)
    #: (text, font, bold) -> width of the text at FIT_MEASURE_PX, pixels
    _widths: dict[tuple[str, str, bool], float] = {}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for name in ("text", "width", "max_font_size", "pad", "font_name", "bold"):
            self.fbind(name, self._fit)
        self._fit()

    def _fit(self, *_args) -> None:
        self.font_size = fitted_font_size(self.text, self.font_name, self.bold, self.width - 2 * self.pad,
                                          self.max_font_size)


#: Font size at which a text's width is measured once (it scales linearly with the size).
FIT_MEASURE_PX = 100
#: Kept free beside a fitted text: the width of a text grows by a pixel or two with hinting.
FIT_MARGIN = 0.96


def fitted_font_size(text: str, font_name: str, bold: bool, width: float, largest: float) -> float:
    """The largest font size up to ``largest`` at which ``text`` is at most ``width`` pixels wide."""
    if not text or width <= 0:
        return largest
    key = (text, font_name, bool(bold))
    measured = KioskButton._widths.get(key)
    if measured is None:
        from kivy.core.text import Label as CoreLabel

        measured = CoreLabel(text=text, font_size=FIT_MEASURE_PX, font_name=font_name, bold=bold).get_extents(text)[0]
        KioskButton._widths[key] = measured
    return min(largest, FIT_MEASURE_PX * width * FIT_MARGIN / max(1.0, measured))


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


for _cls in ("KioskRoot", "CornerHotspot", "FaceRow", "KioskButton", "OptionButton", "QuestionScreen", "ThankYouScreen",
             "FollowupScreen", "ClosedScreen", "Smiley"):
    Factory.register(_cls, cls=globals()[_cls])
for _cls in ("LimitedInput", "CommentScreen"):
    Factory.register(_cls, module="kiosk.ui.comment")  # Kivy's TextInput: imported with the comment screen
for _cls in ("PinScreen", "MaintenanceScreen", "TestButtonsScreen"):
    Factory.register(_cls, module="kiosk.ui.maintenance")  # imported when a technician first opens one
