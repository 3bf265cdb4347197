"""kiosk.screenflow: the customer's screens as a pure state machine, driven without Kivy.

A real kiosk core (``KioskCore``, no GPIO) stores the presses in a real Store in tmp_path; the clock
is stepped by hand, and a timeout is "fired" by calling ``timeout`` with the token the flow asked for.
These tests also run in a process where Kivy cannot be imported (test_kivy_free.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hymy.protocol import Flag, StoreConfig, default_store_config
from hymy.timestamps import utcnow
from kiosk.assembly import KioskCore
from kiosk.capture import build_response
from kiosk.clock import ClockReading
from kiosk.config import parse_config
from kiosk.i18n import translator
from kiosk.screenflow import (
    CLOSED,
    COMMENT,
    COMMENT_IDLE_S,
    FOLLOWUP,
    GLAD,
    MAINTENANCE,
    MAX_OPTIONS,
    PIN,
    PLAIN,
    QUESTION,
    SORRY,
    TEST,
    THANKS,
    ScreenFlow,
    followup_after,
    thanks_for,
    today_percent,
)
from tests.hardware.conftest import Config, StepClock

#: Opening hours that keep the store closed on Mondays (the step clock starts Monday 12:00 in Helsinki).
CLOSED_MONDAYS = {day: ["08:00-20:00"] for day in ("tue", "wed", "thu", "fri", "sat", "sun")}


def config(**changes) -> StoreConfig:
    data = default_store_config().model_dump(mode="json")
    data.update(changes)
    return StoreConfig.model_validate(data)


def press(cfg: StoreConfig, mood: int, flags=()):
    now = ClockReading(wall=utcnow(), synced=True, boot_id="b", uptime_ms=1)
    return build_response(mood, "touch", now, cfg, list(flags))


@dataclass
class Kiosk:
    core: KioskCore
    flow: ScreenFlow
    store_config: Config
    clock: StepClock
    changes: list

    def events(self) -> list[tuple]:
        """What the store holds: ("response", mood, flags) and ("followup", kind, value), in order."""
        out = []
        for e in (e.payload() for e in self.core.store.unsent()):
            out.append(("response", e["mood"], e["flags"]) if e["type"] == "response" else
                       ("followup", e["kind"], e["value"]))
        return out

    def fire(self) -> bool:
        """The binding's timer fires now (as Kivy's clock would call it)."""
        assert self.flow.timer is not None, f"no timer on {self.flow.screen}"
        return self.flow.timeout(self.flow.timer.token)


@pytest.fixture
def kiosk(tmp_path):
    device = parse_config({"device": {"data_dir": str(tmp_path / "data"), "clock": "trust"}})
    store_config, clock = Config(response_interval_s=0.0), StepClock()
    core = KioskCore(device, store_config=store_config, clock=clock, gpio=False)
    flow = ScreenFlow(core, store_config, clock)
    changes: list = []
    flow.on_change = lambda: changes.append(flow.screen)
    k = Kiosk(core, flow, store_config, clock, changes)
    flow.show_question()
    yield k
    core.close()
    translator.switch("fi")


# ---------------------------------------------------------------------- pure decisions


def test_flow_unhappy_press_asks_for_reason_with_configured_options():
    cfg = config()
    fu = followup_after(cfg, press(cfg, 1))
    assert fu.kind == "reason" and [o.id for o in fu.options] == [r.id for r in cfg.reasons]


def test_flow_happy_press_without_followup_thanks_at_once():
    cfg = config()
    assert followup_after(cfg, press(cfg, 4)) is None


def test_flow_praise_needs_praise_targets():
    cfg = config(followup={"4": "praise"})
    assert followup_after(cfg, press(cfg, 4)) is None
    cfg = config(followup={"4": "praise"}, praise=[{"id": "staff", "texts": {"fi": "Henkilökunta"}}])
    assert followup_after(cfg, press(cfg, 4)).kind == "praise"


def test_flow_flagged_press_gets_no_followup():
    cfg = config()
    assert followup_after(cfg, press(cfg, 1, [Flag.repeat])) is None
    assert followup_after(cfg, press(cfg, 1, [Flag.closed])) is None


def test_flow_at_most_six_options():
    reasons = [{"id": f"r{i}", "texts": {"fi": f"Syy {i}"}} for i in range(6)]
    cfg = config(reasons=reasons)
    assert len(followup_after(cfg, press(cfg, 1)).options) == MAX_OPTIONS == 6


def test_flow_today_percent_hidden_below_twenty_presses():
    assert today_percent({4: 19}, 4) is None
    assert today_percent({4: 15, 1: 5}, 4) == 75
    assert today_percent({3: 1, 4: 1, 1: 18}, 4) == 10
    assert today_percent({}, 4) is None


# ---------------------------------------------------------------------- the state machine


def test_screenflow_starts_on_the_question_in_finnish(kiosk):
    f = kiosk.flow
    assert (f.screen, f.timer, f.lang, f.scale) == (QUESTION, None, "fi", 4)
    assert f.question_text == "Miten onnistuimme tänään?"
    assert f.languages == ("fi", "sv", "en")
    assert kiosk.changes == [QUESTION]


def test_screenflow_happy_press_is_stored_then_thanked_then_question(kiosk):
    f = kiosk.flow
    response = f.press(4)
    assert response.mood == 4 and kiosk.events() == [("response", 4, [])]  # committed before the thanks
    assert f.screen == THANKS and f.last_mood == 4 and f.timer.seconds == 3.0
    assert kiosk.fire()
    assert f.screen == QUESTION and f.timer is None


def test_screenflow_unhappy_press_then_reason_then_thanks(kiosk):
    f = kiosk.flow
    response = f.press(1)
    assert f.screen == FOLLOWUP and f.timer.seconds == 8.0
    assert f.followup.kind == "reason"
    assert f.options == [("queue", "Jono"), ("service", "Palvelu"), ("selection", "Valikoima"),
                         ("price", "Hinta"), ("cleanliness", "Siisteys")]
    f.choose("service")
    assert f.screen == THANKS
    assert kiosk.events() == [("response", 1, []), ("followup", "reason", "service")]
    assert kiosk.core.store.get(kiosk.core.store.all_ids()[-1])["response_id"] == response.id


def test_screenflow_skip_stores_nothing_more(kiosk):
    kiosk.flow.press(2)
    kiosk.flow.skip()
    assert kiosk.flow.screen == THANKS and kiosk.events() == [("response", 2, [])]


def test_screenflow_followup_timeout_returns_to_question_with_the_press_kept(kiosk):
    kiosk.flow.press(1)
    assert kiosk.fire()
    assert kiosk.flow.screen == QUESTION and kiosk.flow.followup is None
    assert kiosk.events() == [("response", 1, [])]


def test_screenflow_a_stale_timer_changes_nothing(kiosk):
    f = kiosk.flow
    f.press(1)
    stale = f.timer.token
    f.choose("queue")  # on to the thanks: a new timer
    assert not f.timeout(stale)
    assert f.screen == THANKS
    assert f.timeout(f.timer.token) and f.screen == QUESTION
    assert not f.timeout(stale)


def test_screenflow_press_only_counts_on_the_question(kiosk):
    f = kiosk.flow
    f.press(4)
    assert f.press(3) is None  # a touch that lands while the thanks shows
    assert f.screen == THANKS and kiosk.events() == [("response", 4, [])]


def test_screenflow_a_press_that_cannot_be_recorded_leaves_the_question(kiosk, caplog):
    assert kiosk.flow.press(7) is None  # mood 7 on a 4-face question: CaptureError, logged
    assert kiosk.flow.screen == QUESTION and kiosk.events() == []
    assert "could not record a press of face 7" in caplog.text


def test_screenflow_comment_when_enabled_waits_for_typing_and_is_stored_limited(kiosk):
    kiosk.store_config.current = kiosk.store_config.current.model_copy(update={"comments_enabled": True})
    f = kiosk.flow
    f.press(1)
    f.choose("queue")
    assert f.screen == COMMENT and f.timer.seconds == max(COMMENT_IDLE_S, 8.0)
    before = f.timer.token
    f.comment_typed()
    assert f.timer.token != before and not f.timeout(before)  # the keystroke restarted the wait
    f.send_comment("  " + "Liian pitkä jono. " * 30)
    assert f.screen == THANKS
    comment = kiosk.events()[-1]
    assert comment[:2] == ("followup", "comment") and len(comment[2]) == 280
    assert comment[2] == ("Liian pitkä jono. " * 30)[:280]


def test_screenflow_comment_no_thanks_and_empty_send_store_nothing(kiosk):
    kiosk.store_config.current = kiosk.store_config.current.model_copy(update={"comments_enabled": True})
    f = kiosk.flow
    for finish in (lambda: f.skip(), lambda: f.send_comment("   ")):
        f.show_question()
        f.press(1)
        f.choose("price")
        finish()
        assert f.screen == THANKS
    assert [e[1] for e in kiosk.events()] == [1, "reason", 1, "reason"]


def test_screenflow_comment_times_out_to_the_question(kiosk):
    kiosk.store_config.current = kiosk.store_config.current.model_copy(update={"comments_enabled": True})
    kiosk.flow.press(1)
    kiosk.flow.choose("queue")
    assert kiosk.fire() and kiosk.flow.screen == QUESTION


def test_screenflow_language_follows_the_customer_and_resets_after_them(kiosk):
    f = kiosk.flow
    f.set_lang("sv")
    assert (f.lang, translator.lang, f.question_text) == ("sv", "sv", "Hur lyckades vi i dag?")
    f.press(1)
    assert f.options[0] == ("queue", "Kön")
    f.set_lang("en")
    assert f.options[0] == ("queue", "Queue")  # the options follow a change on the follow-up too
    f.skip()
    kiosk.fire()
    assert (f.screen, f.lang, translator.lang) == (QUESTION, "fi", "fi")
    assert f.question_text == "Miten onnistuimme tänään?"


def test_screenflow_default_language_is_the_stores_first_without_finnish(kiosk):
    kiosk.store_config.current = kiosk.store_config.current.model_copy(update={"languages": ["sv", "en"]})
    f = kiosk.flow
    f.show_question()
    assert f.languages == ("sv", "en") and f.lang == "sv"
    f.set_lang("en")
    f.show_question(reset_lang=False)
    assert f.lang == "en"


def test_screenflow_today_line_only_from_twenty_presses_in_the_customers_language(kiosk):
    kiosk.store_config.current = kiosk.store_config.current.model_copy(
        update={"show_today_result": True, "followup": {}})
    f = kiosk.flow
    f.press(4)
    assert f.today_percent is None and f.today_line == ""  # one press: too few to claim anything
    for mood in [4] * 15 + [1] * 5:
        kiosk.core.record(mood, "simulated")
    f.show_question()
    f.set_lang("en")
    f.press(3)
    assert f.today_percent == 77  # 17 of 22 positive
    assert f.today_line == "Today 77% of our customers smiled"
    f.show_question()
    f.press(3)
    assert f.today_line == "Tänään 78\xa0% asiakkaistamme hymyili"


def test_flow_thanks_tone_follows_the_face_on_every_scale():
    assert [thanks_for(m, 3) for m in (1, 2, 3)] == [SORRY, PLAIN, GLAD]
    assert [thanks_for(m, 4) for m in (1, 2, 3, 4)] == [SORRY, SORRY, GLAD, GLAD]
    assert [thanks_for(m, 5) for m in (1, 2, 3, 4, 5)] == [SORRY, SORRY, PLAIN, GLAD, GLAD]


def smiling_store(kiosk, scale: int = 4, **update) -> None:
    """A store that shows today's result, with 22 presses today (17 of them positive on 4 faces)."""
    cfg = kiosk.store_config.current
    kiosk.store_config.current = cfg.model_copy(update={
        "show_today_result": True, "followup": {}, "question": cfg.question.model_copy(update={"scale": scale}),
        **update})
    for mood in [scale] * 17 + [1] * 5:
        kiosk.core.record(mood, "simulated")


