"""Alert-rule evaluation: the one pure core the server and the kiosk's staff lamp both run.

A rule looks at the *counted* presses of one store inside a sliding window that ends at ``now``:

- the window is the half-open interval ``(now - window_min, now]`` in real elapsed time (UTC), so a
  press belongs to it for exactly ``window_min`` minutes: it enters when pressed (a press exactly at
  ``now`` counts) and leaves at the instant ``pressed_at + window_min`` (a press exactly
  ``window_min`` ago no longer counts). Presses later than ``now`` (a device clock running ahead)
  are not in the window yet. Daylight-saving changes do not stretch or shrink a window.
- counted means: no flag (``repeat``, ``closed``, ``maintenance``), not voided by a ``void``
  follow-up, and pressed while the store was open by its opening hours (``hymy.hours.is_open``).
  While the store is closed no rule is true, so an open episode closes at closing time.
- nothing is true below ``min_count`` counted presses in the window (one accidental press never
  alarms anyone).

Kinds (``threshold`` means a different unit per kind) are defined once, in :data:`RULE_KINDS`: each
with its measure, its sentences and its labels. The wire contract's rule
model, the server's notices, the dashboard's alert list and the admin form all derive from it:

=================  =====================================================================
``negative_share``  share of negative faces (``hymy.score.is_negative``) ``>= threshold`` %
``index_below``     Happy Index (0-100, ``hymy.score``) strictly ``< threshold``
``index_above``     Happy Index strictly ``> threshold``
``face_count``      presses of face ``mood`` ``>= threshold`` (a count)
=================  =====================================================================

Comparisons are exact (``fractions.Fraction``), so the device and the server can never disagree on a
boundary through float rounding. An *episode* is a maximal stretch of time during which a rule is
true: ``step`` is a tiny state machine that reports ``fired`` once when it starts and ``cleared``
once when it ends, whether it ends because presses arrive or because time passes.

Nothing here does I/O or imports anything outside the standard library and ``hymy``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from hymy.hours import OpeningHours, is_open, zone
from hymy.score import check_mood, is_negative
from hymy.timestamps import parse_ts


class RuleLike(Protocol):
    """What a rule must offer (``hymy.protocol.AlertRule`` does; so does a server table row)."""

    id: str
    kind: str
    window_min: int
    min_count: int
    threshold: float
    mood: int | None


@dataclass(frozen=True, slots=True)
class Press:
    """One counted press as rules see it: when (aware UTC), which face, on which scale, and its id."""

    at: datetime
    mood: int
    scale: int = 4
    id: str = ""


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("now: a naive datetime has no time zone; use an aware UTC datetime")
    return at.astimezone(UTC)


def counted_presses(responses: Iterable[Mapping[str, Any] | Any], voided: Iterable[str] = (), *,
                    hours: OpeningHours | None = None, tz: str | ZoneInfo = "UTC") -> list[Press]:
    """The presses rules count, oldest first, from protocol responses (dicts or ``Response`` models).

    Skips presses with any flag, presses whose id is in ``voided`` (targets of ``void`` follow-ups)
    and presses outside ``hours`` in time zone ``tz`` (no hours: always open).
    """
    gone = set(voided)
    tzinfo = zone(tz) if isinstance(tz, str) else tz
    out: list[Press] = []
    for r in responses:
        get = r.get if isinstance(r, Mapping) else (lambda k, d=None, _r=r: getattr(_r, k, d))
        if get("flags") or get("id") in gone:
            continue
        at = get("pressed_at")
        at = parse_ts(at) if isinstance(at, str) else _aware(at)
        if hours and not is_open(hours, tzinfo, at):
            continue
        out.append(Press(at=at, mood=int(get("mood")), scale=int(get("scale", 4) or 4), id=str(get("id", ""))))
    out.sort(key=lambda p: p.at)
    return out


def window_start(rule: RuleLike, now: datetime) -> datetime:
    """The exclusive start of the rule's window ending at ``now``: ``now - window_min`` minutes."""
    return _aware(now) - timedelta(minutes=rule.window_min)


def in_window(rule: RuleLike, presses: Iterable[Press], now: datetime) -> list[Press]:
    """The presses inside ``(now - window_min, now]``."""
    end = _aware(now)
    start = end - timedelta(minutes=rule.window_min)
    return [p for p in presses if start < p.at <= end]


# --------------------------------------------------------------------------- kinds

#: A kind's measure: ``(rule, tally, n) -> (value, crossed)``: the exact measured value (None when it
#: cannot be measured) and whether it crosses the rule's threshold, ignoring ``min_count``. ``tally``
#: counts the window's presses per ``(scale, mood)``: at most 12 entries, so the exact arithmetic costs
#: the same for 10 presses or 10,000.
Measure = Callable[[RuleLike, Counter, int], tuple[Fraction | None, bool]]


