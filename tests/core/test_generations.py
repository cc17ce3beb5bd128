"""Generation numbers: a bump drops one kind of cached entry, ``migrate`` drops them all (a
database created or restored next to a cache that outlived the old one)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management.sql import emit_post_migrate_signal

from tongban.core.generations import Generation

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
