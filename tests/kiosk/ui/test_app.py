"""The kiosk app really rendered (headless SDL2 + Mesa) and driven by real touches.

What shows when is the screen flow's and the maintenance controller's (tested without Kivy in
tests/kiosk/test_screenflow.py and test_maintenance.py); these tests prove the binding: touches reach
them, what they say is drawn, their timeouts run on Kivy's clock, events from other threads arrive.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hymy.hours import WEEKDAYS
from hymy.protocol import Reason, StoreConfig, Texts, default_store_config
from kiosk.i18n import LANGUAGES
from kiosk.pinlock import hash_pin

pytestmark = pytest.mark.kivy


def store_config(**changes) -> StoreConfig:
    data = default_store_config().model_dump(mode="json")
    # 20 s x time_scale 0.2 = 4 s to pick a reason: room for a loaded CI machine (tests of the
    # timeout itself set their own)
    data["followup_timeout_s"] = 20
    data.update(changes)
    return StoreConfig.model_validate(data)


def events(driver) -> list[dict]:
    return [e.payload() for e in driver.app.core.store.unsent()]


def closed_today_hours(tz: str = "Europe/Helsinki") -> dict[str, list[str]]:
    """Opening hours that leave today (in ``tz``) closed all day: open only tomorrow."""
    today = datetime.now(ZoneInfo(tz)).weekday()
    return {WEEKDAYS[(today + 2) % 7]: ["08:00-20:00"]}


PRAISE = [{"id": "cashier", "texts": {"fi": "Kassa", "sv": "Kassan", "en": "Cashier"}},
          {"id": "bakery", "texts": {"fi": "Leipomo", "sv": "Bageriet", "en": "Bakery"}}]


def test_app_touch_on_face_stores_response_then_thanks_then_question(make_kiosk):
    k = make_kiosk(store_config(followup={}))
    assert k.app.manager_current == "question"
    assert k.app.question_text == "Miten onnistuimme tänään?"
    k.tap(k.face(3))
    stored = events(k)
    assert [(e["type"], e["mood"], e["source"], e["scale"]) for e in stored] == [("response", 3, "touch", 4)]
    assert k.app.manager_current == "thanks"
    assert "Kiitos!" in k.texts()
    k.wait_screen("question", timeout=6)


def test_app_faces_are_at_least_a_fifth_of_the_screen_wide(make_kiosk):
    for scale in (3, 4, 5):
        k = make_kiosk(store_config(question={"id": "q", "texts": {"fi": "Kysymys"}, "scale": scale}))
        faces = k.screen("question").ids.faces.faces
        assert len(faces) == scale
        width = k.window.width
        assert all(f.width >= 0.2 * width - 1 for f in faces), [f.width for f in faces]
        k.tap(k.face(scale))
        assert events(k)[-1]["mood"] == scale and events(k)[-1]["scale"] == scale


def test_app_followup_reason_is_stored_as_its_own_event(make_kiosk):
    k = make_kiosk(store_config())  # default: moods 1 and 2 ask for a reason
    k.tap(k.face(1))
    assert k.app.manager_current == "followup"
    response = events(k)[0]
    assert response["type"] == "response" and response["mood"] == 1  # stored before the follow-up shows
    assert "Mikä oli tärkein syy?" in k.texts()
    assert not k.app.root.ids.corner.active  # the maintenance corner listens on the question only
    options = [b.text for b in k.screen("followup").ids.grid.children[::-1]]
    assert options == ["Jono", "Palvelu", "Valikoima", "Hinta", "Siisteys"]
    k.tap(k.button("Palvelu"))
    followups = [e for e in events(k) if e["type"] == "followup"]
    assert [(f["kind"], f["value"], f["response_id"]) for f in followups] == [("reason", "service", response["id"])]
    assert k.app.manager_current == "thanks"


def test_app_followup_skip_stores_nothing_more(make_kiosk):
    k = make_kiosk(store_config())
    k.tap(k.face(2))
    k.tap(k.button("Ohita"))
    assert [e["type"] for e in events(k)] == ["response"]
    assert k.app.manager_current == "thanks"


def test_app_praise_after_very_happy_face(make_kiosk):
    k = make_kiosk(store_config(praise=PRAISE, followup={"4": "praise"}))
    k.tap(k.face(4))
    assert "Kuka tai mikä ilahdutti päivääsi?" in k.texts()
    k.tap(k.button("Leipomo"))
    fu = [e for e in events(k) if e["type"] == "followup"]
    assert [(f["kind"], f["value"]) for f in fu] == [("praise", "bakery")]


def test_app_comment_after_followup_is_limited_and_stored(make_kiosk):
    k = make_kiosk(store_config(comments_enabled=True))
    k.tap(k.face(1))
    k.tap(k.button("Jono"))
    k.wait_screen("comment")
    field = k.screen("comment").ids.comment
    assert field.focus
    field.insert_text("Liian pitkä jono. " * 30)
    assert len(field.text) == 280
    k.frames(2)
    k.tap(k.button("Lähetä"))
    comments = [e for e in events(k) if e["type"] == "followup" and e["kind"] == "comment"]
    assert len(comments) == 1 and comments[0]["value"] == field.text.strip()
    assert k.app.manager_current == "thanks"


def test_app_language_button_switches_texts_and_falls_back_after_response(make_kiosk):
    k = make_kiosk(store_config(followup={}))
    k.tap(k.button("Svenska"))
    assert k.app.lang == "sv"
    assert k.app.question_text == "Hur lyckades vi i dag?"
    k.tap(k.face(4))
    assert "Tack!" in k.texts()
    k.wait_screen("question", timeout=6)
    assert k.app.lang == "fi" and k.app.question_text == "Miten onnistuimme tänään?"


def test_app_today_result_is_drawn_on_the_thank_you(make_kiosk):
    k = make_kiosk(store_config(followup={}, show_today_result=True, response_interval_s=0))
    for mood in [4] * 16 + [1] * 5:
        k.app.core.record(mood, "simulated")
    k.tap(k.face(3))
    assert "Tänään 77\xa0% asiakkaistamme hymyili" in k.texts()  # 17 of 22 positive


def test_app_closed_hours_show_closed_view_and_presses_carry_closed(make_kiosk):
    k = make_kiosk(store_config(opening_hours=closed_today_hours()))
    assert k.app.manager_current == "closed"
    assert "Suljettu" in k.texts()
    # A GPIO press arrives while closed: stored with the closed flag, thanked, then closed again.
    response = k.app.core.record(2, "button")
    assert response.flags == ["closed"]
    k.app.core.on_press(response)  # as the panel calls it, on gpiozero's thread
    k.wait_screen("thanks")
    k.wait_screen("closed", timeout=6)


def test_app_closed_backlight_off_switches_sysfs_backlight(make_kiosk, tmp_path):
    from kiosk.ui.backlight import Backlight

    dev = tmp_path / "sys" / "rpi_backlight"
    dev.mkdir(parents=True)
    (dev / "bl_power").write_text("0")
    k = make_kiosk(store_config(opening_hours=closed_today_hours(), closed_display="backlight_off"),
                   backlight=Backlight(tmp_path / "sys"))
    assert k.app.manager_current == "closed" and k.app.backlight_off
    assert (dev / "bl_power").read_text() == "4"
    k.app.shutdown()
    assert (dev / "bl_power").read_text() == "0"


def test_app_corner_hold_opens_the_pin_pad_and_its_keys_check_the_pin(make_kiosk):
    k = make_kiosk(store_config(), device={"maintenance": {"pin_hash": hash_pin("2468")}})
    corner = k.app.root.ids.corner
    k.tap(corner)  # a short touch does nothing
    assert k.app.manager_current == "question"
    k.tap(corner, hold=3.0 * 0.2 + 0.2)  # the 3 s hold, time-scaled (0.2)
    assert k.app.manager_current == "pin"

    def enter(pin):
        for digit in pin:
            k.tap(k.button(digit))
        k.tap(k.button("OK"))

    enter("1111")
    assert "Väärä PIN-koodi. Yrityksiä jäljellä: 2" in k.texts()
    k.tap(k.button("1"))
    k.tap(k.button("Tyhjennä"))
    enter("2468")
    assert k.app.manager_current == "maintenance"


def maintenance_rows(k, pin: str) -> dict[str, str]:
    """Open the maintenance page with ``pin`` on the PIN pad; its (label: value) rows."""
    k.app.maintenance.open_pin_pad()
    for digit in pin:
        k.tap(k.button(digit))
    k.tap(k.button("OK"))
    k.wait_screen("maintenance")
    return dict(k.screen("maintenance").rows)


def test_app_maintenance_shows_state_and_sync_now_asks_agent(make_kiosk):
    k = make_kiosk(store_config(followup={}), device={"maintenance": {"pin_hash": hash_pin("1234")},
                                                      "server": {"url": "https://hymy.example"}})
    k.app.core.store.set_meta("last_sync", '{"at": "2026-11-23T10:00:00.000Z", "ok": false, '
                         '"error": "connection refused", "last_success_at": "2026-11-23T09:00:00.000Z"}')
    k.tap(k.face(4))
    k.wait_screen("question", timeout=6)
    rows = maintenance_rows(k, "1234")
    assert rows["Palvelin"] == "https://hymy.example"
    assert rows["Rekisteröinti"] == "Ei rekisteröity"
    assert rows["Viimeisin virhe"] == "connection refused"
    assert rows["Viimeksi onnistunut"] == "2026-11-23T09:00:00.000Z"
    assert rows["Lähettämättä"] == "1"
    assert rows["Happy Index"].startswith("100")
    assert rows["Tänään"].startswith("N=1")
    k.tap(k.button("Synkronoi nyt"))
    assert k.app.core.store.get_meta("sync_requested_at")
    k.wait_for(lambda: k.screen("maintenance").message == "Synkronointia pyydetty.", what="the page to say so")
    k.tap(k.button("Testaa painikkeet"))
    assert k.app.manager_current == "test"
    k.tap(k.face(2, screen="test"))
    assert k.screen("test").message == "Naama 2 toimii."
    assert [e["type"] for e in events(k)] == ["response"]  # the test press is not recorded
    k.tap(k.button("Takaisin"))
    k.tap(k.button("Poistu"))
    assert k.app.manager_current == "question"


def test_app_maintenance_shows_a_store_recovery(make_kiosk, tmp_path):
    """The kiosk started on a store emptied by ``truncate -s 0``: it moved the file aside, and the
    technician's status page says so, with what the salvage could save (nothing: the file is empty)."""
    import os

    from tests.kiosk.damage import filled_store

    data = tmp_path / "data0"  # the first kiosk's data dir
    data.mkdir()
    filled_store(data / "kiosk.db", 50)
    os.truncate(data / "kiosk.db", 0)
    k = make_kiosk(store_config(), device={"maintenance": {"pin_hash": hash_pin("1234")}})
    assert k.app.core.store.wait_salvaged(30)
    rows = maintenance_rows(k, "1234")
    shown = rows["Paikallinen tietokanta palautettu"]
    assert "the file is empty (0 bytes)" in shown and "pelastettu 0" in shown and "lukukelvottomia tuntematon" in shown
    assert shown in k.texts(), "rendered on the screen"