@pytest.mark.parametrize("mood", [1, 2])
def test_screenflow_after_a_negative_face_an_apology_and_never_the_smiles_line(kiosk, mood):
    smiling_store(kiosk)
    f = kiosk.flow
    f.show_question()
    f.press(mood)
    assert f.screen == THANKS and f.thanks == SORRY
    assert (f.thanks_title, f.thanks_text) == ("Kiitos.", "Pahoittelemme, ettei kaikki sujunut hyvin. "
                                                          "Viemme palautteesi eteenpäin.")
    assert f.today_line == "" and f.today_percent is None  # 17 of 23 smiled, but not said to this customer
    f.show_question()
    f.set_lang("en")
    f.press(mood)
    assert (f.thanks_title, f.thanks_text) == ("Thank you.", "We're sorry it wasn't better. We'll pass this on.")
    assert f.today_line == ""
    f.show_question()
    f.set_lang("sv")
    f.press(4)  # the next, happy customer hears the figure again
    assert f.thanks == GLAD and f.thanks_title == "Tack!" and f.today_line.startswith("I dag ")


def test_screenflow_apology_also_after_the_reason_and_the_comment(kiosk):
    smiling_store(kiosk, followup={"1": "reason"}, comments_enabled=True)
    f = kiosk.flow
    f.show_question()
    f.press(1)
    f.choose("queue")
    assert f.screen == COMMENT
    f.send_comment("Jono oli pitkä")
    assert f.screen == THANKS and f.thanks == SORRY and f.today_line == ""