@dataclass(frozen=True, slots=True)
class RuleKind:
    """One kind of alert rule, defined once.

    ``name``: its id on the wire (``AlertRule.kind``); ``measure``: how it is evaluated; ``needs_mood``:
    whether the rule must name a face (``AlertRule.mood``). Texts, English msgids that the server's
    catalogs translate: ``title`` (what a notice calls it), ``label`` (what the threshold means, for the
    admin form), ``sentence`` (:meth:`Evaluation.describe`'s template, the stored summary) and ``summary``
    (the dashboard's short line). Templates take ``%(n)s`` presses in the window, ``%(w)s`` window minutes,
    ``%(t)s`` threshold, ``%(v)s`` measured value, ``%(m)s`` the face and ``%(neg)s`` the negative presses
    behind a share.
    """

    name: str
    measure: Measure
    title: str
    label: str
    sentence: str
    summary: str
    needs_mood: bool = False


def _negative_share(rule: RuleLike, tally: Counter, n: int) -> tuple[Fraction | None, bool]:
    if n == 0:
        return None, False
    share = Fraction(100 * sum(c for (scale, mood), c in tally.items() if is_negative(mood, scale)), n)
    return share, share >= Fraction(rule.threshold)


def _index(tally: Counter, n: int) -> Fraction | None:
    if n == 0:
        return None
    return sum((Fraction(100 * (mood - 1) * c, scale - 1) for (scale, mood), c in tally.items()), Fraction(0)) / n


def _index_below(rule: RuleLike, tally: Counter, n: int) -> tuple[Fraction | None, bool]:
    index = _index(tally, n)
    return index, index is not None and index < Fraction(rule.threshold)


def _index_above(rule: RuleLike, tally: Counter, n: int) -> tuple[Fraction | None, bool]:
    index = _index(tally, n)
    return index, index is not None and index > Fraction(rule.threshold)


def _face_count(rule: RuleLike, tally: Counter, n: int) -> tuple[Fraction | None, bool]:
    count = sum(c for (_, mood), c in tally.items() if mood == rule.mood)
    return Fraction(count), count >= Fraction(rule.threshold)


#: Every rule kind by name, in the order forms list them. ``register`` adds one.
RULE_KINDS: dict[str, RuleKind] = {}


def register(kind: RuleKind) -> RuleKind:
    """Add ``kind`` to :data:`RULE_KINDS` (replacing one of the same name) and return it."""
    RULE_KINDS[kind.name] = kind
    return kind


def rule_kind(name: str) -> RuleKind:
    """The kind called ``name``; ValueError naming the valid ones otherwise."""
    kind = RULE_KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ValueError(f"kind: {name!r} is not a rule kind; use one of {', '.join(RULE_KINDS)}")
    return kind


register(RuleKind(
    "negative_share", _negative_share, title="Many unhappy customers",
    label="share of unhappy presses in the window, at least the threshold in %",
    sentence="%(neg)s of %(n)s presses (%(v)s%%) unhappy in the last %(w)s min (limit %(t)s%%)",
    summary="%(v)s %% of %(n)s presses unhappy in %(w)s min (limit %(t)s %%)"))
register(RuleKind(
    "index_below", _index_below, title="Happy Index low",
    label="Happy Index of the window below the threshold (0-100)",
    sentence="Happy Index %(v)s from %(n)s presses in the last %(w)s min (alert below %(t)s)",
    summary="Happy Index %(v)s below %(t)s in %(w)s min (N %(n)s)"))
register(RuleKind(
    "index_above", _index_above, title="Happy Index high",
    label="Happy Index of the window above the threshold (0-100): good news for the team",
    sentence="Happy Index %(v)s from %(n)s presses in the last %(w)s min (alert above %(t)s)",
    summary="Happy Index %(v)s above %(t)s in %(w)s min (N %(n)s)"))
register(RuleKind(
    "face_count", _face_count, title="Face count reached", needs_mood=True,
    label="presses of one face (give the face, 1 = most negative), at least the threshold",
    sentence="%(v)s presses of face %(m)s among %(n)s in the last %(w)s min (limit %(t)s)",
    summary="%(v)s presses of face %(m)s in %(w)s min (limit %(t)s)"))

#: The sentences :meth:`Evaluation.describe` writes that belong to no kind, as templates with named values:
#: the English text, and the msgids the server's notices translate (``server.alerts.language``).
OTHER_SENTENCES = {
    "closed": "store closed",
    "too_few": "%(n)s counted presses in the last %(w)s min (at least %(min)s needed)",
}


