"""Statutory working days: real 2025/2026 schedules, provisional years, and properties.

Every expected date below was worked out by hand from the State Council notices
(国办发明电〔2024〕12号 for 2025, the 2026 notice as shipped in chinesecalendar 1.11).
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tongban.core.calendar_loader import seed_from_chinesecalendar
from tongban.core.models import CalendarDay, CalendarYear
from tongban.core.workdays import (
    WorkCalendar,
    WorkdayResult,
    add_working_days,
    is_working_day,
    next_working_day,
    unofficial_years,
    working_days_between,
)

FIRST_YEAR, LAST_YEAR = 2004, 2026  # what chinesecalendar 1.11 covers


@pytest.fixture
def calendar(db):
    years = seed_from_chinesecalendar()
    assert years[0] == FIRST_YEAR and years[-1] >= LAST_YEAR
    return years


D = date


class TestAddWorkingDaysRealSchedules:
    def test_issue_example_make_up_sunday_counts(self, calendar):
        # Fri 9-18 received; Sat 9-19 off; Sun 9-20 make-up workday (1); Mon–Thu 9-21..24 (2..5).
        assert add_working_days(D(2026, 9, 18), 5) == WorkdayResult(D(2026, 9, 24), False)

    @pytest.mark.parametrize(
        ("receipt", "n", "expected"),
        [
            # Spring Festival 2025: off Tue 1-28 .. Tue 2-4; make-up Sun 1-26 and Sat 2-8.
            (D(2025, 1, 24), 1, D(2025, 1, 26)),  # Sat 1-25 off, Sun 1-26 make-up
            (D(2025, 1, 24), 2, D(2025, 1, 27)),
            (D(2025, 1, 24), 3, D(2025, 2, 5)),  # 1-28..2-4 all off
            (D(2025, 1, 24), 6, D(2025, 2, 8)),  # 2-5, 2-6, 2-7 then Sat 2-8 make-up
            (D(2025, 1, 24), 7, D(2025, 2, 10)),  # Sun 2-9 off
            (D(2025, 1, 27), 1, D(2025, 2, 5)),
            # National Day 2025: off Wed 10-1 .. Wed 10-8; make-up Sun 9-28 and Sat 10-11.
            (D(2025, 9, 26), 1, D(2025, 9, 28)),
            (D(2025, 9, 26), 3, D(2025, 9, 30)),
            (D(2025, 9, 26), 4, D(2025, 10, 9)),
            (D(2025, 9, 26), 6, D(2025, 10, 11)),  # Sat 10-11 make-up
            (D(2025, 9, 26), 7, D(2025, 10, 13)),
            # 20 working days from Tue 2025-09-30: 10-9,10,11 (3) + four full weeks (20th is Tue 11-4).
            (D(2025, 9, 30), 20, D(2025, 11, 4)),
            # New Year 2026: off Thu 1-1 .. Sat 1-3; make-up Sun 1-4 (count crosses the year).
            (D(2025, 12, 31), 1, D(2026, 1, 4)),
            # Spring Festival 2026: off Sun 2-15 .. Mon 2-23; make-up Sat 2-14 and Sat 2-28.
            (D(2026, 2, 13), 1, D(2026, 2, 14)),
            (D(2026, 2, 13), 2, D(2026, 2, 24)),
            (D(2026, 2, 13), 5, D(2026, 2, 27)),
            (D(2026, 2, 13), 6, D(2026, 2, 28)),
            # Labour Day 2026: off Fri 5-1 .. Tue 5-5; make-up Sat 5-9.
            (D(2026, 4, 30), 1, D(2026, 5, 6)),
            (D(2026, 4, 30), 4, D(2026, 5, 9)),
            # Mid-autumn Fri 9-25 .. Sun 9-27 and National Day Thu 10-1 .. Wed 10-7 2026; make-up Sat 10-10.
            (D(2026, 9, 23), 1, D(2026, 9, 24)),
            (D(2026, 9, 23), 2, D(2026, 9, 28)),
            (D(2026, 9, 23), 4, D(2026, 9, 30)),
            (D(2026, 9, 23), 5, D(2026, 10, 8)),
            (D(2026, 9, 23), 7, D(2026, 10, 10)),
            (D(2026, 9, 23), 8, D(2026, 10, 12)),
            # Receipt on a holiday or weekend: counting still starts the next day.
            (D(2025, 10, 1), 1, D(2025, 10, 9)),
            (D(2026, 2, 15), 1, D(2026, 2, 24)),
        ],
    )
    def test_official_dates(self, calendar, receipt, n, expected):
        result = add_working_days(receipt, n)
        assert result.date == expected
        assert result.provisional is False

    def test_zero_days_is_the_receipt_day_and_never_provisional(self, calendar):
        assert add_working_days(D(2025, 10, 1), 0) == WorkdayResult(D(2025, 10, 1), False)
        assert add_working_days(D(2031, 3, 1), 0) == WorkdayResult(D(2031, 3, 1), False)

    def test_negative_days_rejected(self, calendar):
        with pytest.raises(ValueError):
            add_working_days(D(2025, 1, 1), -1)


class TestOtherFunctions:
    def test_is_working_day(self, calendar):
        assert is_working_day(D(2026, 9, 20)) is True  # Sunday make-up
        assert is_working_day(D(2026, 9, 19)) is False  # Saturday
        assert is_working_day(D(2025, 10, 6)) is False  # Monday inside National Day
        assert is_working_day(D(2025, 10, 9)) is True  # Thursday
        assert is_working_day(D(2025, 2, 8)) is True  # Saturday make-up

    def test_next_working_day(self, calendar):
        assert next_working_day(D(2025, 1, 27)) == D(2025, 2, 5)
        assert next_working_day(D(2026, 9, 18)) == D(2026, 9, 20)
        assert next_working_day(D(2026, 9, 21)) == D(2026, 9, 22)

    def test_working_days_between_for_days_left_and_overdue(self, calendar):
        assert working_days_between(D(2026, 9, 18), D(2026, 9, 24)) == 5  # days left
        assert working_days_between(D(2026, 9, 24), D(2026, 9, 18)) == -5  # overdue
        assert working_days_between(D(2025, 9, 30), D(2025, 10, 8)) == 0  # all holiday
        assert working_days_between(D(2025, 9, 30), D(2025, 10, 11)) == 3
        assert working_days_between(D(2025, 9, 30), D(2025, 9, 30)) == 0
        assert working_days_between(D(2024, 12, 31), D(2025, 12, 31)) == 248  # 261 weekdays - 18 + 5

    def test_few_queries_per_call(self, calendar, django_assert_max_num_queries):
        with django_assert_max_num_queries(2):
            add_working_days(D(2025, 9, 26), 20)
        with django_assert_max_num_queries(3):
            assert add_working_days(D(2010, 1, 4), 2000).provisional is False
        with django_assert_max_num_queries(2):
            working_days_between(D(2010, 1, 1), D(2026, 12, 31))
        with django_assert_max_num_queries(1):
            is_working_day(D(2026, 9, 20))

    def test_batch_calendar_reuses_its_window(self, calendar, django_assert_max_num_queries):
        cal = WorkCalendar()
        cal.add_working_days(D(2026, 9, 18), 5)
        with django_assert_max_num_queries(0):
            assert cal.add_working_days(D(2026, 9, 18), 6).date == D(2026, 9, 28)

    def test_changes_to_the_table_are_seen_at_once(self, calendar):
        assert is_working_day(D(2026, 11, 11)) is True
        assert add_working_days(D(2026, 11, 10), 1).date == D(2026, 11, 11)
        CalendarDay.objects.create(date=D(2026, 11, 11), kind=CalendarDay.Kind.HOLIDAY, name="测试")
        assert is_working_day(D(2026, 11, 11)) is False
        assert add_working_days(D(2026, 11, 10), 1).date == D(2026, 11, 12)


class TestProvisional:
    def test_count_into_an_unloaded_year_is_provisional(self, calendar):
        assert not CalendarYear.objects.filter(year=2027).exists()
        assert add_working_days(D(2026, 12, 30), 1) == WorkdayResult(D(2026, 12, 31), False)
        # Fri 2027-01-01 counts as a working day by the weekend rule alone: provisional.
        assert add_working_days(D(2026, 12, 30), 2) == WorkdayResult(D(2027, 1, 1), True)
        assert add_working_days(D(2030, 5, 1), 1) == WorkdayResult(D(2030, 5, 2), True)
        assert unofficial_years([2025, 2027, 2030]) == [2027, 2030]

    def test_years_before_the_package_are_provisional(self, calendar):
        assert add_working_days(D(2003, 12, 30), 1) == WorkdayResult(D(2003, 12, 31), True)
        # Counting from the last day of 2003 only touches 2004: official.
        assert add_working_days(D(2003, 12, 31), 1) == WorkdayResult(D(2004, 1, 2), False)

    def test_deleting_a_year_makes_it_provisional(self, calendar):
        CalendarYear.objects.filter(year=2026).delete()
        result = add_working_days(D(2026, 9, 18), 5)
        # Its days are still in the table (they are still the best knowledge), but unofficial.
        assert result == WorkdayResult(D(2026, 9, 24), True)

    def test_loading_the_year_fixes_the_result(self, calendar):
        from tongban.core.calendar_loader import load_year_schedule

        before = add_working_days(D(2026, 12, 30), 2)
        load_year_schedule(
            2027,
            [{"date": "2027-01-01", "kind": "放假", "name": "元旦"}, {"date": "2027-01-02", "kind": "放假"}],
            "测试",
        )
        after = add_working_days(D(2026, 12, 30), 2)
        assert before == WorkdayResult(D(2027, 1, 1), True)
        assert after == WorkdayResult(D(2027, 1, 4), False)  # Fri holiday, weekend, Mon


# -- properties ---------------------------------------------------------------------------------
dates = st.dates(min_value=D(2002, 1, 1), max_value=D(2029, 12, 31))
official_dates = st.dates(min_value=D(FIRST_YEAR, 1, 1), max_value=D(LAST_YEAR - 2, 12, 31))
counts = st.integers(min_value=0, max_value=300)
prop = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@prop
@given(d=official_dates)
def test_agrees_with_chinesecalendar_day_by_day(calendar, d):
    # An independent implementation of the same official data.
    assert is_working_day(d) == chinese_calendar.is_workday(d)


@prop
@given(receipt=official_dates, n=st.integers(min_value=1, max_value=120))
def test_agrees_with_counting_by_chinesecalendar(calendar, receipt, n):
    day, left = receipt, n
    while left:
        day += timedelta(days=1)
        left -= chinese_calendar.is_workday(day)
    assert add_working_days(receipt, n) == WorkdayResult(day, False)


@prop
@given(receipt=dates, n=counts)
def test_result_is_a_working_day_strictly_after_receipt(calendar, receipt, n):
    result = add_working_days(receipt, n + 1)
    assert result.date > receipt
    assert is_working_day(result.date)


@prop
@given(receipt=dates, n=counts)
def test_monotone_in_n(calendar, receipt, n):
    assert add_working_days(receipt, n + 1).date > add_working_days(receipt, n).date


@prop
@given(receipt=dates, n=counts)
def test_between_inverts_add(calendar, receipt, n):
    result = add_working_days(receipt, n)
    assert working_days_between(receipt, result.date) == n
    assert working_days_between(result.date, receipt) == -n


@prop
@given(receipt=dates, n=counts)
def test_provisional_exactly_when_a_counted_year_is_unloaded(calendar, receipt, n):
    result = add_working_days(receipt, n)
    counted_years = set(range((receipt + timedelta(days=1)).year, result.date.year + 1)) if n else set()
    assert result.provisional == any(y < FIRST_YEAR or y > LAST_YEAR for y in counted_years)


@prop
@given(a=dates, b=dates, c=dates)
def test_between_is_additive(calendar, a, b, c):
    assert working_days_between(a, b) + working_days_between(b, c) == working_days_between(a, c)


@prop
@given(d=dates)
def test_next_working_day_is_add_one(calendar, d):
    assert next_working_day(d) == add_working_days(d, 1).date
