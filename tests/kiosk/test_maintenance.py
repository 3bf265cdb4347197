"""kiosk.maintenance: the PIN pad, the maintenance page and the button test, driven without Kivy.

A real kiosk core (no GPIO) with a real Store in tmp_path, a real Argon2id PIN hash, and the PIN
lock-out's monotonic clock moved by hand. These tests also run where Kivy cannot be imported
(test_kivy_free.py).
"""

from __future__ import annotations

import pytest

from kiosk.assembly import KioskCore
from kiosk.config import parse_config
from kiosk.i18n import translator
from kiosk.maintenance import MAINTENANCE_IDLE_S, Maintenance
from kiosk.pinlock import PinLock, PinResult, hash_pin
from kiosk.screenflow import MAINTENANCE, PIN, QUESTION, TEST, THANKS, ScreenFlow
from tests.hardware.conftest import Config, StepClock

PIN_CODE = "2468"


class Ticker:
    """The PIN lock-out's monotonic clock, in seconds, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def pin_hash() -> str:
    return hash_pin(PIN_CODE)


def make(tmp_path, pin_hash: str | None, **device):
    data = {"device": {"data_dir": str(tmp_path / "data"), "clock": "trust", "name": "kassa-2"},
            "maintenance": {"pin_hash": pin_hash}, **device}
    store_config = Config(response_interval_s=0.0, followup={})
    core = KioskCore(parse_config(data), store_config=store_config, clock=StepClock(), gpio=False)
    flow = ScreenFlow(core, store_config, core.clock)
    ticker = Ticker()
    maint = Maintenance(flow, PinLock(pin_hash, clock=ticker), core, address=lambda: "192.0.2.7")
    flow.show_question()
    flow.set_lang("en")
    return core, flow, maint, ticker


@pytest.fixture
def kiosk(tmp_path, pin_hash):
    core, flow, maint, ticker = make(tmp_path, pin_hash, server={"url": "https://hymy.example"})
    yield core, flow, maint, ticker
    core.close()
    translator.switch("fi")


def enter(maint: Maintenance, pin: str) -> PinResult:
    for digit in pin:
        maint.key(digit)
    return maint.submit()


def test_maintenance_pin_pad_opens_on_the_corner_and_the_right_pin_opens_the_page(kiosk):
    core, flow, maint, _ = kiosk
    maint.open_pin_pad()
    assert flow.screen == PIN and flow.timer.seconds == MAINTENANCE_IDLE_S
    assert maint.entered == "" and maint.pin_message == ""
    maint.key("2")
    maint.key("4")
    assert maint.entered == "24"
    maint.clear()
    assert enter(maint, PIN_CODE) is PinResult.ok
    assert flow.screen == MAINTENANCE and maint.entered == ""


def test_maintenance_three_wrong_pins_lock_the_pad_for_a_minute(kiosk):
    _, flow, maint, ticker = kiosk
    maint.open_pin_pad()
    assert enter(maint, "1111") is PinResult.wrong
    assert maint.pin_message == "Wrong PIN. Tries left: 2" and maint.entered == ""
    enter(maint, "2222")
    assert enter(maint, "3333") is PinResult.locked
    assert maint.pin_message == "Locked. Try again in 60 s."
    ticker.now += 30.5
    assert enter(maint, PIN_CODE) is PinResult.locked  # the right PIN, but locked
    assert maint.pin_message == "Locked. Try again in 30 s." and flow.screen == PIN
    ticker.now += 30
    assert enter(maint, PIN_CODE) is PinResult.ok and flow.screen == MAINTENANCE


def test_maintenance_without_a_pin_hash_stays_closed_and_says_so(tmp_path):
    core, flow, maint, _ = make(tmp_path, None)
    try:
        maint.open_pin_pad()
        assert maint.pin_message == "No maintenance PIN is configured."
        assert enter(maint, "0000") is PinResult.disabled
        assert flow.screen == PIN and maint.pin_message == "No maintenance PIN is configured."
    finally:
        core.close()
        translator.switch("fi")


def test_maintenance_pin_is_at_most_twelve_digits(kiosk):
    _, _, maint, _ = kiosk
    maint.open_pin_pad()
    for _ in range(20):
        maint.key("9")
    assert maint.entered == "9" * 12


def test_maintenance_page_rows_show_this_kiosk_from_its_own_store(kiosk):
    core, flow, maint, _ = kiosk
    flow.press(4)
    core.store.set_meta("last_sync", '{"at": "2026-11-23T10:00:00.000Z", "ok": false, '
                        '"error": "connection refused", "last_success_at": "2026-11-23T09:00:00.000Z"}')
    flow.show_question(reset_lang=False)
    maint.open_pin_pad()
    enter(maint, PIN_CODE)
    rows = dict(maint.rows)
    assert rows["Server"] == "https://hymy.example"
    assert rows["Device"] == "Not enrolled (kassa-2)"
    assert rows["Enrolment"] == "Not enrolled"
    assert rows["Pending events"] == "1"
    assert rows["Last sync"] == "Failed 2026-11-23T10:00:00.000Z"
    assert rows["Last error"] == "connection refused"
    assert rows["Today"] == "N=1  (0 / 0 / 0 / 1), not counted 0"
    assert rows["Happy Index"] == "100 (few presses)"
    assert rows["Network address"] == "192.0.2.7"


def test_maintenance_sync_now_asks_the_agent_and_says_so(kiosk):
    core, flow, maint, _ = kiosk
    maint.open_pin_pad()
    enter(maint, PIN_CODE)
    assert core.store.get_meta("sync_requested_at") is None
    maint.sync_now()
    assert core.store.get_meta("sync_requested_at")
    assert maint.page_message == "Sync requested."
    maint.show_page()
    assert maint.page_message == ""


def test_maintenance_a_sync_requested_elsewhere_is_only_told_on_the_page(kiosk):
    _, flow, maint, _ = kiosk
    maint.sync_requested()  # the buttons' long hold while the question shows
    assert maint.page_message == "" and flow.screen == QUESTION


def test_maintenance_button_test_names_faces_and_voids_button_presses(kiosk):
    core, flow, maint, _ = kiosk
    maint.open_pin_pad()
    enter(maint, PIN_CODE)
    maint.show_test()
    assert flow.screen == TEST and maint.test_message == ""
    maint.test_press(2)
    assert maint.test_message == "Face 2 works." and maint.tested == (2, 1)
    maint.test_press(2)
    assert maint.tested == (2, 2)  # the same face again: shown again
    response = core.record(3, "button")  # the panel recorded it before anyone could know
    flow.gpio_press(response)
    assert maint.test_message == "Button 3 works." and flow.screen == TEST
    void = core.store.get(core.store.all_ids()[-1])
    assert (void["kind"], void["response_id"]) == ("void", response.id)
    assert [e.payload()["type"] for e in core.store.unsent()] == ["response", "followup"]  # touches stored nothing


def test_maintenance_touches_keep_it_open_and_idle_goes_back_to_the_question(kiosk):
    _, flow, maint, _ = kiosk
    maint.open_pin_pad()
    first = flow.timer.token
    maint.touched()
    assert flow.timer.token != first and not flow.timeout(first)
    assert flow.screen == PIN
    assert flow.timeout(flow.timer.token)
    assert flow.screen == QUESTION and flow.lang == "fi"


def test_maintenance_touches_elsewhere_change_no_timer(kiosk):
    _, flow, maint, _ = kiosk
    flow.press(4)
    token = flow.timer.token
    maint.touched()  # a customer's touch on the thank-you
    assert flow.screen == THANKS and flow.timer.token == token


def test_maintenance_pin_pad_does_not_open_over_a_technicians_screen(kiosk):
    _, flow, maint, _ = kiosk
    maint.open_pin_pad()
    enter(maint, PIN_CODE)
    maint.open_pin_pad()
    assert flow.screen == MAINTENANCE
    maint.leave()
    assert flow.screen == QUESTION
