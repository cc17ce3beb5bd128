"""One calendar per state change (``shared_calendar``) and one committed copy per process:
fewer queries, and edits still seen at once."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tongban.core.models import CalendarDay, CalendarYear
from tongban.core.workdays import (
    WorkdayResult,
    add_working_days,
    calendar_year_loaded,
    is_working_day,
    next_working_day,
    shared_calendar,
    unofficial_years,
    working_days_between,
)

pytestmark = pytest.mark.django_db
D = date


def test_inside_a_transaction_without_a_process_copy_every_call_reads_the_tables():
    with CaptureQueriesContext(connection) as ctx:
        add_working_days(D(2030, 3, 1), 5)
        add_working_days(D(2030, 3, 1), 5)
    assert len(ctx.captured_queries) == 4


def test_inside_a_block_the_calendar_is_read_once():
    with shared_calendar(), CaptureQueriesContext(connection) as ctx:
        first = add_working_days(D(2030, 3, 1), 5)
        assert add_working_days(D(2030, 3, 1), 10).date > first.date
        next_working_day(D(2030, 3, 1))
        working_days_between(D(2030, 3, 1), D(2030, 3, 20))
        is_working_day(D(2030, 3, 4))
        unofficial_years([2030])
    assert len(ctx.captured_queries) == 2


def test_nested_blocks_share_the_outer_calendar():
    with shared_calendar() as outer, shared_calendar() as inner:
        assert inner is outer


def test_the_block_is_a_decorator_and_ends_with_the_call():
    @shared_calendar()
    def twice():
        return add_working_days(D(2030, 3, 1), 5), add_working_days(D(2030, 3, 1), 5)

    with CaptureQueriesContext(connection) as ctx:
        assert len(set(twice())) == 1
    assert len(ctx.captured_queries) == 2
    with CaptureQueriesContext(connection) as ctx:
        add_working_days(D(2030, 3, 1), 5)
    assert len(ctx.captured_queries) == 2  # a fresh read after the block


def test_a_day_edited_inside_the_block_is_seen_by_its_next_call():
    with shared_calendar():
        assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 4)  # Friday -> Monday
        day = CalendarDay.objects.create(date=D(2030, 3, 4), kind=CalendarDay.Kind.HOLIDAY, name="测试")
        assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 5)
        assert not is_working_day(D(2030, 3, 4))
        day.delete()
        assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 4)


def test_a_year_loaded_inside_the_block_is_seen_by_its_next_call():
    with shared_calendar():
        assert add_working_days(D(2030, 3, 1), 1).provisional
        CalendarYear.objects.create(year=2030, source="test")
        assert not add_working_days(D(2030, 3, 1), 1).provisional
        assert unofficial_years([2030]) == []


def test_the_loaded_signal_empties_the_shared_calendar():
    with shared_calendar() as calendar:
        add_working_days(D(2030, 3, 1), 1)
        assert calendar._lo is not None
        calendar_year_loaded.send(sender=CalendarYear, year=2030, replaced=False)
        assert calendar._lo is None and calendar._official_years is None


def test_an_edit_between_blocks_takes_effect_at_once():
    with shared_calendar():
        assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 4)
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=D(2030, 3, 4), kind=CalendarDay.Kind.HOLIDAY, name="测试")]
    )
    with shared_calendar():
        assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 5)


# ---------------------------------------------------------------- the process's committed copy


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_process_copy_answers_without_queries_until_an_edit():
    CalendarYear.objects.create(year=2030)
    CalendarDay.objects.create(date=D(2030, 3, 4), kind=CalendarDay.Kind.HOLIDAY)
    assert add_working_days(D(2030, 3, 1), 1) == WorkdayResult(D(2030, 3, 5), False)  # builds it
    with CaptureQueriesContext(connection) as ctx:
        assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 5)
        assert working_days_between(D(2030, 3, 1), D(2030, 3, 8)) == 4  # 5th–8th
    assert ctx.captured_queries == []

    # An edit committed anywhere bumps the generation: the next call sees it.
    CalendarDay.objects.filter(date=D(2030, 3, 4)).delete()
    assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 4)
    CalendarDay.objects.create(date=D(2030, 3, 2), kind=CalendarDay.Kind.WORKDAY)  # a Saturday
    assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 2)


@pytest.mark.django_db(transaction=True)
def test_an_edit_in_a_transaction_is_seen_inside_it_and_gone_after_its_rollback():
    CalendarYear.objects.create(year=2030)
    assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 4)  # the copy, without the edit

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        CalendarDay.objects.create(date=D(2030, 3, 4), kind=CalendarDay.Kind.HOLIDAY)
        assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 5)  # read, not the copy
        raise Rollback
    # No copy was built from the uncommitted row.
    assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 4)
    assert working_days_between(D(2030, 3, 1), D(2030, 3, 4)) == 1


@pytest.mark.django_db(transaction=True)
def test_an_emptied_cache_does_not_bring_back_an_old_copy():
    CalendarYear.objects.create(year=2030)
    assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 4)
    cache.clear()  # Redis restarted: the generation number is gone
    CalendarDay.objects.bulk_create([CalendarDay(date=D(2030, 3, 4), kind=CalendarDay.Kind.HOLIDAY)])
    assert add_working_days(D(2030, 3, 1), 1).date == D(2030, 3, 5)
