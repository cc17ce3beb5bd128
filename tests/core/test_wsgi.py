"""The WSGI module prepares a worker: URL patterns and jieba loaded, heap frozen, frozen again
after the warm-up requests (tongban/wsgi.py)."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture
def wsgi():
    from tongban import wsgi

    yield wsgi
    gc.unfreeze()  # the test process is not a worker: give its objects back to the collector


def test_importing_the_module_freezes_the_start_up_heap(wsgi):
    import jieba

    assert jieba.dt.initialized  # the dictionary is loaded before the first search
    gc.unfreeze()
    wsgi._prepare_worker()
    assert gc.get_freeze_count() > 0


def test_worker_freezes_once_more_after_its_warm_up_requests(wsgi, monkeypatch):
    frozen = []
    monkeypatch.setattr(wsgi, "freeze_heap", lambda: frozen.append(True))
    app = wsgi.FreezeAfterWarmUp(lambda environ, start_response: [b"ok"], after=3)
    answers = [app({}, None) for _ in range(6)]
    assert answers == [[b"ok"]] * 6
    assert frozen == [True]  # after the third request, and only then
