import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_cache():
    """The public lookup is rate limited per address through the cache."""
    cache.clear()
    yield
    cache.clear()
