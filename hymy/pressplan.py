"""A store's customers as a plan of presses: pure and seeded, for the simulator, the demo and sample data.

A :class:`Pattern` says how a store's customers behave: how many press in a peak hour (more at lunch and
after work, more on Saturdays), their usual mood as a Happy Index, the reasons and praise they pick, what
the few who type a comment write, and :class:`Spell` s of a different mood: a recurring weekly dip
(Tuesdays 16-18, a queue), a decline (the last two weeks), an incident (one Saturday's lunch hour).
:func:`plan_presses` turns a pattern and a store config into presses in time order: the capture core
replays them on a simulated device (``kiosk.simulate``), the server's sample data sends them as a
device would (``server.dashboard.sample``). The demo's stories are patterns too (``hymy.demostory``).

Nothing here does I/O. Deterministic: the same pattern, config, span and seed give the same presses.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from hymy.hours import is_open, zone
from hymy.protocol import StoreConfig

#: Relative customer flow per local hour (0-23); the shop's hours cut it further.
HOURLY_FLOW = (0, 0, 0, 0, 0, 0, 0.2, 0.4, 0.7, 0.8, 0.9, 1.2, 1.5, 1.2, 0.9, 0.9, 1.2, 1.5, 1.4, 1.0, 0.7, 0.4,
               0.2, 0)
#: Relative flow per weekday, Monday first.
WEEKDAY_FLOW = (0.8, 0.85, 0.9, 1.0, 1.2, 1.4, 0.7)
#: Sum of the hourly flow over a long shop day (08-21): presses a day ~ ``rate * DAY_FLOW``.
DAY_FLOW = sum(HOURLY_FLOW[8:21])


@dataclass(frozen=True, slots=True)
class PlannedPress:
    at: datetime  #: aware UTC instant of the press
    mood: int
    followup: tuple[str, str] | None = None  #: (kind, value) answered after the press
    repeat: bool = False  #: a second press 1-3 s later (counted as `repeat` by the capture core)
    comment: str | None = None  #: a free comment typed after the follow-up (stores with comments on)


@dataclass(frozen=True, slots=True)
class Spell:
    """A stretch of different mood: a weekday's hours every week, a whole recent period, or one incident.

    ``index``: the Happy Index (0-100) of the presses in it. ``weekday``: 0 = Monday .. 6 = Sunday, None
    = every day. ``hours``: local ``(first, end)`` hours, end exclusive (default the whole day).
    ``days_ago``: ``(from, to)``: only between ``from`` and ``to`` days before the plan's end (None:
    the whole plan). ``flow``: customer flow multiplier (a queue brings more presses, default 1).
    ``reasons``: reason id -> weight for the reasons given in it (None: the pattern's).
    ``complaints``: comments typed after an unhappy face in it (empty: the pattern's);
    ``comment_share``: the share of answered follow-ups with a comment in it (None: the pattern's; an
    angry queue types more). ``watched``: the demo replays the server's alert engine over each occurrence.
    """

    index: float
    weekday: int | None = None
    hours: tuple[int, int] = (0, 24)
    days_ago: tuple[float, float] | None = None
    flow: float = 1.0
    reasons: Mapping[str, float] | None = None
    complaints: tuple[str, ...] = ()
    comment_share: float | None = None
    watched: bool = False

    def active(self, local: datetime, end: datetime) -> bool:
        """Whether the hour starting at ``local`` (aware, the store's time) is in the spell, for a plan
        ending at ``end``."""
        if self.weekday is not None and local.weekday() != self.weekday:
            return False
        if not self.hours[0] <= local.hour < self.hours[1]:
            return False
        if self.days_ago is None:
            return True
        ago = (end - local) / timedelta(days=1)
        return self.days_ago[1] <= ago < self.days_ago[0]


@dataclass(frozen=True, slots=True)
class Pattern:
    """How a store's customers behave (see the module docstring); every field has a plain default.

    ``index``: usual Happy Index 0-100 (default 78, HappyOrNot's typical store). ``rate``: counted
    presses in a peak hour (default 12). ``reasons`` / ``praise``: id -> weight (empty: equal weights
    over the store's options). ``reason_share`` / ``praise_share``: of the presses shown a follow-up,
    the share that answer it (0.65 / 0.4). ``comment_share``: of the answered follow-ups, the share that
    also type a comment when the store asks for one (0); ``praise_comment_share``: the same after a
    positive face (None: ``comment_share``; the praise pages list the newest praise messages, so a story's
    thanks need more than a complaint's few). ``compliments`` / ``complaints``: what they
    type after a positive / negative face. ``repeat_share``: presses followed by a child's second press
    (0.04). ``after_hours``: chance of a press (a cleaner's) in a closed hour (0.05).
    """

    index: float = 78.0
    rate: float = 12.0
    reasons: Mapping[str, float] = field(default_factory=dict)
    praise: Mapping[str, float] = field(default_factory=dict)
    reason_share: float = 0.65
    praise_share: float = 0.4
    comment_share: float = 0.0
    praise_comment_share: float | None = None
    compliments: tuple[str, ...] = ()
    complaints: tuple[str, ...] = ()
    spells: tuple[Spell, ...] = ()
    repeat_share: float = 0.04
    after_hours: float = 0.05

    def spell_at(self, local: datetime, end: datetime) -> Spell | None:
        """The spell the hour starting at ``local`` is in (the last listed wins), or None."""
        found = None
        for spell in self.spells:
            if spell.active(local, end):
                found = spell
        return found


#: The simulator's default: a mostly happy store with one bad hour a week (Thursday 17-18, a queue).
DEFAULT_PATTERN = Pattern(spells=(Spell(32, weekday=3, hours=(17, 18), flow=1.6, reasons={"queue": 1}),))


@lru_cache(maxsize=256)
def mood_shares(index: float, scale: int) -> tuple[float, ...]:
    """Shares of the faces, most negative first, whose Happy Index is ``index`` (0-100) on ``scale`` faces.

    An exponential tilt of the even distribution (``share_k ∝ exp(b·k)``): one number moves the whole
    distribution, so 50 is even, higher leans happy, lower unhappy. ``index`` is clamped to 1-99.
    """
    target = min(99.0, max(1.0, float(index))) / 100.0
    steps = [k / (scale - 1) for k in range(scale)]

    def shares(b: float) -> list[float]:
        top = max(b * s for s in steps)
        w = [math.exp(b * s - top) for s in steps]
        total = sum(w)
        return [x / total for x in w]

    low, high = -60.0, 60.0
    for _ in range(80):
        mid = (low + high) / 2
        if sum(p * s for p, s in zip(shares(mid), steps, strict=True)) < target:
            low = mid
        else:
            high = mid
    return tuple(shares((low + high) / 2))


def plan_presses(config: StoreConfig, start: datetime, end: datetime, *, pattern: Pattern = DEFAULT_PATTERN,
                 seed: int = 1) -> Iterator[PlannedPress]:
    """Presses between ``start`` and ``end`` (aware), in time order, for a store with ``config``.

    Hour by hour: a Poisson number of customers (``pattern.rate`` x the hour's and weekday's flow x the
    spell's) while the store is open by its opening hours, else now and then a cleaner's press (no
    follow-up); each picks a face from the hour's mood (the spell's index or the pattern's), then
    perhaps a follow-up answer and a comment. Deterministic for a given ``seed``.
    """
    rng = random.Random(seed)
    tz = zone(config.timezone)
    scale = config.question.scale
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while hour < end:
        local = hour.astimezone(tz)
        spell = pattern.spell_at(local, end)
        flow = HOURLY_FLOW[local.hour] * WEEKDAY_FLOW[local.weekday()] * pattern.rate * (spell.flow if spell else 1)
        shares = mood_shares(spell.index if spell else pattern.index, scale)
        open_now = is_open(config.opening_hours, tz, hour)
        n = poisson(rng, flow) if open_now else (1 if rng.random() < pattern.after_hours else 0)
        for at in sorted(hour + timedelta(seconds=rng.uniform(0, 3600)) for _ in range(n)):
            if not start <= at < end:
                continue
            mood = rng.choices(range(1, scale + 1), weights=shares)[0]
            if not open_now:  # the kiosk shows its closed view: no follow-up
                yield PlannedPress(at, mood)
                continue
            followup = _followup(rng, config, pattern, spell, mood)
            comment = _comment(rng, config, pattern, spell, mood) if followup else None
            yield PlannedPress(at, mood, followup, repeat=rng.random() < pattern.repeat_share, comment=comment)
        hour += timedelta(hours=1)


def occurrences(pattern: Pattern, timezone: str, start: datetime, end: datetime, *,
                watched_only: bool = True) -> list[tuple[Spell, datetime, datetime]]:
    """Each stretch of consecutive hours in a spell between ``start`` and ``end``: ``(spell, from, to)``,
    aware UTC, in time order; only the ``watched`` spells unless ``watched_only`` is False."""
    tz = zone(timezone)
    found: list[tuple[Spell, datetime, datetime]] = []
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while hour < end:
        spell = pattern.spell_at(hour.astimezone(tz), end)
        if spell is not None and (spell.watched or not watched_only):
            last = found[-1] if found else None
            if last and last[0] is spell and last[2] == hour:
                found[-1] = (spell, last[1], hour + timedelta(hours=1))
            else:
                found.append((spell, hour, hour + timedelta(hours=1)))
        hour += timedelta(hours=1)
    return found


def split(presses: Iterable[PlannedPress], bounds: Sequence[datetime]) -> Iterator[list[PlannedPress]]:
    """Time-ordered ``presses`` in ``len(bounds) + 1`` pieces: before ``bounds[0]``, from each bound to
    the next, from the last bound on (e.g. to deliver a history up to each moment something is replayed)."""
    it = iter(presses)
    held = next(it, None)
    for bound in bounds:
        piece = []
        while held is not None and held.at < bound:
            piece.append(held)
            held = next(it, None)
        yield piece
    yield ([] if held is None else [held]) + list(it)


def _pick(rng: random.Random, options: list[str], weights: Mapping[str, float] | None) -> str:
    """One of ``options`` by ``weights`` (ids not offered are ignored; none left: equal weights)."""
    chosen = [(o, weights[o]) for o in options if weights and weights.get(o, 0) > 0]
    if not chosen:
        return rng.choice(options)
    return rng.choices([o for o, _ in chosen], weights=[w for _, w in chosen])[0]


def _followup(rng: random.Random, config: StoreConfig, pattern: Pattern, spell: Spell | None,
              mood: int) -> tuple[str, str] | None:
    kind = config.followup_for(mood)
    if kind == "reason" and config.reasons and rng.random() < pattern.reason_share:
        weights = spell.reasons if spell and spell.reasons is not None else pattern.reasons
        return ("reason", _pick(rng, [r.id for r in config.reasons], weights))
    if kind == "praise" and config.praise and rng.random() < pattern.praise_share:
        return ("praise", _pick(rng, [p.id for p in config.praise], pattern.praise))
    return None


def _comment(rng: random.Random, config: StoreConfig, pattern: Pattern, spell: Spell | None,
             mood: int) -> str | None:
    scale = config.question.scale
    share = spell.comment_share if spell and spell.comment_share is not None else pattern.comment_share
    if 2 * mood > scale + 1 and pattern.praise_comment_share is not None:
        share = pattern.praise_comment_share
    if not config.comments_enabled or rng.random() >= share:
        return None
    if 2 * mood < scale + 1:
        texts = (spell.complaints if spell else ()) or pattern.complaints
    elif 2 * mood > scale + 1:
        texts = pattern.compliments
    else:
        texts = ()
    return rng.choice(texts) if texts else None


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw with mean ``lam`` (Knuth's method; a rounded normal above 30)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, lam**0.5)))
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1
