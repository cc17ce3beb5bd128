"""Generation numbers in the shared cache: a cheap way to drop every cached entry of one kind.

Cached entries put ``Generation.current()`` in their keys; a change they depend on calls
``bump()``, at once and again when its transaction commits, so an entry rebuilt from the
database between the change and its commit (still the old data) is dropped as well.

Every generation also carries one shared epoch, which ``bump_all`` moves after ``migrate``
(post_migrate): a database created or restored next to a cache that outlived the old one must
not be answered from it (a cached process version of the old database would be pinned by the
next acceptance and fail its foreign key).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.db import transaction

EPOCH_KEY = "tongban:generation:epoch"


def _never_used() -> int:
    """A starting number no earlier run used (an emptied or restarted cache): a copy kept in a
    process's memory under an old number must not become valid again."""
    return time.time_ns()


def _increment(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # the cache was emptied
        cache.set(key, _never_used(), timeout=None)


class Generation:
    def __init__(self, name: str) -> None:
        self.key = f"tongban:generation:{name}"

    def current(self) -> str:
        """``"<epoch>.<number>"`` (one cache round trip)."""
        found = cache.get_many([EPOCH_KEY, self.key])
        for key in (EPOCH_KEY, self.key):
            if key not in found:
                cache.add(key, _never_used(), timeout=None)
                found[key] = cache.get(key, 0)
        return f"{found[EPOCH_KEY]}.{found[self.key]}"

    def bump(self, **kwargs: Any) -> None:
        """Every entry keyed with the current number is stale (usable as a signal receiver)."""
        _increment(self.key)
        transaction.on_commit(lambda: _increment(self.key))


def bump_all(**kwargs: Any) -> None:
    """Every cached entry of every kind is stale (connected to post_migrate)."""
    _increment(EPOCH_KEY)
    transaction.on_commit(lambda: _increment(EPOCH_KEY))