def test_app_gpio_press_from_another_thread_shows_thanks(make_kiosk):
    import threading

    k = make_kiosk(store_config(followup={}))
    done = []

    def gpio_thread():
        response = k.app.core.record(4, "button")
        k.app.core.on_press(response)  # what the panel calls after committing a press
        done.append(response)

    t = threading.Thread(target=gpio_thread)
    t.start()
    t.join(5)
    k.wait_screen("thanks")
    assert k.app.last_mood == 4 and done[0].source == "button"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_app_renders_every_screen_in_every_language(make_kiosk, tmp_path, lang):
    from PIL import Image

    config = store_config(comments_enabled=True, praise=PRAISE, followup={"1": "reason", "4": "praise"},
                          reasons=[Reason(id=f"r{i}", texts=Texts(fi=f"Syy {i}", sv=f"Orsak {i}", en=f"Reason {i}"))
                                   .model_dump() for i in range(1, 7)])
    k = make_kiosk(config, device={"maintenance": {"pin_hash": hash_pin("1")}}, time_scale=1.0)
    shown = {}

    def shot(name):
        k.wait_screen(name)
        path = k.png(tmp_path / f"{lang}-{name}.png")
        img = Image.open(path).convert("L")
        lo, hi = img.getextrema()
        assert hi - lo > 60, f"{name} in {lang} looks blank"
        shown[name] = list(k.texts())

    k.app.flow.set_lang(lang)
    shot("question")
    k.app.flow.press(1)
    shot("followup")
    k.app.flow.choose("r1")
    shot("comment")
    k.app.flow.skip()
    shot("thanks")
    k.app.maintenance.open_pin_pad()
    shot("pin")
    k.app.flow.set_lang(lang)
    k.app.maintenance.key("1")
    k.app.maintenance.submit()
    shot("maintenance")
    k.app.maintenance.show_test()
    shot("test")
    # after the most negative face: the apology, never today's share of smiles
    expected = {"fi": "Viemme palautteesi eteenpäin.", "sv": "Vi för det vidare.", "en": "We'll pass this on."}[lang]
    assert any(expected in text for text in shown["thanks"]), shown["thanks"]
    assert len(shown["followup"]) >= 1


