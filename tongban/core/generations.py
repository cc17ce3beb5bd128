"""Generation numbers in the shared cache: a cheap way to drop every cached entry of one kind.

Cached entries put ``Generation.current()`` in their keys; a change they depend on calls
``bump()``, at once and again when its transaction commits, so an entry rebuilt from the
database between the change and its commit (still the old data) is dropped as well.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.db import transaction


class Generation:
    def __init__(self, name: str) -> None:
        self.key = f"tongban:generation:{name}"

    def current(self) -> int:
        value = cache.get(self.key)
        if value is None:
            # Never restart at a number used before (an emptied or restarted cache): a copy kept
            # in a process's memory under an old number must not become valid again.
            cache.add(self.key, time.time_ns(), timeout=None)
            value = cache.get(self.key, 0)
        return value

    def _increment(self) -> None:
        try:
            cache.incr(self.key)
        except ValueError:  # the cache was emptied: a number never used before
            cache.set(self.key, time.time_ns(), timeout=None)

    def bump(self, **kwargs: Any) -> None:
        """Every entry keyed with the current number is stale (usable as a signal receiver)."""
        self._increment()
        transaction.on_commit(self._increment)
