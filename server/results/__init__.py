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
``weekday_hour``          per (weekday, local hour) over a period, summed in the database
``followup_counts``       reason and praise choices, most frequent first
``followup_names``        reason and praise ids -> their text in a language
``comments``              free comments, newest first (optionally only after a counted positive face)
``praise_messages``       praise options and comments per counted positive press, newest first
========================  ==================================================================
"""

from __future__ import annotations

from hymy.figures import Figure, merge

from .comments import Comment, comments
from .daily import daily, daily_by_store, dates, totals
from .followups import Count, followup_counts, followup_names
from .hourly import Bucket, by_local_hour, hour_buckets
from .praise import PraiseMessage, praise_messages
from .weekday_hour import weekday_hour

__all__ = ["Figure", "merge", "Comment", "comments", "daily", "daily_by_store", "dates", "totals", "Count",
           "followup_counts", "followup_names", "Bucket", "by_local_hour", "hour_buckets", "weekday_hour", "PraiseMessage",
           "praise_messages"]