def test_app_gpio_button_press_with_mock_pins_shows_thanks(make_kiosk):
    """A real gpiozero panel on MockFactory pins: the press is recorded on gpiozero's side and the
    screen thanks the customer through Kivy's main thread."""
    import threading

    pytest.importorskip("hardware.panel")
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    Device.pin_factory = MockFactory()
    try:
        k = make_kiosk(store_config(followup={}), device={"pins": {"buttons": [17, 27, 22, 23]}}, use_panel=True)
        k.wait_for(lambda: k.app.core.panel is not None, what="the GPIO panel to open after the first frame")
        presser = threading.Thread(target=k.app.core.panel.press, args=(3,))
        presser.start()
        presser.join(5)
        k.wait_screen("thanks")
        stored = events(k)
        assert [(e["mood"], e["source"]) for e in stored] == [(4, "button")]
        assert k.app.last_mood == 4
        k.wait_screen("question", timeout=6)
        # development: key 2 on the keyboard presses mock button 2
        k.window.dispatch("on_key_down", ord("2"), 0, "2", [])
        k.wait_for(lambda: [e["mood"] for e in events(k)] == [4, 2], what="the key's button press")
    finally:
        Device.pin_factory = None


def test_app_without_gpio_keeps_the_touchscreen_and_says_so(make_kiosk, monkeypatch, caplog):
    pytest.importorskip("hardware.panel")
    from gpiozero import Device

    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    monkeypatch.setattr(Device, "pin_factory", None)
    with caplog.at_level(logging.ERROR):
        k = make_kiosk(store_config(followup={}), device={"pins": {"buttons": [17, 27, 22, 23]}}, use_panel=True,
                       time_scale=1.0)  # the thank-you stays its full 3 s, long enough to see on a busy machine
        k.wait_for(lambda: "GPIO buttons unavailable" in caplog.text, what="the GPIO panel to be tried")
    assert "no GPIO library could be loaded" in caplog.text and "the touchscreen keeps working" in caplog.text
    assert k.app.core.panel is None
    k.tap(k.face(4))
    assert k.app.manager_current == "thanks"
    assert [e["source"] for e in events(k)] == ["touch"]


