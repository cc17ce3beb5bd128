"""Statistics against a small dataset computed by hand (see the table in each comment)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Sum

from tests.supervision import factories as f
from tongban.cases.models import Application, Channel, Status
from tongban.supervision import stats
from tongban.supervision.models import DailyStat, MonthlyStat, StatDay

pytestmark = pytest.mark.django_db

SEPT = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
d = dt.date


def done(impl, received, accepted, completed, days, on_time, channel=Channel.ONLINE, visits=0, **extra):
    return f.case(
        impl,
        status=Status.COMPLETED,
        received=received,
        channel=channel,
        accepted_at=f.at(accepted),
        decided_at=f.at(accepted),
        completed_at=f.at(completed, 16),
        handling_working_days=days,
        on_time=on_time,
        visits=visits,
        **extra,
    )


@pytest.fixture
def data(db):
    w = f.world()
    m, dd, y = w["item_market"], w["item_data"], w["item_yuan"]
    # 市场监管（金安）
    done(m, d(2026, 9, 1), d(2026, 9, 1), d(2026, 9, 10), 5, True)  # 1
    done(m, d(2026, 9, 2), d(2026, 9, 3), d(2026, 9, 15), 8, True, Channel.WINDOW, 1, round=2)  # 2 corrected
    done(m, d(2026, 9, 3), d(2026, 9, 3), d(2026, 9, 28), 20, False, Channel.ONLINE, 2)  # 3 late
    f.case(m, status=Status.REFUSED, received=d(2026, 9, 4), decided_at=f.at(d(2026, 9, 5)))  # 4
    f.case(m, status=Status.IN_PROGRESS, received=d(2026, 9, 5), accepted_at=f.at(d(2026, 9, 6)))  # 5
    done(m, d(2026, 8, 30), d(2026, 8, 31), d(2026, 9, 2), 2, True, Channel.MOBILE)  # 6 completed only
    f.case(m, status=Status.DRAFT, received=d(2026, 9, 6))  # 7 never counted
    f.case(m, status=Status.ACCEPTED, received=d(2026, 9, 29), accepted_at=f.at(d(2026, 10, 2)))  # 8
    # 数据资源（金安）
    done(dd, d(2026, 9, 10), d(2026, 9, 10), d(2026, 9, 10), 0, True, Channel.WINDOW, 1)  # 9 即办
    f.case(dd, status=Status.SUBMITTED, received=d(2026, 9, 11))  # 10
    # 市场监管（裕安）
    done(y, d(2026, 9, 12), d(2026, 9, 12), d(2026, 9, 20), 6, True)  # 11
    supervisor = f.staff(w["market"], ["supervisor"], username="sup-city")
    profile = supervisor.staff_profile
    profile.region = w["regions"]["city"]
    profile.save()
    return w, supervisor


MARKET = {
    "received": 6,
    "accepted": 4,
    "refused": 1,
    "corrected": 1,
    "completed": 4,
    "on_time": 3,
    "late": 1,
    "online_full": 2,
    "one_visit": 3,
}
DATA = {
    "received": 2,
    "accepted": 1,
    "refused": 0,
    "corrected": 0,
    "completed": 1,
    "on_time": 1,
    "late": 0,
    "online_full": 0,
    "one_visit": 1,
}
YUAN = {
    "received": 1,
    "accepted": 1,
    "refused": 0,
    "corrected": 0,
    "completed": 1,
    "on_time": 1,
    "late": 0,
    "online_full": 1,
    "one_visit": 1,
}


def check(supervisor, w):
    from tongban.accounts.scope import scope_for

    rows, total = stats.compute(scope_for(supervisor), *SEPT, group_by="department")
    by = {r.key: r for r in rows}
    assert by[w["market"].pk].counts == MARKET
    assert by[w["data"].pk].counts == DATA
    assert by[w["market_yuan"].pk].counts == YUAN
    market = by[w["market"].pk]
    assert market.average_days == pytest.approx(35 / 4)  # (5 + 8 + 20 + 2) / 4
    assert market.p90_days == pytest.approx(16.4)  # [2,5,8,20]: 8 + 0.7 × 12
    assert market.rates == pytest.approx(
        {
            "on_time_rate": 0.75,
            "online_share": 0.5,
            "one_visit_share": 0.75,
            "correction_rate": 0.2,  # 1 of 5 decided
            "refusal_rate": 0.2,
        }
    )
    assert total.counts == {k: MARKET[k] + DATA[k] + YUAN[k] for k in MARKET}
    assert total.average_days == pytest.approx(41 / 6)
    assert total.p90_days == pytest.approx(14.0)  # [0,2,5,6,8,20]: 8 + 0.5 × 12
    assert by[w["data"].pk].p90_days == 0
    return rows, total


def test_live_figures_match_hand_computed(data):
    w, supervisor = data
    assert not StatDay.objects.exists()
    check(supervisor, w)


def test_summarised_figures_are_the_same(data):
    w, supervisor = data
    stats.refresh_days(d(2026, 8, 1), d(2026, 10, 31))
    assert DailyStat.objects.filter(handled__gt=0).exists()
    assert StatDay.objects.filter(day__range=SEPT).count() == 30
    # the summary is what is read now: change a case behind its back and the figures stay
    Application.objects.filter(status=Status.DRAFT).update(status=Status.SUBMITTED)
    check(supervisor, w)


def test_partly_summarised_period(data):
    w, supervisor = data
    stats.refresh_days(d(2026, 9, 1), d(2026, 9, 12))  # the rest of September is computed live
    check(supervisor, w)


def test_department_head_sees_own_department_only(data):
    from tongban.accounts.scope import scope_for

    w, _ = data
    head = f.staff(w["market"], ["department_head"])
    stats.refresh_days(d(2026, 9, 1), d(2026, 9, 15))
    rows, total = stats.compute(scope_for(head), *SEPT, group_by="department")
    assert [r.key for r in rows] == [w["market"].pk]
    assert total.counts == MARKET


def test_grouping_by_month_item_region_channel(data):
    from tongban.accounts.scope import scope_for

    w, supervisor = data
    stats.refresh_days(d(2026, 9, 1), d(2026, 9, 15))
    scope = scope_for(supervisor)
    rows, _ = stats.compute(scope, d(2026, 8, 1), d(2026, 9, 30), group_by="month")
    months = {r.label: r.counts["completed"] for r in rows}
    assert months == {"2026年08月": 0, "2026年09月": 6}
    aug = {r.label: r.counts for r in rows}["2026年08月"]
    assert (aug["received"], aug["accepted"]) == (1, 1)  # case 6: received 08-30, accepted 08-31
    rows, _ = stats.compute(scope, *SEPT, group_by="region")
    assert {r.label: r.counts["received"] for r in rows} == {"金安区": 8, "裕安区": 1}
    rows, _ = stats.compute(scope, *SEPT, group_by="channel")
    assert {r.key: r.counts["completed"] for r in rows} == {"online": 3, "window": 2, "mobile": 1}
    rows, _ = stats.compute(scope, *SEPT, group_by="implementation", filters=stats.Filters(channel="window"))
    assert sorted(r.counts["completed"] for r in rows) == [1, 1]
    rows, _ = stats.compute(scope, *SEPT, group_by="day", filters=stats.Filters(department_id=w["market"].pk))
    assert {r.key: r.counts["completed"] for r in rows if r.counts["completed"]} == {
        d(2026, 9, 2): 1,
        d(2026, 9, 10): 1,
        d(2026, 9, 15): 1,
        d(2026, 9, 28): 1,
    }


def test_percentile_matches_postgresql(data):
    if connection.vendor != "postgresql":
        pytest.skip("percentile_cont is PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY handling_working_days) "
            "FROM cases_application WHERE completed_at IS NOT NULL"
        )
        expected = cursor.fetchone()[0]
    assert stats.percentile({0: 1, 2: 1, 5: 1, 6: 1, 8: 1, 20: 1}, 0.9) == pytest.approx(expected)


def test_long_handling_times_share_the_overflow_bucket(data):
    from tongban.accounts.scope import scope_for

    w, supervisor = data
    for days in (70, 80, 90):
        done(w["item_data"], d(2026, 9, 1), d(2026, 9, 1), d(2026, 9, 25), days, False)
    live = stats.compute(scope_for(supervisor), *SEPT, filters=stats.Filters(department_id=w["data"].pk))[1]
    stats.refresh_days(d(2026, 9, 1), d(2026, 9, 30))
    summed = stats.compute(scope_for(supervisor), *SEPT, filters=stats.Filters(department_id=w["data"].pk))[1]
    for total in (live, summed):
        assert total.average_days == pytest.approx((0 + 70 + 80 + 90) / 4)  # exact: sums are stored
        assert total.histogram == {0: 1, stats.OVERFLOW: 3}
        assert total.p90_days == stats.OVERFLOW  # reads "more than 60 working days"


def test_percentile_helper():
    assert stats.percentile({}, 0.9) is None
    assert stats.percentile({7: 1}, 0.9) == 7
    assert stats.percentile({1: 9, 100: 1}, 0.9) == pytest.approx(1 + 0.1 * 99)


def _monthly_sums(month: dt.date) -> dict:
    return MonthlyStat.objects.filter(day=month).aggregate(*(Sum(n) for n in stats.SUMMED))


def test_whole_months_are_read_from_the_monthly_roll_up(data):
    w, supervisor = data
    stats.refresh_days(d(2026, 8, 1), d(2026, 10, 31))
    september = DailyStat.objects.filter(day__range=SEPT)
    daily = september.aggregate(*(Sum(n) for n in stats.SUMMED))
    assert _monthly_sums(d(2026, 9, 1)) == daily
    # September is covered whole: its figures come from the monthly rows alone, so they survive
    # losing the daily rows; a period that cuts September reads the daily rows at its edge.
    september.delete()
    check(supervisor, w)
    from tongban.accounts.scope import scope_for

    _, cut = stats.compute(scope_for(supervisor), d(2026, 9, 2), d(2026, 9, 30))
    assert cut.counts["completed"] == 0


def test_refreshing_a_day_rebuilds_its_month(data):
    from tongban.accounts.scope import scope_for

    w, supervisor = data
    stats.refresh_days(d(2026, 9, 1), d(2026, 9, 30))
    done(w["item_data"], d(2026, 9, 9), d(2026, 9, 9), d(2026, 9, 10), 1, True)
    stats.refresh_days(d(2026, 9, 10), d(2026, 9, 10))
    _, total = stats.compute(scope_for(supervisor), *SEPT)
    assert total.counts["completed"] == 7
    assert total.histogram[1] == 1


def test_month_up_to_today_counts_as_whole(data, monkeypatch):
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tongban.accounts.scope import scope_for

    _, supervisor = data
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: d(2026, 9, 20))
    live = stats.compute(scope_for(supervisor), *SEPT, group_by="department")[1]
    stats.refresh_days(d(2026, 9, 1), d(2026, 9, 30))  # builds 09-01 … 09-20, today
    assert StatDay.objects.filter(day__range=SEPT).count() == 20
    with CaptureQueriesContext(conn) as queries:
        summed = stats.compute(scope_for(supervisor), *SEPT, group_by="department")[1]
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert "supervision_monthlystat" in read and "supervision_dailystat" not in read
    assert summed.counts == live.counts and summed.histogram == live.histogram


def test_trend_without_histogram_keeps_the_counts(data):
    from tongban.accounts.scope import scope_for

    _, supervisor = data
    stats.refresh_days(*SEPT)
    full, _ = stats.compute(scope_for(supervisor), *SEPT, group_by="day")
    light, _ = stats.compute(scope_for(supervisor), *SEPT, group_by="day", histogram=False)
    assert [(r.key, r.counts) for r in light] == [(r.key, r.counts) for r in full]
    assert all(not r.histogram for r in light)


def test_migration_rolls_up_days_built_before_it(data):
    import importlib

    from django.apps import apps

    stats.refresh_days(d(2026, 8, 1), d(2026, 10, 31))
    expected = {m: _monthly_sums(m) for m in (d(2026, 8, 1), d(2026, 9, 1), d(2026, 10, 1))}
    MonthlyStat.objects.all().delete()
    migration = importlib.import_module("tongban.supervision.migrations.0004_monthly_stat")
    migration.roll_up_existing_days(apps, None)
    assert {m: _monthly_sums(m) for m in expected} == expected
