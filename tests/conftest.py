"""Shared fixtures. App-specific factories live in tests/<app>/factories.py."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_cache():
    """Every test starts and ends with an empty cache: light counts, scopes, rate limits and the
    catalogue's synonyms are cached, and no test may see another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def calendar_2026(db):
    """The official working-day schedule through 2026 (中秋 09-25, 国庆 10-01..07; 09-20 and
    10-10 are make-up workdays), as loaded from chinesecalendar."""
    from tongban.core.calendar_loader import seed_from_chinesecalendar

    seed_from_chinesecalendar()
