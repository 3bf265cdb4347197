"""hymy.pressplan: the pure plan of a store's presses (patterns, spells, follow-ups, comments)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hymy.hours import is_open, zone
from hymy.pressplan import (
    DEFAULT_PATTERN,
    Pattern,
    PlannedPress,
    Spell,
    mood_shares,
    occurrences,
    plan_presses,
    split,
)
from hymy.protocol import StoreConfig
from hymy.score import face_weights, score_counts

HOURS = {d: ["08:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
#: Monday 2 March 2026, 00:00 in Helsinki.
MONDAY = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)


def config(**extra) -> StoreConfig:
    base = dict(store_id="s", store_name="Shop", timezone="Europe/Helsinki",
                question={"id": "q", "texts": {"fi": "Miten onnistuimme?"}}, opening_hours=HOURS,
                reasons=[{"id": "queue", "texts": {"fi": "Jono"}}, {"id": "price", "texts": {"fi": "Hinta"}}],
                praise=[{"id": "cashier", "texts": {"fi": "Kassa"}}],
                followup={"1": "reason", "2": "reason", "4": "praise"})
    return StoreConfig(**{**base, **extra})


@given(st.floats(1, 99), st.sampled_from([3, 4, 5]))
def test_mood_shares_give_the_index_asked_for(index, scale):
    shares = mood_shares(index, scale)
    assert len(shares) == scale and sum(shares) == pytest.approx(1)
    assert sum(s * w for s, w in zip(shares, face_weights(scale), strict=True)) == pytest.approx(index, abs=1e-6)
    if abs(index - 50) > 0.5:  # leans happy above 50, unhappy below
        assert all((a < b) == (index > 50) for a, b in zip(shares, shares[1:], strict=False))


def test_the_same_seed_plans_the_same_presses_and_another_seed_others():
    cfg = config()
    a = list(plan_presses(cfg, MONDAY, MONDAY + timedelta(days=7), seed=3))
    assert a == list(plan_presses(cfg, MONDAY, MONDAY + timedelta(days=7), seed=3))
    assert a != list(plan_presses(cfg, MONDAY, MONDAY + timedelta(days=7), seed=4))
    assert [p.at for p in a] == sorted(p.at for p in a) and all(MONDAY <= p.at < MONDAY + timedelta(days=7) for p in a)


def test_closed_hours_get_only_a_cleaners_press_without_follow_up():
    cfg = config()
    plan = list(plan_presses(cfg, MONDAY, MONDAY + timedelta(days=28), pattern=Pattern(after_hours=0.2), seed=1))
    closed = [p for p in plan if not is_open(cfg.opening_hours, zone(cfg.timezone), p.at)]
    open_ = [p for p in plan if p not in closed]
    sundays = [p for p in plan if p.at.astimezone(zone(cfg.timezone)).weekday() == 6]
    assert closed and sundays and all(p in closed for p in sundays)  # the shop is shut on Sundays
    assert not any(p.followup or p.comment or p.repeat for p in closed)
    assert len(closed) < len(open_) / 10
    # about 0.2 presses an hour while closed (4 weeks: 28*24 hours minus 6*13 open hours a week)
    assert 0.12 < len(closed) / (28 * 24 - 4 * 6 * 13) < 0.28


def test_a_spell_changes_the_mood_flow_and_reasons_of_its_hours_only():
    cfg = config()
    dip = Spell(20, weekday=1, hours=(16, 18), flow=1.5, reasons={"queue": 1})
    pattern = Pattern(index=85, rate=40, spells=(dip,))
    plan = list(plan_presses(cfg, MONDAY, MONDAY + timedelta(days=28), pattern=pattern, seed=2))
    tz = zone(cfg.timezone)

    def local(p: PlannedPress):
        return p.at.astimezone(tz)

    inside = [p for p in plan if local(p).weekday() == 1 and 16 <= local(p).hour < 18]
    same_hours_monday = [p for p in plan if local(p).weekday() == 0 and 16 <= local(p).hour < 18]
    rest = [p for p in plan if p not in inside and is_open(cfg.opening_hours, tz, p.at)]
    index = score_counts(Counter(p.mood for p in inside), 4).happy_index
    assert 12 < index < 28 and 81 < score_counts(Counter(p.mood for p in rest), 4).happy_index < 89
    assert {p.followup[1] for p in inside if p.followup and p.followup[0] == "reason"} == {"queue"}
    assert {p.followup[1] for p in rest if p.followup and p.followup[0] == "reason"} == {"queue", "price"}
    assert len(inside) > 1.3 * len(same_hours_monday)  # flow 1.5 (x 0.85/0.8 for Tuesday) against Monday


def test_days_ago_limits_a_spell_to_the_end_of_the_plan():
    spell = Spell(10, weekday=1, hours=(16, 18), days_ago=(21, 0), watched=True)
    end = MONDAY + timedelta(days=35)
    found = occurrences(Pattern(spells=(spell,)), "Europe/Helsinki", end - timedelta(days=35), end)
    tz = zone("Europe/Helsinki")
    assert [(a.astimezone(tz).strftime("%a %d %H"), b.astimezone(tz).strftime("%H")) for _, a, b in found] == [
        ("Tue 17 16", "18"), ("Tue 24 16", "18"), ("Tue 31 16", "18")]  # the Tuesdays of the last 3 weeks
    assert occurrences(Pattern(spells=(Spell(10, weekday=1, hours=(16, 18)),)), "Europe/Helsinki",
                       end - timedelta(days=35), end) == []  # not watched


def test_comments_come_only_when_the_store_asks_after_an_answered_follow_up_and_fit_the_face():
    pattern = Pattern(rate=40, comment_share=0.5, compliments=("Kiitos!",), complaints=("Liian kallista.",))
    span = (MONDAY, MONDAY + timedelta(days=7))
    assert not any(p.comment for p in plan_presses(config(), *span, pattern=pattern))
    plan = list(plan_presses(config(comments_enabled=True), *span, pattern=pattern))
    assert {(p.mood, p.comment) for p in plan if p.comment} == {(1, "Liian kallista."), (2, "Liian kallista."),
                                                                 (4, "Kiitos!")}
    assert all(p.followup for p in plan if p.comment)


def test_the_default_pattern_keeps_the_simulators_thursday_queue():
    cfg = config()
    plan = list(plan_presses(cfg, MONDAY, MONDAY + timedelta(days=14), pattern=DEFAULT_PATTERN, seed=5))
    tz = zone(cfg.timezone)
    bad = [p for p in plan if p.at.astimezone(tz).weekday() == 3 and p.at.astimezone(tz).hour == 17]
    assert {p.followup[1] for p in bad if p.followup and p.followup[0] == "reason"} == {"queue"}


def test_split_cuts_a_plan_at_each_bound_and_keeps_every_press():
    plan = [PlannedPress(MONDAY + timedelta(minutes=m), 4) for m in (0, 5, 10, 15, 20)]
    bounds = [MONDAY + timedelta(minutes=5), MONDAY + timedelta(minutes=12), MONDAY + timedelta(minutes=12)]
    pieces = list(split(iter(plan), bounds))
    assert [[p.at.minute for p in piece] for piece in pieces] == [[0], [5, 10], [], [15, 20]]
    assert list(split(plan, [])) == [plan]


def test_happy_customers_may_comment_more_often_than_the_rest():
    """The praise pages list the newest praise messages: a story's thanks must be among them."""
    pattern = Pattern(rate=40, comment_share=0.02, praise_comment_share=0.5, compliments=("Kiitos!",),
                      complaints=("Liian kallista.",))
    plan = list(plan_presses(config(comments_enabled=True), MONDAY, MONDAY + timedelta(days=7), pattern=pattern))
    happy = [p for p in plan if p.followup and p.mood == 4]
    unhappy = [p for p in plan if p.followup and p.mood <= 2]
    assert 0.4 < sum(bool(p.comment) for p in happy) / len(happy) < 0.6
    assert sum(bool(p.comment) for p in unhappy) / len(unhappy) < 0.1
    same = Pattern(rate=40, comment_share=0.02, compliments=("Kiitos!",))  # None: comment_share for every face
    assert sum(bool(p.comment) for p in plan_presses(config(comments_enabled=True), MONDAY, MONDAY + timedelta(days=7),
                                                     pattern=same) if p.mood == 4) < 0.1 * len(happy)
