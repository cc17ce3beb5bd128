"""统计分析 — per department, item, region, channel and period, from the summary tables.

Definitions (each counter counts the *events* of the period, 流量统计):

=====================  ====================================================================
received  收件          applications (not drafts) whose current 收件日期 is in the period
accepted  受理          accepted (incl. 容缺受理, 视为受理, 即办) on a day in the period
refused   不予受理      refused at acceptance on a day in the period
corrected 补正          of those accepted/refused: decided after at least one correction (round > 1)
completed 办结          completed (准予 or 不予许可) on a day in the period
on_time / late         of those completed: ``on_time`` true / false (stored at 办结)
online_full 全程网办    of those completed: online or mobile channel and no visit to a hall
one_visit 最多跑一次    of those completed: at most one visit
handling days          of those completed: ``handling_working_days`` (stored at 办结); average
                       and 90th percentile (linear interpolation, PostgreSQL percentile_cont)
=====================  ====================================================================

Rates: on-time = on_time / completed; online share = online_full / completed; 最多跑一次 share =
one_visit / completed; correction rate = corrected / (accepted + refused); refusal rate =
refused / (accepted + refused).

Speed: days are summarised into ``DailyStat`` — the counters and a histogram of handling days
(one column per working day up to 60, then one overflow column) — one row per day × region ×
department × item × channel, and each month's daily rows are rolled up into ``MonthlyStat``
in the same transaction. A period reads the monthly rows of the months it covers whole (a month
"up to today" counts as whole: nothing is recorded in the future) and the daily rows of the days
at its edges; each is one SUM grouped by the wanted dimension. Today is re-summarised every 5
minutes (pages say when). Days never summarised (a fresh database, a gap) are computed from the
applications with the same queries the summariser uses, so figures are exact either way.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from tongban.cases.models import Application, Channel, Status
from tongban.supervision.models import HISTOGRAM_FIELDS, HISTOGRAM_MAX, DailyStat, MonthlyStat, StatDay

COUNTERS = (
    "received",
    "accepted",
    "refused",
    "corrected",
    "completed",
    "on_time",
    "late",
    "online_full",
    "one_visit",
)
DIMENSIONS = ("region", "department", "implementation", "channel")
GROUPS = {
    "department": "部门",
    "implementation": "事项",
    "region": "区划",
    "channel": "渠道",
    "day": "日",
    "month": "月",
}
#: Other spellings accepted in URLs and the API.
ALIASES = {"item": "implementation"}
ONLINE_CHANNELS = (Channel.ONLINE, Channel.MOBILE)
#: Histogram key of the "more than HISTOGRAM_MAX working days" bucket.
OVERFLOW = HISTOGRAM_MAX + 1
#: The columns of a summary row that add up across rows.
SUMMED = (*COUNTERS, "handled", "handling_sum", *HISTOGRAM_FIELDS)


@dataclass
class Figures:
    """The counters and the handling-days histogram of one group, and what follows from them."""

    key: object = None
    label: str = "合计"
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    #: {working days: completions}; OVERFLOW stands for "more than HISTOGRAM_MAX".
    histogram: dict[int, int] = field(default_factory=dict)
    handled: int = 0
    handling_sum: int = 0

    def add(self, other: Figures) -> None:
        for name in COUNTERS:
            self.counts[name] += other.counts[name]
        for days, n in other.histogram.items():
            self.histogram[days] = self.histogram.get(days, 0) + n
        self.handled += other.handled
        self.handling_sum += other.handling_sum

    def add_days(self, days: int, n: int) -> None:
        """``n`` completions that took ``days`` working days."""
        bucket = min(days, OVERFLOW)
        self.histogram[bucket] = self.histogram.get(bucket, 0) + n
        self.handled += n
        self.handling_sum += days * n

    def __getattr__(self, name):
        counts = self.__dict__.get("counts")
        if counts is not None and name in counts:
            return counts[name]
        raise AttributeError(name)

    @property
    def decided(self) -> int:
        return self.counts["accepted"] + self.counts["refused"]

    @property
    def average_days(self) -> float | None:
        return self.handling_sum / self.handled if self.handled else None

    @property
    def p90_days(self) -> float | None:
        """Exact up to HISTOGRAM_MAX working days; a value above it reads "more than 60"."""
        return percentile(self.histogram, 0.9)

    def rate(self, part: str, whole: str) -> float | None:
        denominator = self.decided if whole == "decided" else self.counts[whole]
        return self.counts[part] / denominator if denominator else None

    @property
    def rates(self) -> dict[str, float | None]:
        return {
            "on_time_rate": self.rate("on_time", "completed"),
            "online_share": self.rate("online_full", "completed"),
            "one_visit_share": self.rate("one_visit", "completed"),
            "correction_rate": self.rate("corrected", "decided"),
            "refusal_rate": self.rate("refused", "decided"),
        }

    def as_dict(self) -> dict:
        return {
            "key": None if self.key is None else str(self.key),
            "label": self.label,
            **self.counts,
            "average_days": _round(self.average_days),
            "p90_days": _round(self.p90_days),
            **{k: _round(v, 4) for k, v in self.rates.items()},
        }


def _round(value, digits=2):
    return None if value is None else round(value, digits)


def percentile(histogram: dict[int, int], q: float) -> float | None:
    """percentile_cont(q) of the values a histogram {value: count} describes."""
    n = sum(histogram.values())
    if not n:
        return None
    position = q * (n - 1)
    lo, hi = math.floor(position), math.ceil(position)

    def value_at(index: int) -> int:
        seen = 0
        for value in sorted(histogram):
            seen += histogram[value]
            if index < seen:
                return value
        raise IndexError(index)  # pragma: no cover

    low = value_at(lo)
    return float(low) if hi == lo else low + (value_at(hi) - low) * (position - lo)


# --------------------------------------------------------------------------- the raw queries


def _day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    lo = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    hi = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz)
    return lo, hi


def _ranges(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive runs of ``days`` as (first, last)."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + dt.timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _in_days(field_name: str, runs, *, is_date: bool) -> Q:
    q = Q(pk__in=[])
    for first, last in runs:
        if is_date:
            q |= Q(**{f"{field_name}__gte": first, f"{field_name}__lte": last})
        else:
            lo, hi = _day_bounds(first, last)
            q |= Q(**{f"{field_name}__gte": lo, f"{field_name}__lt": hi})
    return q


def _event_queries(apps: QuerySet, runs) -> list[tuple[str, QuerySet, dict]]:
    """(date expression, filtered queryset, aggregates) per event kind; aggregate names are the
    counters with an ``n_`` prefix (``on_time`` is also a field of Application)."""
    tz = timezone.get_current_timezone()
    decided_round = Count("pk", filter=Q(round__gt=1))
    return [
        (
            F("received_date"),
            apps.exclude(status=Status.DRAFT).filter(_in_days("received_date", runs, is_date=True)),
            {"n_received": Count("pk")},
        ),
        (
            TruncDate("accepted_at", tzinfo=tz),
            apps.filter(_in_days("accepted_at", runs, is_date=False)),
            {"n_accepted": Count("pk"), "n_corrected": decided_round},
        ),
        (
            TruncDate("decided_at", tzinfo=tz),
            apps.filter(status=Status.REFUSED).filter(_in_days("decided_at", runs, is_date=False)),
            {"n_refused": Count("pk"), "n_corrected": decided_round},
        ),
        (
            TruncDate("completed_at", tzinfo=tz),
            apps.filter(_in_days("completed_at", runs, is_date=False)),
            {
                "n_completed": Count("pk"),
                "n_on_time": Count("pk", filter=Q(on_time=True)),
                "n_late": Count("pk", filter=Q(on_time=False)),
                "n_online_full": Count("pk", filter=Q(channel__in=ONLINE_CHANNELS, visits=0)),
                "n_one_visit": Count("pk", filter=Q(visits__lte=1)),
            },
        ),
    ]


def _handling_query(apps: QuerySet, runs):
    tz = timezone.get_current_timezone()
    return TruncDate("completed_at", tzinfo=tz), apps.filter(
        _in_days("completed_at", runs, is_date=False), handling_working_days__isnull=False
    )


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


# --------------------------------------------------------------------------- summarising


def refresh_days(start: dt.date, end: dt.date) -> int:
    """Rebuild the summary rows of the days in [start, end] (up to today). Returns the number of
    DailyStat rows written. Today's rows are rebuilt every few minutes by the periodic job."""
    end = min(end, timezone.localdate())
    if end < start:
        return 0
    runs = [(start, end)]
    apps = Application.objects.all()
    keys = ("stat_day", "region_id", "department_id", "implementation_id", "channel")
    rows: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SUMMED, 0))

    def key_of(row) -> tuple:
        return (_as_date(row["stat_day"]), *(row[k] for k in keys[1:]))

    for day_expr, qs, aggregates in _event_queries(apps, runs):
        for row in qs.annotate(stat_day=day_expr).values(*keys).annotate(**aggregates):
            for name in aggregates:
                rows[key_of(row)][name[2:]] += row[name]
    day_expr, qs = _handling_query(apps, runs)
    for row in qs.annotate(stat_day=day_expr).values(*keys, "handling_working_days").annotate(n=Count("pk")):
        target, days = rows[key_of(row)], row["handling_working_days"]
        target[HISTOGRAM_FIELDS[min(days, OVERFLOW)]] += row["n"]
        target["handled"] += row["n"]
        target["handling_sum"] += days * row["n"]
    now = timezone.now()
    with transaction.atomic():
        _serialise_refreshes()
        DailyStat.objects.filter(day__gte=start, day__lte=end).delete()
        _insert_rows(DailyStat, [(*k, *(v[name] for name in SUMMED)) for k, v in rows.items()])
        StatDay.objects.filter(day__gte=start, day__lte=end).delete()
        StatDay.objects.bulk_create(
            [
                StatDay(day=start + dt.timedelta(days=i), refreshed_at=now)
                for i in range((end - start).days + 1)
            ]
        )
        roll_up_months(_month_starts(start, end))
    return len(rows)


