"""Property-based tests of hymy.rules against a brute-force reference.

The reference works on integer milliseconds since the epoch and integer arithmetic only, so it
shares no code path with the implementation (no timedelta windows, no Fractions of weights).
Times are drawn around the 2026 daylight-saving changes in Europe/Helsinki, where local days have 23
and 25 hours; windows must still be real elapsed time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from hymy.protocol import AlertRule
from hymy.rules import EpisodeState, Transition, counted_presses, evaluate, step
from hymy.timestamps import format_ts

HEL = ZoneInfo("Europe/Helsinki")
# 2026-03-29 03:00 local -> 04:00 (01:00 UTC); 2026-10-25 04:00 local -> 03:00 (01:00 UTC)
DST_EDGES = [datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, tzinfo=UTC)]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_MS = 60_000
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def ms(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(milliseconds=1)


# ----------------------------------------------------------------------------- reference


def ref_open(hours, at_ms: int) -> bool:
    """Opening hours by brute force: local wall clock minute within any non-wrapping interval."""
    if not hours:
        return True
    local = (EPOCH + timedelta(milliseconds=at_ms)).astimezone(HEL)
    minute = local.hour * 60 + local.minute
    for text in hours.get(DAYS[local.weekday()], []):
        a, b = text.split("-")
        start = int(a[:2]) * 60 + int(a[3:])
        end = int(b[:2]) * 60 + int(b[3:])
        if start <= minute < end:
            return True
    return False


def ref_active(rule, rows, voided, hours, now_ms: int) -> bool:
    if not ref_open(hours, now_ms):
        return False
    window = []
    for r in rows:
        if r["flags"] or r["id"] in voided or not ref_open(hours, r["ms"]):
            continue
        if now_ms - rule.window_min * MIN_MS < r["ms"] <= now_ms:
            window.append(r)
    n = len(window)
    if n < rule.min_count:
        return False
    thr = Fraction(rule.threshold)
    if rule.kind == "face_count":
        return sum(r["mood"] == rule.mood for r in window) >= thr
    if n == 0:
        return False
    if rule.kind == "negative_share":
        neg = sum(2 * r["mood"] < r["scale"] + 1 for r in window)
        return 100 * neg >= thr * n
    # index * 12 * n as an integer: 1200 * (mood - 1) / (scale - 1) is whole for scales 3, 4, 5
    total12 = sum(1200 * (r["mood"] - 1) // (r["scale"] - 1) for r in window)
    if rule.kind == "index_below":
        return total12 < thr * 12 * n
    return total12 > thr * 12 * n


# ----------------------------------------------------------------------------- strategies

rules = st.builds(
    lambda kind, window, min_count, threshold, mood: AlertRule(
        id="r", kind=kind, window_min=window, min_count=min_count, threshold=threshold,
        mood=mood if kind == "face_count" else None),
    kind=st.sampled_from(["negative_share", "index_below", "index_above", "face_count"]),
    window=st.sampled_from([1, 2, 5, 15, 60, 90]),
    min_count=st.integers(1, 6),
    # boundaries that the weights actually hit (0, 25, 33.3.., 50, 66.6.., 75, 100) and others
    threshold=st.one_of(st.sampled_from([0, 25, 50, 75, 100, 100 / 3, 200 / 3, 2, 3]),
                        st.floats(0, 100, allow_nan=False)),
    mood=st.integers(1, 3),
)

HOURS = st.sampled_from([
    None,
    {d: ["02:00-05:00"] for d in DAYS},  # straddles both DST changes (03:00 and 04:00 local)
    {d: ["00:00-03:30", "03:45-24:00"] for d in DAYS},
    {"sun": ["03:00-04:30"]},
])


@st.composite
def scenarios(draw):
    base = draw(st.sampled_from(DST_EDGES))
    rule = draw(rules)
    scale = draw(st.sampled_from([3, 4, 5]))
    span_ms = 3 * 60 * MIN_MS
    # offsets often land on whole minutes so that presses sit exactly on window edges
    offset = st.one_of(st.integers(-span_ms, span_ms),
                       st.integers(-180, 180).map(lambda m: m * MIN_MS))
    n = draw(st.integers(0, 25))
    rows = []
    for i in range(n):
        at_ms = ms(base) + draw(offset)
        rows.append({
            "id": f"id{i}", "mood": draw(st.integers(1, scale)), "scale": scale, "ms": at_ms,
            "flags": draw(st.sampled_from([[], [], [], ["repeat"], ["closed"], ["maintenance"]])),
            "pressed_at": format_ts(EPOCH + timedelta(milliseconds=at_ms)),
        })
    voided = {r["id"] for r in rows if draw(st.booleans()) and draw(st.booleans())}
    hours = draw(HOURS)
    # instants to evaluate at: press times exactly, their window exits exactly, and free ones
    instants = [ms(base) + draw(offset) for _ in range(draw(st.integers(1, 8)))]
    for r in rows[:5]:
        instants += [r["ms"], r["ms"] + rule.window_min * MIN_MS, r["ms"] + rule.window_min * MIN_MS - 1]
    return rule, rows, voided, hours, sorted(instants)


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_rules_evaluate_matches_brute_force_reference(case):
    rule, rows, voided, hours, instants = case
    presses = counted_presses(rows, voided, hours=hours, tz="Europe/Helsinki")
    for now_ms in instants:
        now = EPOCH + timedelta(milliseconds=now_ms)
        got = evaluate(rule, presses, now, hours=hours, tz="Europe/Helsinki")
        assert got.active == ref_active(rule, rows, voided, hours, now_ms), (now, got)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_rules_episodes_fire_once_per_episode_and_close_by_themselves(case):
    """Replayed as a live system would see it: presses arrive over time, evaluations happen at
    arrivals and on timer instants. Exactly one ``fired`` per rising edge of the reference
    condition, one ``cleared`` per falling edge, never two in a row of the same kind."""
    rule, rows, voided, hours, instants = case
    arrivals = sorted(r["ms"] for r in rows)
    checkpoints = sorted(set(instants) | set(arrivals))
    state = EpisodeState()
    seen = []
    prev = False
    rising = falling = 0
    for now_ms in checkpoints:
        arrived = [r for r in rows if r["ms"] <= now_ms]  # the system only knows what has arrived
        presses = counted_presses(arrived, voided, hours=hours, tz="Europe/Helsinki")
        now = EPOCH + timedelta(milliseconds=now_ms)
        state, tr = step(state, evaluate(rule, presses, now, hours=hours, tz="Europe/Helsinki"))
        ref = ref_active(rule, arrived, voided, hours, now_ms)
        assert state.active == ref
        rising += ref and not prev
        falling += prev and not ref
        prev = ref
        if tr:
            seen.append(tr)
    assert seen.count(Transition.fired) == rising
    assert seen.count(Transition.cleared) == falling
    assert all(a != b for a, b in zip(seen, seen[1:], strict=False))