def test_screenflow_neutral_face_gets_a_plain_thank_you(kiosk):
    smiling_store(kiosk, scale=5)
    f = kiosk.flow
    f.show_question()
    f.set_lang("en")
    f.press(3)
    assert f.thanks == PLAIN and f.today_line == ""
    assert (f.thanks_title, f.thanks_text) == ("Thank you.", "Your feedback helps us do better.")
    f.show_question(reset_lang=False)
    f.press(5)
    assert f.thanks == GLAD and f.thanks_title == "Thank you!"
    assert f.today_line == "Today 75% of our customers smiled"  # 18 of 24 positive


def test_screenflow_closed_hours_show_the_closed_view_and_open_again(kiosk):
    kiosk.store_config.current = kiosk.store_config.current.model_copy(update={"opening_hours": CLOSED_MONDAYS})
    f = kiosk.flow
    f.show_question()
    assert f.screen == CLOSED and not f.backlight_off
    kiosk.clock.advance(days=1)  # Tuesday noon: open
    f.check_hours()
    assert f.screen == QUESTION
    kiosk.clock.advance(days=6)  # Monday again
    f.check_hours()
    assert f.screen == CLOSED


def test_screenflow_closed_display_backlight_off(kiosk):
    kiosk.store_config.current = kiosk.store_config.current.model_copy(
        update={"opening_hours": CLOSED_MONDAYS, "closed_display": "backlight_off"})
    kiosk.flow.show_question()
    assert kiosk.flow.screen == CLOSED and kiosk.flow.backlight_off
    kiosk.clock.advance(days=1)
    kiosk.flow.check_hours()
    assert kiosk.flow.screen == QUESTION and not kiosk.flow.backlight_off