def test_app_identify_gesture_shows_device_name(make_kiosk):
    k = make_kiosk(store_config(), device={"device": {"name": "kassa-3"}})
    k.app.core.on_identify(True)  # as the panel calls it, on gpiozero's thread
    k.wait_for(lambda: k.app.root.identify_text == "kassa-3", what="identify banner")
    k.app.core.on_identify(False)
    k.wait_for(lambda: k.app.root.identify_text == "", what="identify banner to hide")


def test_app_display_rotation_turns_the_window_and_layout(make_kiosk):
    k = make_kiosk(store_config(followup={}), device={"display": {"rotation": 90}})
    k.frames(3)
    assert k.window.rotation == 90
    assert k.window.size == (480, 800)  # a landscape panel turned to portrait
    assert k.app.root.size == [480, 800]
    faces = k.screen("question").ids.faces.faces
    assert all(f.width >= 0.2 * 480 - 1 for f in faces)
    # The touch panel reports positions in its own (landscape) frame, normalised 0..1; Kivy turns
    # them with Window.rotation. Aim at face 2 as the panel would see it.
    from kivy.tests.common import UnitTestTouch

    wx, wy = k.face(2).to_window(*k.face(2).center)
    nx, ny = 1 - wy / 800, wx / 480  # inverse of Kivy's rotation-90 mapping
    touch = UnitTestTouch(nx * (k.window.width - 1), ny * (k.window.height - 1))
    touch.touch_down()
    touch.touch_up()
    k.frames(2)
    assert events(k)[-1]["mood"] == 2


