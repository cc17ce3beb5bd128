import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_cache():
    """Light counts are cached per scope; never let one test see another's."""
    cache.clear()
    yield
    cache.clear()