def test_screenflow_hours_check_leaves_a_customer_alone(kiosk):
    f = kiosk.flow
    f.press(1)
    kiosk.store_config.current = kiosk.store_config.current.model_copy(update={"opening_hours": CLOSED_MONDAYS})
    f.check_hours()
    assert f.screen == FOLLOWUP


def test_screenflow_gpio_press_while_closed_is_thanked_then_closed_again(kiosk):
    kiosk.store_config.current = kiosk.store_config.current.model_copy(update={"opening_hours": CLOSED_MONDAYS})
    f = kiosk.flow
    f.show_question()
    response = kiosk.core.record(2, "button")  # what the panel does on gpiozero's thread
    assert response.flags == [Flag.closed]
    f.gpio_press(response)
    assert f.screen == THANKS  # a closed press gets no follow-up
    kiosk.fire()
    assert f.screen == CLOSED


def test_screenflow_gpio_press_on_any_customer_screen_shows_what_follows_it(kiosk):
    f = kiosk.flow
    f.press(1)
    assert f.screen == FOLLOWUP
    f.gpio_press(kiosk.core.record(4, "button"))  # the next customer, on the buttons
    assert f.screen == THANKS and f.last_mood == 4
    f.gpio_press(kiosk.core.record(2, "button"))
    assert f.screen == FOLLOWUP and f.response.mood == 2


def test_screenflow_gpio_press_on_the_technicians_screens(kiosk):
    f = kiosk.flow
    tested = []
    f.on_test_press = lambda mood, button: tested.append((mood, button))
    for screen in (PIN, MAINTENANCE):
        f.go(screen, 120)
        f.gpio_press(kiosk.core.record(3, "button"))
        assert f.screen == screen  # kept, counted, but the technician's screen stays
    f.go(TEST, 120)
    response = kiosk.core.record(4, "button")
    f.gpio_press(response)
    assert f.screen == TEST and tested == [(4, True)]
    voids = [e for e in kiosk.events() if e[:2] == ("followup", "void")]
    assert len(voids) == 1 and kiosk.core.store.get(kiosk.core.store.all_ids()[-1])["response_id"] == response.id


def test_screenflow_tells_the_binding_after_every_change(kiosk):
    f = kiosk.flow
    kiosk.changes.clear()
    f.press(1)
    assert kiosk.changes[-1] == FOLLOWUP
    n = len(kiosk.changes)
    f.set_lang("en")
    assert len(kiosk.changes) == n + 1
    f.choose("queue")
    kiosk.fire()
    assert kiosk.changes[-2:] == [THANKS, QUESTION]


def test_screenflow_thanks_even_when_todays_counts_cannot_be_read(kiosk, caplog):
    kiosk.store_config.current = kiosk.store_config.current.model_copy(
        update={"show_today_result": True, "followup": {}})
    response = kiosk.core.record(4, "button")
    kiosk.core.close()  # the store is gone (shutting down) when the thank-you asks for today's counts
    kiosk.flow.gpio_press(response)
    assert kiosk.flow.screen == THANKS and kiosk.flow.today_line == ""
    assert "could not read today's counts" in caplog.text
