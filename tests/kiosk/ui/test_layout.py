"""The kiosk's layouts at the two displays it ships for, 800x480 (landscape) and 720x1280 (portrait),
measured from the widget tree of the really rendered app: the faces' size and arrangement, Skip and
No thanks as real one-line buttons in every language, the maintenance page whole on the screen."""

from __future__ import annotations

import pytest

from hymy.protocol import StoreConfig, default_store_config
from kiosk.i18n import LANGUAGES
from kiosk.pinlock import hash_pin

pytestmark = pytest.mark.kivy

SIZES = ((800, 480), (720, 1280))
#: Smallest touch target a finger hits reliably (Material and Apple guidance), pixels.
TOUCH_PX = 48
#: Smallest font on a customer's button, pixels (a shrunk-to-fit text stays readable).
BUTTON_FONT_PX = 18


def store_config(**changes) -> StoreConfig:
    data = default_store_config().model_dump(mode="json")
    data.update(changes)
    return StoreConfig.model_validate(data)


def window_box(widget) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of ``widget`` in window pixels."""
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def inside(widget, window) -> bool:
    left, bottom, right, top = window_box(widget)
    return left >= -0.5 and bottom >= -0.5 and right <= window.width + 0.5 and top <= window.height + 0.5


@pytest.mark.parametrize("scale", [3, 4, 5])
def test_layout_portrait_faces_are_a_grid_each_over_a_third_of_the_width(make_kiosk, window_size, scale):
    window_size(720, 1280)
    k = make_kiosk(store_config(question={"id": "q", "texts": {"fi": "Kysymys"}, "scale": scale}, followup={}))
    k.frames(3)
    faces = k.screen("question").ids.faces.faces
    assert len(faces) == scale
    for face in faces:
        assert inside(face, k.window), (face.mood, window_box(face))
        # the touch target and the face drawn in it (``fill`` of the cell) are each >= 35 % of the width
        assert min(face.width, face.height) * face.fill >= 0.35 * 720, (face.mood, face.size)
    boxes = [window_box(f) for f in faces]
    rows = sorted({round(b[3]) for b in boxes}, reverse=True)
    assert len(rows) == (2 if scale < 5 else 3)
    # reading order kept: left to right, then top to bottom, most negative first
    order = sorted(range(scale), key=lambda i: (-round(boxes[i][3]), boxes[i][0]))
    assert order == list(range(scale))
    for i, a in enumerate(boxes):  # no two touch targets overlap
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] + 0.5 or b[2] <= a[0] + 0.5 or a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5
    k.tap(faces[-1])
    assert k.app.manager_current == "thanks" and k.app.last_mood == scale


@pytest.mark.parametrize("scale", [3, 4, 5])
def test_layout_landscape_faces_stay_in_one_row(make_kiosk, scale):
    k = make_kiosk(store_config(question={"id": "q", "texts": {"fi": "Kysymys"}, "scale": scale}))
    faces = k.screen("question").ids.faces.faces
    assert len({round(window_box(f)[1]) for f in faces}) == 1
    assert all(f.width >= 800 / scale - 1 and inside(f, k.window) for f in faces)


def assert_real_one_line_button(button, window, where: str) -> None:
    """A visible, finger-sized button whose text is one line inside it, in a readable size."""
    assert button.width >= TOUCH_PX and button.height >= TOUCH_PX, f"{where}: {button.size}"
    assert inside(button, window), f"{where}: {window_box(button)} outside the window"
    assert button.background_color[3] > 0.5, f"{where}: no visible shape (transparent background)"
    text_w, text_h = button.texture_size
    assert text_w <= button.width - 8, f"{where}: text {text_w} px wide in a {button.width} px button"
    assert text_h < 2 * button.font_size, f"{where}: the text wraps ({text_h} px tall at {button.font_size} px)"
    assert button.font_size >= BUTTON_FONT_PX, f"{where}: text shrunk to {button.font_size} px"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_layout_skip_and_no_thanks_are_real_buttons_on_one_line(make_kiosk, window_size, size):
    window_size(*size)
    k = make_kiosk(store_config(comments_enabled=True, followup_timeout_s=60, response_interval_s=0))
    for lang in LANGUAGES:
        k.app.flow.show_question()
        k.app.flow.set_lang(lang)
        k.app.flow.press(1)
        k.wait_screen("followup")
        skip = k.button(k.app.tr("Skip"))
        assert_real_one_line_button(skip, k.window, f"{lang} {size} Skip")
        k.app.flow.choose("queue")
        k.wait_screen("comment")
        for text in ("Send", "No thanks"):
            assert_real_one_line_button(k.button(k.app.tr(text)), k.window, f"{lang} {size} {text}")


def open_maintenance(k, lang: str, pin: str = "1") -> None:
    k.app.maintenance.open_pin_pad()
    k.app.flow.set_lang(lang)  # the PIN pad opens in the default language
    for digit in pin:
        k.app.maintenance.key(digit)
    k.app.maintenance.submit()
    k.wait_screen("maintenance")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_layout_maintenance_page_shows_every_row_inside_the_window(make_kiosk, window_size, tmp_path, size):
    """The longest page (a store recovery adds a row), in every language: each row's label and value
    on the screen, above the buttons, its text no taller than its row; the buttons one line each."""
    import os

    from tests.kiosk.damage import filled_store

    window_size(*size)
    data = tmp_path / "data0"  # the first kiosk's data dir: a store emptied by truncate -s 0
    data.mkdir()
    filled_store(data / "kiosk.db", 5)
    os.truncate(data / "kiosk.db", 0)
    k = make_kiosk(store_config(), device={"maintenance": {"pin_hash": hash_pin("1")}})
    assert k.app.core.store.wait_salvaged(30)
    for lang in LANGUAGES:
        open_maintenance(k, lang)
        screen = k.screen("maintenance")
        assert len(screen.rows) >= 14
        shown = [w for w in screen.walk() if hasattr(w, "label") and hasattr(w, "value") and w is not screen]
        assert [(w.label, w.value) for w in shown] == [tuple(r) for r in screen.rows], "every row has its widget"
        buttons_top = max(window_box(k.button(k.app.tr(t)))[3] for t in ("Sync now", "Test buttons", "Leave"))
        for row in shown:
            assert inside(row, k.window), f"{lang} {size}: {row.label!r} at {window_box(row)}"
            assert window_box(row)[1] >= buttons_top - 0.5, f"{lang} {size}: {row.label!r} under the buttons"
            for label in row.children:
                assert label.texture_size[1] <= row.height + 0.5, f"{lang} {size}: {row.label!r} taller than its row"
                assert label.font_size >= 13
        for text in ("Sync now", "Test buttons", "Leave"):
            assert_real_one_line_button(k.button(k.app.tr(text)), k.window, f"{lang} {size} {text}")
        k.app.maintenance.leave()
