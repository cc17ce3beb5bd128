"""One calendar per state change (``shared_calendar``): fewer queries, and edits still seen at once."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongban.core.models import CalendarDay, CalendarYear
from tongban.core.workdays import (
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


def test_outside_a_block_every_call_reads_the_tables():
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
