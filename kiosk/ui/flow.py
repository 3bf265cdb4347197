"""What the screen does after a press, as pure decisions (no Kivy): follow-up or thanks, the options
a follow-up offers, and the "today" line on the thank-you screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from hymy.protocol import Reason, Response, StoreConfig
from hymy.score import LOW_CONFIDENCE_N, score_counts

#: Most options one follow-up shows (plus Skip).
MAX_OPTIONS = 6


@dataclass(frozen=True, slots=True)
class Followup:
    """The follow-up to ask: ``kind`` is ``reason`` or ``praise``; ``options`` the configured choices."""

    kind: str
    options: tuple[Reason, ...]


def followup_after(config: StoreConfig, response: Response) -> Followup | None:
    """The one follow-up to show after ``response``, or None to thank at once.

    Only counted presses get a follow-up: a repeat press (the same customer pressing again) or a
    press outside opening hours is thanked without further questions.
    """
    if response.flags:
        return None
    kind = config.followup_for(response.mood)
    options = {"reason": config.reasons, "praise": config.praise}.get(kind) or []
    if not options:
        return None
    return Followup(kind, tuple(options[:MAX_OPTIONS]))


def today_percent(counts: dict[int, int], scale: int) -> int | None:
    """Today's share of positive presses as a whole percent, or None while N is too small to say
    (fewer than ``LOW_CONFIDENCE_N`` counted presses): we never shout a figure built on three presses."""
    score = score_counts(counts, scale)
    if score.n < LOW_CONFIDENCE_N or score.positive_pct is None:
        return None
    return int(score.positive_pct + 0.5)
