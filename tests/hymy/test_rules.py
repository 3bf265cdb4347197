"""hymy.rules: examples of each kind, the window edges, and the episode state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hymy.protocol import AlertRule
from hymy.rules import (
    EpisodeState,
    Press,
    Transition,
    counted_presses,
    evaluate,
    longest_window,
    next_change,
    step,
)
from hymy.timestamps import format_ts

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DEFAULT = AlertRule(id="neg", kind="negative_share")  # >= 50 % unhappy, 15 min, at least 4


def presses(*moods: int, start: datetime = T0, every_s: int = 60, scale: int = 4) -> list[Press]:
    return [Press(at=start + timedelta(seconds=i * every_s), mood=m, scale=scale, id=f"p{i}")
            for i, m in enumerate(moods)]


def test_rules_default_rule_fires_at_half_unhappy_with_four_presses():
    ps = presses(4, 1, 3, 2)
    ev = evaluate(DEFAULT, ps, ps[-1].at)
    assert ev.active and ev.n == 4 and ev.value == 50.0
    assert "2 of 4 presses (50%) unhappy" in ev.describe()


def test_rules_min_count_keeps_one_accidental_press_quiet():
    ps = presses(1, 1, 1)
    ev = evaluate(DEFAULT, ps, ps[-1].at)
    assert not ev.active and ev.value == 100.0
    assert "at least 4 needed" in ev.describe()


def test_rules_window_is_open_at_start_and_closed_at_end():
    rule = AlertRule(id="r", kind="face_count", mood=1, threshold=1, min_count=1, window_min=15)
    p = [Press(at=T0, mood=1)]
    assert evaluate(rule, p, T0).active  # a press exactly at now counts
    assert evaluate(rule, p, T0 + timedelta(minutes=15) - timedelta(milliseconds=1)).active
    assert not evaluate(rule, p, T0 + timedelta(minutes=15)).active  # exactly window_min ago: out
    assert not evaluate(rule, p, T0 - timedelta(milliseconds=1)).active  # not pressed yet
    assert next_change(rule, p, T0) == T0 + timedelta(minutes=15)
    assert next_change(rule, [], T0) is None


def test_rules_index_below_and_above_are_strict():
    below = AlertRule(id="b", kind="index_below", threshold=50, min_count=2)
    above = AlertRule(id="a", kind="index_above", threshold=50, min_count=2)
    even = presses(2, 3, scale=3)  # weights 50, 100 -> 75
    assert not evaluate(below, even, even[-1].at).active
    assert evaluate(above, even, even[-1].at).active
    exactly = presses(1, 3, scale=3)  # 0, 100 -> 50: neither strictly below nor above
    assert not evaluate(below, exactly, exactly[-1].at).active
    assert not evaluate(above, exactly, exactly[-1].at).active


def test_rules_index_threshold_compares_exactly_without_float_rounding():
    # three presses on 4 faces: 0 + 33.33.. + 66.66.. = 100 / 3 = 33.333...; float sums would give
    # 33.33333333333333 or ...36 depending on order; the comparison must not depend on that.
    rule = AlertRule(id="b", kind="index_below", threshold=100 / 3, min_count=3)
    ps = presses(1, 2, 3)
    assert evaluate(rule, ps, ps[-1].at).active == (__import__("fractions").Fraction(100, 3) < rule.threshold)


def test_rules_face_count_counts_only_that_face_but_needs_min_count_overall():
    rule = AlertRule(id="f", kind="face_count", mood=1, threshold=2, min_count=3)
    ps = presses(1, 1)
    assert not evaluate(rule, ps, ps[-1].at).active  # 2 of face 1 but only 2 presses overall
    ps = presses(1, 4, 1)
    ev = evaluate(rule, ps, ps[-1].at)
    assert ev.active and ev.value == 2.0


def test_rules_store_closed_means_no_rule_is_true():
    hours = {d: ["08:00-12:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    ps = presses(1, 1, 1, 1, start=datetime(2026, 11, 23, 9, 50, tzinfo=UTC))  # 11:50 in Helsinki
    assert evaluate(DEFAULT, ps, ps[-1].at, hours=hours, tz="Europe/Helsinki").active
    closed = evaluate(DEFAULT, ps, datetime(2026, 11, 23, 10, 0, tzinfo=UTC), hours=hours, tz="Europe/Helsinki")
    assert not closed.active and not closed.open and closed.describe() == "store closed"


def test_rules_counted_presses_drop_flags_voids_and_closed_hours():
    def r(i, mood, flags=(), at=T0):
        return {"id": f"id{i}", "mood": mood, "scale": 4, "flags": list(flags),
                "pressed_at": format_ts(at + timedelta(seconds=i))}

    hours = {"mon": ["11:00-13:00"]}  # 2026-11-23 is a Monday; T0 is 12:00 in Helsinki
    rows = [r(0, 1), r(1, 1, ["repeat"]), r(2, 2, ["closed"]), r(3, 1, ["maintenance"]), r(4, 2),
            r(5, 1, at=T0 + timedelta(hours=1))]  # 13:00:05 local: closed by the hours
    got = counted_presses(rows, voided={"id4"}, hours=hours, tz="Europe/Helsinki")
    assert [p.id for p in got] == ["id0"]
    assert [p.id for p in counted_presses(rows)] == ["id0", "id4", "id5"]


def test_rules_counted_presses_accept_protocol_models():
    from hymy.protocol import Response

    resp = Response(id="0192f7c4-8b1a-7c3e-9f00-1234567890ab", question_id="q", mood=2, source="touch",
                    pressed_at=T0, clock_synced=True, boot_id="b", uptime_ms=1, app_version="t")
    assert counted_presses([resp]) == [Press(at=T0, mood=2, scale=4, id=resp.id)]


def test_rules_episode_fires_once_and_clears_by_itself_as_time_passes():
    ps = presses(1, 1, 2, 4)  # 3 of 4 unhappy within 3 minutes
    state = EpisodeState()
    transitions = []
    for minute in range(0, 40):
        now = T0 + timedelta(minutes=minute)
        state, tr = step(state, evaluate(DEFAULT, ps, now))
        if tr:
            transitions.append((minute, tr))
    # active from minute 3 (4th press) until minute 15 (the first press leaves the window)
    assert transitions == [(3, Transition.fired), (15, Transition.cleared)]


def test_rules_episode_clears_when_happy_presses_arrive():
    ps = presses(1, 1, 1, 1)
    state, tr = step(EpisodeState(), evaluate(DEFAULT, ps, ps[-1].at))
    assert tr is Transition.fired and state.since == ps[-1].at
    more = ps + presses(4, 4, 4, 4, 4, start=ps[-1].at + timedelta(seconds=10), every_s=1)
    state, tr = step(state, evaluate(DEFAULT, more, more[-1].at))
    assert tr is Transition.cleared and not state.active


def test_rules_reject_naive_now_and_unknown_kind():
    with pytest.raises(ValueError, match="naive"):
        evaluate(DEFAULT, [], datetime(2026, 1, 1))

    class Odd:
        id, kind, window_min, min_count, threshold, mood = "x", "mystery", 15, 4, 50.0, None

    with pytest.raises(ValueError, match="mystery"):
        evaluate(Odd(), [], T0)


def test_rules_longest_window():
    assert longest_window([]) == timedelta(0)
    assert longest_window([DEFAULT, AlertRule(id="x", kind="index_below", window_min=60)]) == timedelta(hours=1)
