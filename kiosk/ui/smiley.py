"""The smiley face widget: drawn with Kivy's canvas from ``kiosk.ui.faces`` (the same shapes as the
SVG sources in assets/smileys). The whole cell is the touch target; the face is drawn centred in it.
Pressed (or highlighted in the button test) it shrinks slightly and gets a white ring.

Each face is drawn once into an off-screen framebuffer (``Fbo``) per size and look, and the screen
then shows that texture on one rectangle. Redrawing thousands of circle and mouth triangles every
frame made a software renderer (Mesa llvmpipe) hold ~30 MB more (bench/kiosk.py); one textured
quad per face costs what a text label costs.
"""

from __future__ import annotations

from kivy.clock import Clock
from kivy.graphics import ClearBuffers, ClearColor, Color, Ellipse, Fbo, Line, Mesh, Rectangle
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.widget import Widget

from kiosk.ui import faces

INK = faces.rgba(faces.INK)
RING = (1, 1, 1, 1)
#: Polygon segments of the face circles and the eyes.
FACE_SEGMENTS = 96
EYE_SEGMENTS = 32
#: Most face textures kept (mood x scale x pressed x size in pixels); older ones are dropped.
MAX_TEXTURES = 48
#: The ring around a pressed face, as a share of the face radius (the texture's half-size).
RING_RATIO = 1.13

_textures: dict[tuple[int, int, bool, int], Fbo] = {}


def draw_face(mood: int, scale: int, pressed: bool, cx: float, cy: float, r: float) -> None:
    """Canvas instructions of one face of radius ``r`` pixels around (cx, cy), into the current canvas."""
    if pressed:
        Color(*RING)
        ring = r * RING_RATIO
        Ellipse(pos=(cx - ring, cy - ring), size=(2 * ring, 2 * ring), segments=FACE_SEGMENTS)
    Color(*INK)
    outer = r * (1 + faces.OUTLINE)
    Ellipse(pos=(cx - outer, cy - outer), size=(2 * outer, 2 * outer), segments=FACE_SEGMENTS)
    Color(*faces.rgba(faces.colour(mood, scale)))
    Ellipse(pos=(cx - r, cy - r), size=(2 * r, 2 * r), segments=FACE_SEGMENTS)
    Color(*INK)
    er = faces.EYE_R * r
    for ex in (-faces.EYE_X, faces.EYE_X):
        Ellipse(pos=(cx + ex * r - er, cy + faces.EYE_Y * r - er), size=(2 * er, 2 * er), segments=EYE_SEGMENTS)
    pts = [(cx + x * r, cy + y * r) for x, y in faces.mouth_points(faces.curve(mood, scale))]
    flat = [v for p in pts for v in p]
    width = faces.STROKE * r / 2
    if faces.is_open_mouth(mood, scale):
        vertices = []
        for x, y in pts:
            vertices += [x, y, 0, 0]
        Mesh(vertices=vertices, indices=list(range(len(pts))), mode="triangle_fan")
        Line(points=flat, width=width, close=True, joint="round", cap="round")
    else:
        Line(points=flat, width=width, joint="round", cap="round")


def face_texture(mood: int, scale: int, pressed: bool, r: float):
    """The face (radius ``r`` pixels, ring included when ``pressed``) as a texture, made once."""
    half = int(r * RING_RATIO + 2)
    key = (mood, scale, pressed, half)
    fbo = _textures.get(key)
    if fbo is None:
        if len(_textures) >= MAX_TEXTURES:
            _textures.clear()
        fbo = Fbo(size=(2 * half, 2 * half))
        with fbo:
            ClearColor(0, 0, 0, 0)
            ClearBuffers()
            draw_face(mood, scale, pressed, half, half, r)
        fbo.draw()
        _textures[key] = fbo
    return fbo.texture, half


class Smiley(ButtonBehavior, Widget):
    """One face. ``mood`` 1..``scale`` (1 = most negative); ``bob`` (0..1) lifts it for the idle
    attract animation; ``highlight`` shows the pressed look without a touch (button test)."""

    mood = NumericProperty(1)
    scale = NumericProperty(4)
    bob = NumericProperty(0.0)
    highlight = BooleanProperty(False)
    #: Share of the cell the face fills (0..1).
    fill = NumericProperty(0.84)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.always_release = False
        # one redraw per frame at most, just before it is drawn (timeout -1)
        self._trigger = Clock.create_trigger(self._redraw, -1)
        for name in ("x", "y", "width", "height", "state", "mood", "scale", "bob", "highlight", "fill"):
            self.fbind(name, self._trigger)
        # drawn before the next frame, once the layout has given the face its real size (drawing
        # now would render a texture at the default 100x100 that the first frame never shows)
        self._trigger()

    def _redraw(self, *_args) -> None:
        scale = int(self.scale)
        mood = int(self.mood)
        self.canvas.clear()
        if not 1 <= mood <= scale or scale not in faces.PALETTES:
            return
        pressed = self.state == "down" or self.highlight
        r = min(self.width, self.height) / 2 * self.fill * (0.92 if pressed else 1.0)
        if r < 2:
            return
        texture, half = face_texture(mood, scale, pressed, r)
        cx = self.center_x
        cy = self.center_y + self.bob * r * 0.12
        with self.canvas:
            Color(1, 1, 1, 1)
            Rectangle(texture=texture, pos=(cx - half, cy - half), size=(2 * half, 2 * half))
