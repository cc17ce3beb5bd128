"""Rows that every state change of a case joins and that change rarely — its item, guide version,
department, region and process version — kept in each process.

Reading them with the case (``select_related``) cost each lock of a case about 1 ms of the web
worker's CPU (bench/README.md): five tables' columns compiled, converted and built into objects
on every acceptance, submission, upload, claim and completion. A ``RowCache`` keeps them per
primary key for as long as the generation number their saves bump (``tongban.core.generations``)
is unchanged; the number is read once per request with all the others, so a saved row is read
afresh from the next request on, as the cached guide pages are.

Rows are only kept when they are committed: a transaction that bumped the generation (it saved
a row of that kind) reads from the database and keeps nothing. Every caller gets its own copy of
the row; rows it carries along (an item's basic item) are shared, and nothing changes them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tongban.core.generations import Generation


class RowCache:
    def __init__(self, generation: Generation, load: Callable[[int], Any], *, max_rows: int = 2000) -> None:
        """``load(pk)`` reads one row (with whatever it should carry along); at most ``max_rows``
        are kept (a guide version carries its form, a few kB)."""
        self.generation = generation
        self.load = load
        self.max_rows = max_rows
        self._number: str | None = None
        self._rows: dict[int, Any] = {}

    def get(self, pk: int) -> Any:
        number = self.generation.current()
        if self.generation.changed_in_this_transaction():
            return self.load(pk)
        if number != self._number:
            self._rows, self._number = {}, number
        row = self._rows.get(pk)
        if row is None:
            if len(self._rows) >= self.max_rows:
                self._rows.clear()
            row = self._rows[pk] = self.load(pk)
        return copy.copy(row)


def attach(instance: Any, **caches: RowCache) -> Any:
    """Sets each named foreign key of ``instance`` to its row from the given cache."""
    for field, rows in caches.items():
        pk = getattr(instance, f"{field}_id")
        if pk is not None:
            setattr(instance, field, rows.get(pk))
    return instance