def sentences() -> list[str]:
    """Every template :meth:`Evaluation.describe` may use: each kind's and :data:`OTHER_SENTENCES`."""
    return [*OTHER_SENTENCES.values(), *(k.sentence for k in RULE_KINDS.values())]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The outcome of one rule at one instant.

    ``n`` is the counted presses in the window; ``value`` the measured quantity (negative share in
    %, Happy Index 0-100, or the face's count), None when ``n`` is 0; ``open`` False when the store
    was closed at ``at`` (then ``active`` is False whatever the presses).
    """

    rule_id: str
    kind: str
    active: bool
    n: int
    value: float | None
    threshold: float
    window_min: int
    min_count: int
    at: datetime
    open: bool = True
    mood: int | None = None
    press_ids: tuple[str, ...] = field(default=(), repr=False)

    def sentence(self) -> tuple[str, dict[str, str]]:
        """:meth:`describe` as a template (its kind's ``sentence``, or one of :data:`OTHER_SENTENCES`)
        and its values, for translations."""
        if not self.open:
            return OTHER_SENTENCES["closed"], {}
        w, t = str(self.window_min), f"{self.threshold:g}"
        if self.n < self.min_count:
            return OTHER_SENTENCES["too_few"], {"n": str(self.n), "w": w, "min": str(self.min_count)}
        v = self.value if self.value is not None else 0.0
        values = {"n": str(self.n), "w": w, "t": t, "v": f"{v:.0f}", "neg": str(round(v * self.n / 100)),
                  "m": str(self.mood)}
        return rule_kind(self.kind).sentence, values

    def describe(self) -> str:
        """One human sentence, e.g. ``3 of 4 presses (75%) unhappy in the last 15 min (limit 50%)``."""
        template, values = self.sentence()
        return template % values


def evaluate(rule: RuleLike, presses: Iterable[Press], now: datetime, *,
             hours: OpeningHours | None = None, tz: str | ZoneInfo = "UTC") -> Evaluation:
    """Evaluate ``rule`` over ``presses`` (already counted ones, see ``counted_presses``) at ``now``.

    ``hours``/``tz``: the store's opening hours; while closed the rule is never active.
    """
    kind = rule_kind(rule.kind)
    if kind.needs_mood and rule.mood is None:
        raise ValueError(f"mood: required for kind {rule.kind}")
    now = _aware(now)
    window = in_window(rule, presses, now)
    tally = Counter((p.scale, p.mood) for p in window)
    for scale, mood in tally:
        check_mood(mood, scale)
    store_open = is_open(hours, zone(tz) if isinstance(tz, str) else tz, now) if hours else True
    value, crossed = kind.measure(rule, tally, len(window))
    active = store_open and len(window) >= rule.min_count and crossed
    return Evaluation(
        rule_id=rule.id, kind=rule.kind, active=active, n=len(window),
        value=None if value is None else float(value), threshold=float(rule.threshold),
        window_min=rule.window_min, min_count=rule.min_count, at=now, open=store_open,
        mood=rule.mood, press_ids=tuple(p.id for p in window),
    )


def next_change(rule: RuleLike, presses: Iterable[Press], now: datetime) -> datetime | None:
    """The first instant after ``now`` at which a press leaves the window (so the outcome may change
    with no new press), or None when the window is empty. Opening-hours edges are not included:
    callers that care about closing time re-evaluate on a timer as well."""
    window = in_window(rule, presses, now)
    if not window:
        return None
    return min(p.at for p in window) + timedelta(minutes=rule.window_min)


# --------------------------------------------------------------------------- episodes


class Transition(StrEnum):
    fired = "fired"  #: the condition became true: notify once
    cleared = "cleared"  #: the condition is no longer true: the episode closes by itself


@dataclass(frozen=True, slots=True)
class EpisodeState:
    """Whether a rule's episode is open, and since when (aware UTC)."""

    active: bool = False
    since: datetime | None = None


def step(state: EpisodeState, evaluation: Evaluation) -> tuple[EpisodeState, Transition | None]:
    """Advance one rule's episode with a fresh evaluation.

    Returns the new state and ``fired`` (false -> true), ``cleared`` (true -> false) or None
    (unchanged: no storm while the condition persists, nothing while it stays false).
    """
    if evaluation.active and not state.active:
        return EpisodeState(True, evaluation.at), Transition.fired
    if not evaluation.active and state.active:
        return EpisodeState(False, None), Transition.cleared
    return state, None


def evaluate_all(rules: Iterable[RuleLike], presses: Sequence[Press], now: datetime, *,
                 hours: OpeningHours | None = None, tz: str | ZoneInfo = "UTC") -> dict[str, Evaluation]:
    """Evaluate several rules of one store at once: ``{rule.id: Evaluation}``."""
    return {rule.id: evaluate(rule, presses, now, hours=hours, tz=tz) for rule in rules}


def longest_window(rules: Iterable[RuleLike]) -> timedelta:
    """How far back presses are needed to evaluate ``rules`` (zero for no rules)."""
    return timedelta(minutes=max((r.window_min for r in rules), default=0))
