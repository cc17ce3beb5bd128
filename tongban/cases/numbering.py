"""办件编号 — implementation code + YYYYMMDD + 6-digit daily sequence.

One statement creates the counter row per (item, day) or increments it (``INSERT … ON CONFLICT
DO UPDATE … RETURNING``, PostgreSQL and SQLite ≥ 3.35) inside the caller's transaction, which
keeps the row locked: two clerks accepting at once queue on that row, each gets the next
number, and a rolled-back acceptance rolls back its increment too (no gaps). It replaced
get_or_create in a savepoint, SELECT … FOR UPDATE and UPDATE: five statements per acceptance.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from tongban.cases.models import CaseNumberCounter

SEQUENCE_DIGITS = 6


def next_case_number(implementation, day: dt.date) -> str:
    """Call inside transaction.atomic()."""
    table = connection.ops.quote_name(CaseNumberCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (implementation_id, date, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (implementation_id, date) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [implementation.pk, connection.ops.adapt_datefield_value(day)],
        )
        (last,) = cursor.fetchone()
    return f"{implementation.code}{day:%Y%m%d}{last:0{SEQUENCE_DIGITS}d}"