def _month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _month_end(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


#: Columns of a summary row in the order ``_insert_rows`` and ``roll_up_months`` write them.
ROW_COLUMNS = ("day", "region_id", "department_id", "implementation_id", "channel", *SUMMED)


def _insert_rows(model, rows: list[tuple]) -> None:
    """Write summary rows; on PostgreSQL by COPY. (A month of history at 100k cases, 5 000 rows
    of 78 integers, took 2.7 s through bulk_create or parameterised INSERTs, 0.1 s by COPY.)"""
    if not rows:
        return
    quote = connection.ops.quote_name
    table, columns = quote(model._meta.db_table), ", ".join(quote(c) for c in ROW_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(ROW_COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def roll_up_months(months: Iterable[dt.date]) -> int:
    """Rebuild the ``MonthlyStat`` rows of ``months`` (first days) from their daily rows, in the
    database (one INSERT … SELECT … GROUP BY per month)."""
    months = sorted(set(months))
    quote = connection.ops.quote_name
    keys = ", ".join(quote(c) for c in ROW_COLUMNS[1:5])
    sums = ", ".join(f"SUM({quote(c)})" for c in SUMMED)
    sql = (
        f"INSERT INTO {quote(MonthlyStat._meta.db_table)} ({', '.join(quote(c) for c in ROW_COLUMNS)}) "
        f"SELECT %s, {keys}, {sums} FROM {quote(DailyStat._meta.db_table)} "
        f"WHERE {quote('day')} >= %s AND {quote('day')} <= %s GROUP BY {keys}"
    )
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        MonthlyStat.objects.filter(day__in=months).delete()
        for month in months:
            cursor.execute(sql, [month, month, _month_end(month)])
            written += max(cursor.rowcount, 0)
    return written


def _serialise_refreshes() -> None:
    """The 5-minute and the hourly job may rebuild the same days at once: one at a time, or both
    would delete the old rows and insert new ones side by side (PostgreSQL; SQLite writes are
    serialised anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x7473_7461_7473])  # "tstats"


def refresh_recent(days: int | None = None) -> int:
    """Periodic job body: re-summarise today and the last ``days`` days."""
    from tongban.supervision.conf import stats_live_days

    today = timezone.localdate()
    n = stats_live_days() if days is None else days
    return refresh_days(today - dt.timedelta(days=n), today)


def last_refreshed() -> dt.datetime | None:
    row = StatDay.objects.order_by("-refreshed_at").values_list("refreshed_at", flat=True).first()
    return row


# --------------------------------------------------------------------------- reading


@dataclass
class Filters:
    region_id: int | None = None
    department_id: int | None = None
    implementation_id: int | None = None
    channel: str | None = None

    def q(self) -> Q:
        q = Q()
        if self.region_id:
            from tongban.core.models import Region

            path = Region.objects.filter(pk=self.region_id).values_list("path", flat=True).first() or "-"
            q &= Q(region__path__startswith=path)
        if self.department_id:
            q &= Q(department_id=self.department_id)
        if self.implementation_id:
            q &= Q(implementation_id=self.implementation_id)
        if self.channel:
            q &= Q(channel=self.channel)
        return q


def _group_field(group_by: str | None) -> str | None:
    if group_by in (None, "", "total"):
        return None
    if group_by in ("day", "month"):
        return "day"
    if group_by in DIMENSIONS:
        return "channel" if group_by == "channel" else f"{group_by}_id"
    raise ValueError(group_by)


def _fold_key(group_by: str | None, value):
    if group_by in ("day", "month"):
        day = _as_date(value)
        return day.replace(day=1) if group_by == "month" else day
    return value


def compute(
    scope,
    start: dt.date,
    end: dt.date,
    *,
    group_by: str | None = None,
    filters: Filters | None = None,
    histogram: bool = True,
) -> tuple[list[Figures], Figures]:
    """Figures per group (sorted) and the total, for what ``scope`` may see. ``histogram=False``
    leaves out the handling-days distribution (no average or percentile), e.g. for a trend chart
    of counts: 11 sums per row instead of 73."""
    filters = filters or Filters()
    field_name = _group_field(group_by)
    groups: dict[object, Figures] = {}

    def bucket(value) -> Figures:
        key = _fold_key(group_by, value) if field_name else None
        if key not in groups:
            groups[key] = Figures(key=key)
        return groups[key]

    summarised = set(StatDay.objects.filter(day__gte=start, day__lte=end).values_list("day", flat=True))
    # -- months covered whole (up to today) and summarised: their monthly rows; other summarised
    # days: their daily rows. One SUM each over what the scope may see.
    months = [] if group_by == "day" else _whole_months(start, end, summarised)
    daily_days = [day for day in summarised if day.replace(day=1) not in months]
    values = [field_name] if field_name else []
    summed = SUMMED if histogram else SUMMED[: len(COUNTERS) + 2]
    sums = {name: Sum(name) for name in summed}
    sources = []
    if months:
        sources.append(MonthlyStat.objects.filter(day__in=months))
    if daily_days:
        sources.append(DailyStat.objects.filter(_in_days("day", _ranges(daily_days), is_date=True)))
    for rows_qs in sources:
        base = access_filter(scope, rows_qs).filter(filters.q())
        rows = base.values(*values).annotate(**sums).order_by() if values else [base.aggregate(**sums)]
        for row in rows:
            fig = bucket(row.get(field_name) if field_name else None)
            for name in COUNTERS:
                fig.counts[name] += row[name] or 0
            fig.handled += row["handled"] or 0
            fig.handling_sum += row["handling_sum"] or 0
            for days, name in enumerate(HISTOGRAM_FIELDS if histogram else ()):
                if row[name]:
                    fig.histogram[days] = fig.histogram.get(days, 0) + row[name]
    # -- days never summarised (fresh database, gaps): from the applications
    live_days = [
        start + dt.timedelta(days=i)
        for i in range((end - start).days + 1)
        if start + dt.timedelta(days=i) not in summarised
    ]
    if live_days:
        runs = _ranges(live_days)
        apps = scope.filter(
            Application.objects.all(), region_field="region", department_field="department"
        ).filter(filters.q())
        for day_expr, qs, aggregates in _event_queries(apps, runs):
            if field_name == "day":
                qs = qs.annotate(stat_day=day_expr)
                values = ["stat_day"]
            else:
                values = [field_name] if field_name else []
            rows = qs.values(*values).annotate(**aggregates) if values else [qs.aggregate(**aggregates)]
            for row in rows:
                fig = bucket(row.get(values[0]) if values else None)
                for name in aggregates:
                    fig.counts[name[2:]] += row[name] or 0
        day_expr, qs = _handling_query(apps, runs)
        if field_name == "day":
            qs = qs.annotate(stat_day=day_expr)
            values = ["stat_day"]
        else:
            values = [field_name] if field_name else []
        for row in qs.values(*values, "handling_working_days").annotate(n=Count("pk")):
            bucket(row.get(values[0]) if values else None).add_days(row["handling_working_days"], row["n"])
    total = Figures()
    for fig in groups.values():
        total.add(fig)
    result = sorted(
        (g for g in groups.values() if any(g.counts.values()) or g.handled),
        key=lambda g: str(g.key) if group_by not in ("day", "month") else g.key.isoformat(),
    )
    _label(result, group_by)
    return result, total


def _whole_months(start: dt.date, end: dt.date, summarised: set[dt.date]) -> list[dt.date]:
    """Months whose days up to today all lie in [start, end] and are all summarised."""
    today = timezone.localdate()
    whole = []
    for month in _month_starts(start, end):
        last = min(_month_end(month), today)
        if month < start or last > end or last < month:
            continue
        if all(month + dt.timedelta(days=i) in summarised for i in range((last - month).days + 1)):
            whole.append(month)
    return whole


def access_filter(scope, qs: QuerySet) -> QuerySet:
    return scope.filter(qs, region_field="region", department_field="department")


def _label(rows: list[Figures], group_by: str | None) -> None:
    from tongban.catalog.models import ItemImplementation
    from tongban.core.models import Organisation, Region

    keys = [r.key for r in rows]
    if group_by == "department":
        names = dict(Organisation.objects.filter(pk__in=keys).values_list("pk", "name"))
    elif group_by == "region":
        names = dict(Region.objects.filter(pk__in=keys).values_list("pk", "name"))
    elif group_by == "implementation":
        names = {
            pk: f"{name}（{org}）"
            for pk, name, org in ItemImplementation.objects.filter(pk__in=keys).values_list(
                "pk", "basic_item__name", "organisation__short_name"
            )
        }
    elif group_by == "channel":
        names = dict(Channel.choices)
    elif group_by == "month":
        names = {k: f"{k:%Y年%m月}" for k in keys}
    elif group_by == "day":
        names = {k: k.isoformat() for k in keys}
    else:
        names = {}
    for row in rows:
        row.label = names.get(row.key, str(row.key))
    rows.sort(key=lambda r: r.key.isoformat() if isinstance(r.key, dt.date) else r.label)


__all__ = [
    "COUNTERS",
    "GROUPS",
    "Figures",
    "Filters",
    "compute",
    "percentile",
    "refresh_days",
    "refresh_recent",
    "roll_up_months",
]