def test_app_tells_systemd_ready_at_first_frame_and_kicks_watchdog(make_kiosk, tmp_path, monkeypatch):
    import socket

    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # systemd expects a ping every 0.1 s at most
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    try:
        k = make_kiosk(store_config())
        received: list[str] = []

        def drain():
            try:
                while True:
                    received.append(sock.recv(4096).decode())
            except BlockingIOError:
                pass
            return received

        k.wait_for(lambda: any(m.startswith("READY=1") for m in drain()), what="READY=1")
        k.wait_for(lambda: "WATCHDOG=1" in drain(), timeout=5, what="WATCHDOG=1 from the Kivy loop")
        assert k.app.first_frame_at is not None
    finally:
        sock.close()


def test_app_idle_faces_bob_and_content_drifts_within_bounds(make_kiosk):
    from kiosk.ui.idle import DRIFT_MAX

    k = make_kiosk(store_config())
    k.app._last_touch -= 3600  # an hour without a touch
    k.app._attract()
    faces = k.screen("question").ids.faces.faces
    peak = [0.0] * len(faces)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        k.frames(1)
        peak = [max(p, f.bob) for p, f in zip(peak, faces, strict=True)]
    assert all(p > 0.5 for p in peak), peak
    assert all(f.bob == 0 for f in faces)  # back at rest
    for _ in range(200):
        k.app._drift()
    assert abs(k.app.root.drift_x) <= DRIFT_MAX and abs(k.app.root.drift_y) <= DRIFT_MAX


def test_app_comment_timeout_returns_to_question_and_hides_keyboard(make_kiosk, monkeypatch):
    from kivy.core.window import Window

    from kiosk import screenflow

    # the comment screen waits max(COMMENT_IDLE_S, follow-up timeout) = 8 s x 0.2 = 1.6 s after the
    # last keystroke; the flow is driven directly to it (touches on the way are other tests' matter), so
    # a loaded machine cannot let the follow-up time out on the way
    monkeypatch.setattr(screenflow, "COMMENT_IDLE_S", 8)
    k = make_kiosk(store_config(comments_enabled=True, followup_timeout_s=8))
    k.app.flow.press(1)
    k.app.flow.choose("queue")
    k.wait_screen("comment")
    field = k.screen("comment").ids.comment
    assert field.focus and any(type(w).__name__ == "VKeyboard" for w in Window.children)
    k.wait_screen("question", timeout=15)
    k.frames(3)
    assert not field.focus
    assert not any(type(w).__name__ == "VKeyboard" for w in Window.children)
    assert [(e["type"], e.get("kind")) for e in events(k)] == [("response", None), ("followup", "reason")]


