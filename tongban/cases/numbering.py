"""办件编号 — implementation code + YYYYMMDD + 6-digit daily sequence.

The counter row per (item, day) is created if missing and then locked with SELECT … FOR UPDATE
inside the caller's transaction: two clerks accepting at once queue on that row, each gets the
next number, and a rolled-back acceptance rolls back its increment too (no gaps).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from tongban.cases.models import CaseNumberCounter

SEQUENCE_DIGITS = 6


def next_case_number(implementation, day: dt.date) -> str:
    """Call inside transaction.atomic()."""
    try:
        with transaction.atomic():
            CaseNumberCounter.objects.get_or_create(implementation=implementation, date=day)
    except IntegrityError:  # another transaction created it first: fine, lock it below
        pass
    counter = CaseNumberCounter.objects.select_for_update().get(implementation=implementation, date=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{implementation.code}{day:%Y%m%d}{counter.last:0{SEQUENCE_DIGITS}d}"
