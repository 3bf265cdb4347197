"""kiosk.ui.flow: which follow-up follows a press, and the honest "today" figure (pure, no Kivy)."""

from __future__ import annotations

from hymy.protocol import Flag, StoreConfig, default_store_config
from hymy.timestamps import utcnow
from kiosk.capture import build_response
from kiosk.clock import ClockReading
from kiosk.ui.flow import MAX_OPTIONS, followup_after, today_percent


def config(**changes) -> StoreConfig:
    data = default_store_config().model_dump(mode="json")
    data.update(changes)
    return StoreConfig.model_validate(data)


def press(cfg: StoreConfig, mood: int, flags=()):
    now = ClockReading(wall=utcnow(), synced=True, boot_id="b", uptime_ms=1)
    return build_response(mood, "touch", now, cfg, list(flags))


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
