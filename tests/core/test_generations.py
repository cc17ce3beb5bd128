"""Generation numbers: a bump drops one kind of cached entry, ``migrate`` drops them all (a
database created or restored next to a cache that outlived the old one)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management.sql import emit_post_migrate_signal

from tongban.core.generations import Generation, once_per_request

pytestmark = pytest.mark.django_db


def test_a_bump_changes_only_its_own_generation():
    pages, identity = Generation("test-pages"), Generation("test-identity")
    before = pages.current(), identity.current()
    pages.bump()
    assert pages.current() != before[0] and identity.current() == before[1]


def test_migrate_makes_every_generation_new():
    pages, identity = Generation("test-pages"), Generation("test-identity")
    before = pages.current(), identity.current()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")  # what migrate sends last
    assert pages.current() != before[0] and identity.current() != before[1]


def test_an_emptied_cache_never_brings_back_an_old_number():
    pages = Generation("test-pages")
    before = pages.current()
    cache.clear()
    assert pages.current() != before


def test_a_request_reads_every_generation_once_in_one_round_trip():
    pages, identity = Generation("test-pages"), Generation("test-identity")
    with mock.patch.object(cache, "get_many", wraps=cache.get_many) as get_many, once_per_request():
        first = pages.current(), identity.current()
        assert (pages.current(), identity.current()) == first
    assert get_many.call_count == 1


def test_within_a_request_its_own_bump_is_seen_and_others_count_from_the_next_request():
    pages = Generation("test-pages")
    with once_per_request():
        before = pages.current()
        cache.incr(pages.key)  # another process bumps
        assert pages.current() == before
        pages.bump()  # this request bumps
        assert pages.current() != before
        cache.incr(pages.key)  # another process, after this request's bump
        mine = pages.current()
    assert pages.current() != mine


def test_outside_a_request_every_read_asks_the_cache():
    pages = Generation("test-pages")
    before = pages.current()
    cache.incr(pages.key)
    assert pages.current() != before
