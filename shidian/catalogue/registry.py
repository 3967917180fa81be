"""Counts of a registry's cases per division for a feed (``count: cases`` / ``sum: field``).

The cases of one case programme created before the end of ``as_of`` (merged duplicates left
out), optionally only those that had entered ``stage`` by then (read from the timeline, so a
month's figure stays the same when pulled again later), optionally only those whose values
match ``where`` (an expression of the case engine), grouped by the code prefix of the level.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from shidian.cases import expressions
from shidian.cases.definitions import case_type_get
from shidian.cases.models import Case, CaseEvent, EventKind, Outcome

from .packs import FeedSpec

WIDTH = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}


def case_counts(*, programme: object, feed: FeedSpec, level: int,
                as_of: dt.date) -> dict[str, float]:
    definition = case_type_get(feed.case_type)
    end = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()))
    cases = (Case.objects.filter(programme=programme, created_at__lt=end)
             .exclude(outcome=Outcome.MERGED))
    if feed.stage:
        reached = CaseEvent.objects.filter(kind=EventKind.TRANSITION, to_stage=feed.stage,
                                           at__lt=end).values("case_id")
        first = definition.initial_stage.key == feed.stage
        cases = cases.filter(pk__in=reached) if not first else cases
    width = WIDTH[level]
    totals: dict[str, float] = defaultdict(float)
    for division, data in cases.values_list("division_id", "data").iterator():
        values = {f.key: expressions.to_value((data or {}).get(f.key))
                  for f in definition.fields}
        if feed.where:
            try:
                if not expressions.evaluate(feed.where, values):
                    continue
            except expressions.EvaluationError:
                continue  # a case missing a value the condition reads is not counted
        if feed.sum:
            amount = values.get(feed.sum)
            totals[division[:width]] += float(amount) if isinstance(amount, int | float |
                                                                     Decimal) else 0.0
        else:
            totals[division[:width]] += 1
    return dict(totals)