def test_app_local_staff_alert_lights_lamp_and_dot_offline_and_clears(make_kiosk):
    """The store's local rule on the kiosk's own presses: the staff lamp (MockFactory pin) and the
    discreet dot come on after enough unhappy touches with no server configured, and go off again."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    rule = {"id": "unhappy", "kind": "negative_share", "window_min": 1, "min_count": 4, "threshold": 50,
            "local": True}
    Device.pin_factory = MockFactory()
    try:
        k = make_kiosk(store_config(followup={}, response_interval_s=0, alert_rules=[rule]),
                       device={"pins": {"staff_alert": 21}}, use_panel=True)
        lamp = Device.pin_factory.pin(21)
        for mood in (1, 2, 1):
            k.tap(k.face(mood))
            k.wait_screen("question", timeout=6)
        assert lamp.state == 0 and not k.app.root.staff_alert  # three presses: below min_count
        k.tap(k.face(1))
        k.wait_for(lambda: k.app.root.staff_alert, what="the staff dot")
        assert lamp.state == 1
        # happy presses push the unhappy share below 50 %: the episode closes by itself
        for _ in range(5):
            k.wait_screen("question", timeout=6)
            k.tap(k.face(4))
        k.wait_for(lambda: not k.app.root.staff_alert, what="the staff dot to go out")
        assert lamp.state == 0
    finally:
        Device.pin_factory = None


def test_app_shows_a_refused_provisioning_file_to_the_technician(make_kiosk):
    k = make_kiosk(store_config())
    assert k.app.root.notice_text == ""
    k.app.device_config.provision_error_path.write_text("line 5: device.timezone: 'Mars/Base' is not an IANA time zone\n")
    k.app.overlay.check_notice()
    k.frames(2)
    assert k.app.root.notice_text.startswith("Asennustiedosto hylättiin")
    assert "line 5: device.timezone" in k.app.root.notice_text
    k.app.device_config.provision_error_path.unlink()
    k.app.overlay.check_notice()
    assert k.app.root.notice_text == ""


def test_app_press_before_the_first_frame_opens_the_store_itself_and_is_kept(kivy_window, tmp_path):
    """The store and the capture core load after the first frame; a press that comes even earlier
    loads them at once, is committed and shows what follows, exactly as a later press would."""
    from kiosk.config import parse_config
    from kiosk.ui.app import create_app

    cfg = parse_config({"device": {"data_dir": str(tmp_path / "data"), "clock": "trust"}, "display": {"fullscreen": False}})
    app = create_app(cfg, time_scale=0.2)
    app._run_prepare()
    try:
        assert app.first_frame_at is None and not app.core.opened
        response = app.flow.press(3)
        assert response is not None and response.mood == 3
        assert [(e.payload()["type"], e.payload()["mood"]) for e in app.core.store.unsent()] == [("response", 3)]
        assert app.manager_current in ("thanks", "followup")
    finally:
        app.dispatch("on_stop")
        kivy_window.remove_widget(app.root)


def test_app_drops_events_queued_for_it_after_shutdown(make_kiosk):
    k = make_kiosk(store_config(followup={}))
    response = k.app.core.record(4, "button")
    k.app.core.on_press(response)  # handed to Kivy's main thread...
    k.app.shutdown()  # ...which stops the app before it runs
    k.frames(3)
    assert k.app.manager_current == "question"
