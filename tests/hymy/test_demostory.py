"""hymy.demostory: the demo's stories are in its planned presses, whatever the moment the demo starts.

The planned presses (``hymy.pressplan``) are judged the way the pages judge them (tests/storycheck.py:
the statistics core). tests/e2e/test_demo_story.py checks the same on a running ``hymy demo``, once.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from hymy.demostory import (
    ALERT_RULES,
    COMPLIMENTS,
    DIP_HOURS,
    DIP_WEEKDAY,
    KAMPPI,
    SODERMALM,
    STORES,
    TAMPERE,
    StoryStore,
    store_settings,
)
from hymy.hours import is_open, zone
from hymy.pressplan import occurrences, plan_presses
from hymy.protocol import AlertRule, StoreConfig
from hymy.rules import Press, evaluate
from hymy.stats import LOWER, sample, sample_interval
from tests.storycheck import Counted, day_hours, heat_map, reasons, the_one

DAYS = 30
#: Demo starts spread over the week and the day (every 37 hours from a Monday morning).
ENDS = [datetime(2026, 3, 2, 7, 30, tzinfo=UTC) + timedelta(hours=37 * k) for k in range(6)]
DIP = {(DIP_WEEKDAY, h) for h in range(*DIP_HOURS)}


def config(story: StoryStore) -> StoreConfig:
    return StoreConfig(store_id="s", store_name=story.name, question={"id": "q", "texts": {"fi": "Miten meni?"}},
                       **store_settings(story))


def planned(story: StoryStore, end: datetime):
    return list(plan_presses(config(story), end - timedelta(days=DAYS), end, pattern=story.pattern, seed=story.seed))


def counted(story: StoryStore, end: datetime) -> list[Counted]:
    cfg, tz = config(story), zone(story.timezone)
    return [Counted(p.at.astimezone(tz), p.mood, 4, (p.followup[1],) if p.followup and p.followup[0] == "reason" else ())
            for p in planned(story, end) if is_open(cfg.opening_hours, tz, p.at)]


@pytest.mark.parametrize("end", ENDS, ids=lambda e: e.strftime("%a-%H"))
def test_kamppis_tuesday_queue_is_flagged_on_the_heat_map_and_on_its_first_tuesday(end):
    presses = counted(KAMPPI, end)
    cells = heat_map(presses)
    flagged = {k for k, r in cells.items() if r.verdict == LOWER}
    assert flagged >= DIP and the_one(cells) in DIP, flagged
    in_dip = [p for p in presses if (p.local.weekday(), p.local.hour) in DIP]
    top, n = reasons(in_dip).most_common(1)[0]
    assert top == "queue" and n > 0.5 * sum(reasons(in_dip).values())

    # the first Tuesday of the queue, against the Tuesdays before it: Today would name one of its hours
    first = occurrences(KAMPPI.pattern, KAMPPI.timezone, end - timedelta(days=DAYS), end)[0][1]
    day = first.astimezone(zone(KAMPPI.timezone)).date()
    hours = day_hours(presses, day, range(8, 21))
    named = the_one(hours)
    assert named in range(*DIP_HOURS) and hours[named].verdict == LOWER, {h: r.verdict for h, r in hours.items()}
    assert reasons(p for p in presses if p.local.date() == day and p.local.hour == named).most_common(1)[0][0] == "queue"
    before = day_hours(presses, day - timedelta(days=7), range(8, 21))  # the Tuesday before: still two tills
    assert not {h for h in range(*DIP_HOURS) if before[h].verdict == LOWER}


@pytest.mark.parametrize("end", ENDS[:3], ids=lambda e: e.strftime("%a-%H"))
def test_the_stores_rank_apart_with_their_intervals_clear_of_each_other(end):
    figures = {}
    for story in STORES:
        s = sample(Counter(p.mood for p in counted(story, end)), 4)
        figures[story.name] = (s.index, *sample_interval(s))
    ranked = sorted(figures, key=lambda name: -figures[name][0])
    assert ranked == [KAMPPI.name, TAMPERE.name, SODERMALM.name], figures
    for better, worse in zip(ranked, ranked[1:], strict=False):
        assert figures[better][1] > figures[worse][2] + 2, figures  # lower limit above the other's upper
    assert figures[KAMPPI.name][0] - figures[SODERMALM.name][0] > 15
    # Södermalm's last two weeks (the new supplier) against the two before: the Trends line falls
    tz = zone(SODERMALM.timezone)
    late = [p for p in counted(SODERMALM, end) if p.local >= (end - timedelta(days=14)).astimezone(tz)]
    early = [p for p in counted(SODERMALM, end) if p.local < (end - timedelta(days=14)).astimezone(tz)]
    assert sample(Counter(p.mood for p in early), 4).index - sample(Counter(p.mood for p in late), 4).index > 10
    assert reasons(late).most_common(1)[0][0] == "selection"


@pytest.mark.parametrize("story", [KAMPPI, SODERMALM], ids=lambda s: s.name)
@pytest.mark.parametrize("end", ENDS[:3], ids=lambda e: e.strftime("%a-%H"))
def test_the_alert_rule_fires_in_every_watched_spell(end, story):
    rule = AlertRule(**ALERT_RULES[0])
    cfg, tz = config(story), zone(story.timezone)
    presses = [Press(p.at, p.mood, 4, str(i)) for i, p in enumerate(planned(story, end))
               if is_open(cfg.opening_hours, tz, p.at)]
    times = [p.at for p in presses]

    def active(at: datetime) -> bool:  # as the engine sees it when a press arrives at ``at``
        window = presses[bisect_right(times, at - timedelta(minutes=rule.window_min)):bisect_right(times, at)]
        return evaluate(rule, window, at, hours=cfg.opening_hours, tz=story.timezone).active

    spells = occurrences(story.pattern, story.timezone, end - timedelta(days=DAYS), end)
    assert len(spells) == (3 if story is KAMPPI else 1)
    for _, first, last in spells:
        assert any(active(first + timedelta(minutes=m)) for m in range(0, int((last - first).seconds / 60), 5))


def test_praise_comes_in_finnish_swedish_and_english_and_complaints_only_after_unhappy_faces():
    end = ENDS[0]
    typed = {story.name: [(p.mood, p.comment) for p in planned(story, end) if p.comment] for story in STORES}
    for name, by_language in COMPLIMENTS.items():
        written = {text for mood, text in typed[name] if mood == 4}
        for language, texts in by_language.items():
            assert written & set(texts), (name, language)
    everything = [c for comments in typed.values() for c in comments]
    compliments = {t for by_language in COMPLIMENTS.values() for texts in by_language.values() for t in texts}
    assert all((mood == 4) == (text in compliments) for mood, text in everything)
    assert sum(1 for mood, _ in everything if mood <= 2) >= 10  # complaints managers see, the team never
    praise = Counter(p.followup[1] for p in planned(KAMPPI, end) if p.followup and p.followup[0] == "praise")
    assert praise.most_common(1)[0][0] == "cashier" and sum(praise.values()) > 1000
