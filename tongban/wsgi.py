"""WSGI entry point (gunicorn imports it in each worker, see deploy/gunicorn.conf.py).

Garbage collection: a worker's start-up heap (jieba's dictionary, URL patterns, API schemas,
compiled templates) lives as long as the worker, yet every full collection walked it again —
250–400 ms inside whichever request triggered it (measured with the benchmarks' probes, see
bench/README.md). The worker loads what it can up front and moves it out of the collector's view
with ``gc.freeze()``, and once more after its first requests, when the lazily built parts
(templates, caches) exist too. Garbage is collected before each freeze, so nothing is kept that
is not in use.
"""

from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings.dev")

#: After this many requests a worker freezes what it has built lazily.
WARM_UP_REQUESTS = 200


def freeze_heap() -> None:
    gc.collect()
    gc.freeze()


class FreezeAfterWarmUp:
    """Passes requests through; freezes the heap once, after ``WARM_UP_REQUESTS`` of them."""

    def __init__(self, app, after: int = WARM_UP_REQUESTS) -> None:
        self.app = app
        self.remaining = after

    def __call__(self, environ, start_response):
        response = self.app(environ, start_response)
        if self.remaining > 0:
            self.remaining -= 1
            if self.remaining == 0:
                freeze_heap()
        return response


def _prepare_worker() -> None:
    from django.urls import get_resolver

    from tongban.catalog.text import warm_up

    get_resolver().url_patterns  # imports every view and API schema  # noqa: B018
    warm_up()
    freeze_heap()


django_application = get_wsgi_application()
_prepare_worker()
application = FreezeAfterWarmUp(django_application)
