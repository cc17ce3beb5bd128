"""Generation numbers in the shared cache: a cheap way to drop every cached entry of one kind.

Cached entries put ``Generation.current()`` in their keys; a change they depend on calls
``bump()``, at once and again when its transaction commits, so an entry rebuilt from the
database between the change and its commit (still the old data) is dropped as well.

Every generation also carries one shared epoch, which ``bump_all`` moves after ``migrate``
(post_migrate): a database created or restored next to a cache that outlived the old one must
not be answered from it (a cached process version of the old database would be pinned by the
next acceptance and fail its foreign key).

Within a request (``once_per_request``, opened by a middleware) every number is read at most
once, all of them in the first round trip: a clerk's acceptance asked Redis four times (identity,
calendar, process versions, catalogue). A bump in the request drops its number from the
request's copy, so the request sees its own changes; other processes' bumps count from the next
request, as an entry read a moment earlier would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache
from django.db import transaction

EPOCH_KEY = "tongban:generation:epoch"
#: Every generation's key: a request reads them all in its first round trip.
_KEYS: set[str] = set()
#: The numbers read in the current request (``once_per_request``); None outside one.
_request_numbers: ContextVar[dict[str, Any] | None] = ContextVar("tongban_generations", default=None)


def _never_used() -> int:
    """A starting number no earlier run used (an emptied or restarted cache): a copy kept in a
    process's memory under an old number must not become valid again."""
    return time.time_ns()


def _increment(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # the cache was emptied
        cache.set(key, _never_used(), timeout=None)
    numbers = _request_numbers.get()
    if numbers is not None:
        numbers.pop(key, None)  # this request reads its own bump


def _read(keys: list[str]) -> dict[str, Any]:
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, _never_used(), timeout=None)
            found[key] = cache.get(key, 0)
    return found


def _uncommitted_bumps() -> set[str]:
    """Generations bumped by the open transaction of the default connection (empty outside one).

    Kept on the connection, emptied at its commit and whenever it is seen outside a transaction
    (after a rollback, at the next request or the next read in autocommit).
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        connection.__dict__.pop("_tongban_uncommitted_bumps", None)
        return set()
    return connection.__dict__.setdefault("_tongban_uncommitted_bumps", set())


@contextmanager
def once_per_request() -> Iterator[None]:
    """Inside, each generation number is read at most once (see the module's docstring)."""
    token = _request_numbers.set({})
    _uncommitted_bumps()  # a request starts outside any transaction: forget a rolled-back one's
    try:
        yield
    finally:
        _request_numbers.reset(token)


class Generation:
    def __init__(self, name: str) -> None:
        self.key = f"tongban:generation:{name}"
        _KEYS.add(self.key)

    def current(self) -> str:
        """``"<epoch>.<number>"`` (one cache round trip, none when this request has read it)."""
        numbers = _request_numbers.get()
        if numbers is None:
            numbers = _read([EPOCH_KEY, self.key])
        elif EPOCH_KEY not in numbers or self.key not in numbers:
            numbers.update(_read([EPOCH_KEY, self.key, *(_KEYS - numbers.keys() - {self.key})]))
        return f"{numbers[EPOCH_KEY]}.{numbers[self.key]}"

    def bump(self, **kwargs: Any) -> None:
        """Every entry keyed with the current number is stale (usable as a signal receiver)."""
        _increment(self.key)
        pending = _uncommitted_bumps()
        pending.add(self.key)

        def committed() -> None:
            pending.discard(self.key)
            _increment(self.key)

        transaction.on_commit(committed)

    def changed_in_this_transaction(self) -> bool:
        """This transaction changed what the generation names: what it reads of that kind is
        not yet committed, and must not be kept where other transactions would find it."""
        return self.key in _uncommitted_bumps()


def bump_all(**kwargs: Any) -> None:
    """Every cached entry of every kind is stale (connected to post_migrate)."""
    _increment(EPOCH_KEY)
    transaction.on_commit(lambda: _increment(EPOCH_KEY))
