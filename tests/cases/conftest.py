import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def calendar_2026(db):
    """The official 2026 schedule (国庆/中秋 2026-10-01..07, 10-10 Saturday working)."""
    from tongban.core.calendar_loader import seed_from_chinesecalendar

    seed_from_chinesecalendar()
