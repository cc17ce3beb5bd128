"""法定工作日 — the statutory working-day calendar used for every time limit (承诺时限/法定时限).

Rules
-----
* A date is a working day if a :class:`~tongban.core.models.CalendarDay` row says ``workday``
  (调休上班), not one if a row says ``holiday`` (放假), and otherwise if it is Monday to Friday.
* A year is *official* only if it has a :class:`~tongban.core.models.CalendarYear` row (its
  国务院办公厅节假日安排通知 is loaded). Counting through or into a year without one uses the
  weekend rule only, and the result is marked ``provisional``.
* Time limits are counted from the day after receipt (《行政许可法》第四十二条 and the
  provincial rules: 自受理之日起 … 个工作日, 受理当日不计入): ``add_working_days(receipt, n)``
  returns the n-th working day after ``receipt``.

Each process keeps the whole committed calendar (a few hundred special days) in memory, checked
against a generation number in the shared cache at the first use of each :class:`WorkCalendar`
(one cache read instead of two queries per request). Saving or deleting a CalendarDay or
CalendarYear row and :data:`calendar_year_loaded` bump the number, so an edited or newly loaded
year takes effect at once in every process. The copy is only built outside a transaction (it
must hold committed rows only); inside one, with no valid copy, a calendar reads the database
as before: one query for the loaded years, one for the special days in a window that is
widened only when a very long count runs past it — and a transaction that edits the calendar
sees its own edit. Code that computes many deadlines in a loop can build one
:class:`WorkCalendar` and reuse it.

One state change (an acceptance computes the legal deadline, the promised deadline and the
first tasks' due dates) shares one calendar: inside ``with shared_calendar():`` every public
function uses the same :class:`WorkCalendar`, so the block reads the calendar tables once
instead of twice per call. ``SharedCalendarMiddleware`` opens one such block per request.
The block is short (one service call, or one request) and is never kept across requests;
saving or deleting a CalendarDay/CalendarYear row, or :data:`calendar_year_loaded`, empties the
shared calendar of the running block too, so even an edit inside the block is seen by its next
call. See docs/calendar.md.

Recomputing provisional deadlines
---------------------------------
Deadlines are stored, not recomputed on read. A deadline that ran into a year whose schedule
was not yet published is stored with ``provisional=True``. When a year is loaded (by
``manage.py load_holidays``, the admin import page or
:func:`tongban.core.calendar_loader.seed_from_chinesecalendar`), the loader sends
:data:`calendar_year_loaded` with ``sender=CalendarYear`` and ``year=<int>`` (plus
``replaced=<bool>``: the year was loaded before and has been replaced). A later app
connects a receiver and recomputes its provisional deadlines that reach into that year::

    from django.dispatch import receiver
    from tongban.core.models import CalendarYear
    from tongban.core.workdays import calendar_year_loaded

    @receiver(calendar_year_loaded, sender=CalendarYear)
    def recompute_deadlines(sender, year: int, **kwargs):
        for case in Case.objects.filter(deadline_provisional=True, deadline__year__gte=year):
            case.recompute_deadline()   # calls add_working_days(case.received_on, case.limit)

The signal is sent after the loader's own transaction block has finished, so the new rows
are visible to the receiver; if the caller wrapped the load in an outer transaction, the
receiver runs inside it (and should use ``transaction.on_commit`` to enqueue slow work).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from tongban.core.generations import Generation
from tongban.core.models import CalendarDay, CalendarYear

#: Sent with ``sender=CalendarYear, year=<int>, replaced=<bool>`` after a year's official
#: schedule has been loaded (see the module docstring for the recompute pattern).
calendar_year_loaded = Signal()

WORKDAY = CalendarDay.Kind.WORKDAY.value
HOLIDAY = CalendarDay.Kind.HOLIDAY.value


@dataclass(frozen=True)
class WorkdayResult:
    """A computed date; ``provisional`` when a counted day lies in a year without an official schedule."""

    date: date
    provisional: bool


#: Names the committed calendar kept by every process (``_committed_tables``).
GENERATION = Generation("calendar")
_tables: tuple[str, frozenset[int], dict[date, str], list[date]] | None = None


def _committed_tables() -> tuple[frozenset[int], dict[date, str], list[date]] | None:
    """The loaded years and every special day (with their dates sorted), kept in this process
    while the generation number is unchanged; None inside a transaction when the copy must be
    rebuilt (the transaction may hold uncommitted calendar edits)."""
    global _tables
    generation = GENERATION.current()
    if _tables is not None and _tables[0] == generation:
        return _tables[1:]
    if connection.in_atomic_block:
        return None
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    special = dict(CalendarDay.objects.values_list("date", "kind"))
    _tables = (generation, years, special, sorted(special))
    return _tables[1:]


class WorkCalendar:
    """A read-through view of the calendar for one computation (or one batch of them).

    It takes the process's copy of the committed calendar when that is current; otherwise it
    fetches the loaded years once and the special days of a date window on demand, widening
    the window when a count runs past it. Do not keep one across requests: build a new one, so
    an edited calendar is seen at once.
    """

    # Fetch at least this many days around a request, so short counts need one query.
    _MIN_SPAN = 62

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything fetched: the next call reads the tables again."""
        self._official_years: frozenset[int] | None = None
        self._special: dict[date, str] = {}
        self._dates: list[date] = []  # the keys of _special, sorted
        self._lo: date | None = None  # fetched window, inclusive
        self._hi: date | None = None
        self._tried_process_copy = False

    def _take_process_copy(self) -> bool:
        if self._tried_process_copy:
            return False
        self._tried_process_copy = True
        tables = _committed_tables()
        if tables is None:
            return False
        self._official_years, self._special, self._dates = tables
        self._lo, self._hi = date.min, date.max
        return True

    # -- data access -------------------------------------------------------------------------
    @property
    def official_years(self) -> frozenset[int]:
        if self._official_years is None and not self._take_process_copy():
            self._official_years = frozenset(CalendarYear.objects.values_list("year", flat=True))
        return self._official_years

    def _ensure(self, lo: date, hi: date) -> None:
        """Make sure special days in [lo, hi] are in memory, with one query for the missing part."""
        if self._lo is None and self._take_process_copy():
            return
        if self._lo is not None and self._lo <= lo and hi <= self._hi:
            return
        if self._lo is None:
            fetch_lo, fetch_hi = lo, max(hi, lo + timedelta(days=self._MIN_SPAN))
        else:
            # Widen to cover both the old and the new window; refetching the union is simpler
            # than two ranges and happens at most a few times for a very long count.
            fetch_lo, fetch_hi = min(lo, self._lo), max(hi, self._hi)
        rows = CalendarDay.objects.filter(date__gte=fetch_lo, date__lte=fetch_hi).values_list("date", "kind")
        self._special = dict(rows)
        self._dates = sorted(self._special)
        self._lo, self._hi = fetch_lo, fetch_hi

    def _is_working(self, d: date) -> bool:
        kind = self._special.get(d)
        if kind == WORKDAY:
            return True
        if kind == HOLIDAY:
            return False
        return d.weekday() < 5

    def _unofficial_between(self, first: date, last: date) -> bool:
        official = self.official_years
        return any(y not in official for y in range(first.year, last.year + 1))

    # -- public API --------------------------------------------------------------------------
    def is_working_day(self, d: date) -> bool:
        self._ensure(d, d)
        return self._is_working(d)

    def add_working_days(self, receipt: date, n: int) -> WorkdayResult:
        if n < 0:
            raise ValueError("n must be >= 0")
        if n == 0:
            # Nothing is counted, so no calendar day influences the result: never provisional.
            return WorkdayResult(receipt, False)
        # About 250 working days a year: 3/2 calendar days per working day plus a margin
        # covers any real schedule (the longest run of days off is 8-9 days).
        day = receipt
        window_end = receipt + timedelta(days=n * 3 // 2 + 30)
        self._ensure(receipt + timedelta(days=1), window_end)
        remaining = n
        while remaining:
            day += timedelta(days=1)
            if day > self._hi:
                self._ensure(self._lo, day + timedelta(days=remaining * 3 // 2 + 30))
            if self._is_working(day):
                remaining -= 1
        return WorkdayResult(day, self._unofficial_between(receipt + timedelta(days=1), day))

    def next_working_day(self, d: date) -> date:
        return self.add_working_days(d, 1).date

    def working_days_between(self, start: date, end: date) -> int:
        if end == start:
            return 0
        if end < start:
            return -self.working_days_between(end, start)
        first = start + timedelta(days=1)
        self._ensure(first, end)
        # Weekdays by arithmetic, then correct for the few special days in the range.
        total = _weekdays_in(first, end)
        dates = self._dates
        for d in dates[bisect.bisect_left(dates, first) : bisect.bisect_right(dates, end)]:
            kind, weekday = self._special[d], d.weekday() < 5
            if kind == WORKDAY and not weekday:
                total += 1
            elif kind == HOLIDAY and weekday:
                total -= 1
        return total

    def is_provisional(self, start: date, end: date) -> bool:
        """True when a day in (start, end] lies in a year without an official schedule."""
        if end <= start:
            return False
        return self._unofficial_between(start + timedelta(days=1), end)


def _weekdays_in(first: date, last: date) -> int:
    """Number of Monday–Friday dates in [first, last] (first <= last)."""
    days = (last - first).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    start_wd = first.weekday()
    count += sum(1 for i in range(rest) if (start_wd + i) % 7 < 5)
    return count


# ---------------------------------------------------------------- one calendar per state change

_shared: ContextVar[WorkCalendar | None] = ContextVar("tongban_shared_calendar", default=None)


@contextmanager
def shared_calendar() -> Iterator[WorkCalendar]:
    """Within the block every public function of this module uses one :class:`WorkCalendar`.

    Nested blocks reuse the outer calendar. Use it around one state change (one transaction),
    never across requests.
    """
    current = _shared.get()
    if current is not None:
        yield current
        return
    calendar = WorkCalendar()
    token = _shared.set(calendar)
    try:
        yield calendar
    finally:
        _shared.reset(token)


def _calendar() -> WorkCalendar:
    return _shared.get() or WorkCalendar()


@receiver(post_save, sender=CalendarDay, dispatch_uid="workdays-forget-day-saved")
@receiver(post_delete, sender=CalendarDay, dispatch_uid="workdays-forget-day-deleted")
@receiver(post_save, sender=CalendarYear, dispatch_uid="workdays-forget-year-saved")
@receiver(post_delete, sender=CalendarYear, dispatch_uid="workdays-forget-year-deleted")
@receiver(calendar_year_loaded, dispatch_uid="workdays-forget-year-loaded")
def _forget_shared(**kwargs) -> None:
    """Every process drops its copy; an edit inside a ``shared_calendar()`` block is seen by
    the block's next call."""
    GENERATION.bump()
    calendar = _shared.get()
    if calendar is not None:
        calendar.reset()


def is_working_day(d: date) -> bool:
    """工作日 — whether ``d`` is a working day (one query)."""
    shared = _shared.get()
    if shared is not None:
        return shared.is_working_day(d)
    kind = CalendarDay.objects.filter(date=d).values_list("kind", flat=True).first()
    if kind is not None:
        return kind == WORKDAY
    return d.weekday() < 5


def add_working_days(receipt: date, n: int) -> WorkdayResult:
    """The n-th working day after ``receipt`` (受理当日不计入).

    ``n == 0`` returns ``receipt`` itself (即办件: due the same day), never provisional because
    no calendar day is consulted. Negative ``n`` raises ``ValueError``. The result is
    provisional when any counted day, i.e. any day in (receipt, result], lies in a year
    without an official schedule.
    """
    return _calendar().add_working_days(receipt, n)


def next_working_day(d: date) -> date:
    """The first working day strictly after ``d`` (e.g. "handled first the next working day")."""
    return _calendar().next_working_day(d)


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative (minus the working days in (end, start]) if end < start.

    Supervision uses it for "days left" (today → deadline) and "days overdue" (deadline →
    today): ``working_days_between(d, add_working_days(d, n).date) == n``.
    """
    return _calendar().working_days_between(start, end)


def unofficial_years(years: Iterable[int]) -> list[int]:
    """Those of ``years`` without an official schedule loaded."""
    official = _calendar().official_years
    return sorted({y for y in years if y not in official})
