"""Rows kept in each process (tongban.core.rowcache): read once per generation, a copy for every
caller, and nothing uncommitted kept. Outside a test transaction, as on a server."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.catalog.factories import liuan
from tongban.catalog.queries import PAGES
from tongban.core.models import Region
from tongban.core.rowcache import RowCache

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def regions():
    return RowCache(PAGES, lambda pk: Region.objects.get(pk=pk))


def _statements(fn):
    with CaptureQueriesContext(connection) as ctx:
        value = fn()
    return value, len(ctx.captured_queries)


def test_a_row_is_read_once_until_a_row_of_its_kind_is_saved(regions):
    city = liuan()["city"]
    assert _statements(lambda: regions.get(city.pk).name) == ("六安市", 1)
    assert _statements(lambda: regions.get(city.pk).name) == ("六安市", 0)
    Region.objects.filter(pk=city.pk).update(name="皋城市")  # no signal: the cache cannot know
    assert regions.get(city.pk).name == "六安市"
    city.name = "皋城市"
    city.save()  # bumps PAGES
    assert _statements(lambda: regions.get(city.pk).name) == ("皋城市", 1)


def test_every_caller_gets_its_own_copy(regions):
    city = liuan()["city"]
    first = regions.get(city.pk)
    first.name = "改了"
    assert regions.get(city.pk).name == "六安市" and regions.get(city.pk) is not first


def test_a_transaction_that_changed_rows_of_its_kind_keeps_nothing(regions):
    city = liuan()["city"]
    assert regions.get(city.pk).name == "六安市"
    with pytest.raises(RuntimeError), transaction.atomic():
        city.name = "未提交的名称"
        city.save()
        assert PAGES.changed_in_this_transaction()
        assert regions.get(city.pk).name == "未提交的名称"  # its own change, read from the database
        raise RuntimeError("rolled back")
    assert not PAGES.changed_in_this_transaction()
    assert regions.get(city.pk).name == "六安市"


def test_a_committed_change_is_no_longer_this_transactions(regions):
    city = liuan()["city"]
    with transaction.atomic():
        city.name = "皋城市"
        city.save()
    with transaction.atomic():
        assert not PAGES.changed_in_this_transaction()
        assert _statements(lambda: regions.get(city.pk).name) == ("皋城市", 1)
        assert _statements(lambda: regions.get(city.pk).name) == ("皋城市", 0)  # kept
