"""Results: the one read path from the rollups to figures, for the manager API, CSV export, reports and
the dashboard. Every query reads rollup rows of the days asked (O(days), never O(responses)) and
returns :class:`hymy.figures.Figure` (counts per face, filtered, score).

Days are local dates in the store's zone; hours are the day's hour buckets (``server.localtime``: 23, 24
or 25 on most DST days). Every function takes an open connection; none writes.

========================  ==================================================================
``daily``                 every local date of a period, summed over stores (region rollups)
``daily_by_store``        per store, per local date that has presses
``totals``                per store, the whole period
``hour_buckets``          every hour bucket of one local date; ``by_local_hour`` folds them
``local_hours``           per store, local date and local hour, several stores and dates at once
``until_hour``            per store and local date, only the hours up to one ("so far today")
``until_hour_samples``    the same as ``hymy.stats.Sample`` (no figures): Today's table of stores
``weekday_hour``          per (weekday, local hour) over a period, summed in the database
``weekday_hour_weeks``    each (weekday, local hour) cell's presses per week (``hymy.stats.Sample``)
``weekday_hour_and_weeks`` both in one pass (the heat map)
``followup_counts``       reason and praise choices, most frequent first
``followups_by_hour``     reason (or praise) choices per local hour of one date per store
``followup_names``        reason and praise ids -> their text in a language
``comments``              free comments, newest first (optionally only after a counted positive face)
``praise_messages``       praise options and comments per counted positive press, newest first
========================  ==================================================================

Whether a figure is usual for its store (the 95 % interval, "lower / higher than usual" after
Benjamini-Hochberg, ``hymy.stats_compare``) is judged in :mod:`server.results.usual`, over figures read
here, so every reader shows the same verdict.
"""

from __future__ import annotations

from hymy.figures import Figure, merge

from .comments import Comment, comments
from .daily import daily, daily_by_store, dates, totals
from .followups import Count, followup_counts, followup_names, followups_by_hour
from .hourly import (
                     Bucket,
                     buckets_of,
                     by_local_hour,
                     hour_buckets,
                     hour_samples,
                     local_hours,
                     until_hour,
                     until_hour_samples,
)
from .praise import PraiseMessage, praise_messages
from .weekday_hour import weekday_hour, weekday_hour_and_weeks, weekday_hour_weeks

__all__ = ["Figure", "merge", "Comment", "comments", "daily", "daily_by_store", "dates", "totals", "Count",
           "followup_counts", "followup_names", "followups_by_hour", "Bucket", "buckets_of", "by_local_hour",
           "hour_buckets", "hour_samples", "local_hours", "until_hour", "until_hour_samples", "weekday_hour", "weekday_hour_weeks", "weekday_hour_and_weeks",
           "PraiseMessage", "praise_messages"]
