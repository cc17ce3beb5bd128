"""Run functions in threads that start at the same moment (row-lock tests on PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence


def run_together(functions: Sequence[Callable]) -> list:
    """Call every function in its own thread, released together by a barrier.

    Returns each function's result, or the exception it raised, in order. Each thread closes its
    database connections when done."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def worker(i, fn):
        from django.db import connections

        barrier.wait()
        try:
            results[i] = fn()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
