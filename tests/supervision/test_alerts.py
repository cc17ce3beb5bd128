"""Lights exactly at the yellow and red boundaries across National Day 2026, and alerts once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from tests.supervision import factories as f
from tongban.accounts.models import SmsMessage
from tongban.cases.models import Message
from tongban.supervision import queries, services
from tongban.supervision.models import Alert, AlertLevel
from tongban.workflow.lights import Light

pytestmark = pytest.mark.django_db

# Official 2026 schedule (chinesecalendar, seeded into the calendar tables): 2026-09-30 is a
# Wednesday and the last working day before 国庆/中秋 (10-01 … 10-07 off); 10-08 (Thu) and
# 10-09 (Fri) are working days, 10-10 is a Saturday worked in exchange (调休上班).
EVE = dt.date(2026, 9, 30)


@pytest.fixture
def calendar_2026(db):
    from tongban.core.calendar_loader import seed_from_chinesecalendar

    seed_from_chinesecalendar()
    cache.clear()


@pytest.fixture
def w(db):
    return f.world()


def test_light_boundaries_across_national_day(calendar_2026, w, settings):
    settings.NEAR_DUE_WORKING_DAYS = 2  # yellow: the deadline is within two working days
    head = f.staff(w["market"], ["department_head"])
    deadlines = {
        dt.date(2026, 9, 29): Light.RED,  # yesterday: overdue
        EVE: Light.YELLOW,  # today
        dt.date(2026, 10, 8): Light.YELLOW,  # 1st working day after today, 8 calendar days away
        dt.date(2026, 10, 9): Light.YELLOW,  # 2nd working day: the last yellow day
        dt.date(2026, 10, 10): Light.GREEN,  # 3rd working day (Saturday 调休上班)
        dt.date(2026, 10, 5): Light.YELLOW,  # a holiday inside the window
    }
    apps = {d: f.case(w["item_market"], deadline=d) for d in deadlines}
    for d, app in apps.items():
        f.task(app, due=d)
    rows = {a.deadline: a.light for a in queries.cases(head, queries.ListFilters(), today=EVE)}
    assert rows == deadlines
    task_rows = {t.due_date: t.light for t in queries.tasks(head, queries.ListFilters(), today=EVE)}
    assert task_rows == deadlines
    # filtering by light uses the same boundaries
    yellow = queries.cases(head, queries.ListFilters(light=Light.YELLOW), today=EVE)
    assert sorted(a.deadline for a in yellow) == [
        EVE,
        dt.date(2026, 10, 5),
        dt.date(2026, 10, 8),
        dt.date(2026, 10, 9),
    ]
    # on 10-08 the window reaches the make-up Saturday
    on_eighth = {
        a.deadline: a.light for a in queries.cases(head, queries.ListFilters(), today=dt.date(2026, 10, 8))
    }
    assert on_eighth[dt.date(2026, 10, 10)] == Light.YELLOW
    assert on_eighth[EVE] == Light.RED
    assert queries.light_counts(head, today=EVE) == {"green": 1, "yellow": 4, "red": 1, "paused": 0}


def test_paused_case_keeps_its_light(calendar_2026, w):
    head = f.staff(w["market"], ["department_head"])
    f.case(w["item_market"], deadline=dt.date(2026, 9, 20), paused_on=dt.date(2026, 9, 25))  # red at pause
    f.case(w["item_market"], deadline=dt.date(2026, 9, 29), paused_on=dt.date(2026, 9, 25))  # green at pause
    lights = sorted(a.light for a in queries.cases(head, queries.ListFilters(), today=EVE))
    assert lights == [Light.GREEN, Light.RED]


def test_overdue_alert_once_across_two_runs(calendar_2026, w, django_capture_on_commit_callbacks):
    approver = f.staff(w["market"], ["approver"], phone="13900000001")
    idle = f.staff(w["market"], ["approver"])
    head = f.staff(w["market"], ["department_head"], phone="13900000002")
    other_head = f.staff(w["data"], ["department_head"])
    app = f.case(w["item_market"], deadline=dt.date(2026, 10, 20))
    overdue = f.task(app, due=dt.date(2026, 9, 29), assignee=approver)
    near = f.task(f.case(w["item_market"], deadline=dt.date(2026, 10, 30)), due=dt.date(2026, 10, 9))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.scan_alerts(today=EVE) == 5
    # overdue task: the assignee and the head; near-due unclaimed task: both approvers and the head
    got = set(Alert.objects.values_list("task_id", "level", "recipient_id", "as_head"))
    assert got == {
        (overdue.pk, AlertLevel.OVERDUE, approver.pk, False),
        (overdue.pk, AlertLevel.OVERDUE, head.pk, True),
        (near.pk, AlertLevel.NEAR_DUE, approver.pk, False),
        (near.pk, AlertLevel.NEAR_DUE, idle.pk, False),
        (near.pk, AlertLevel.NEAR_DUE, head.pk, True),
    }
    assert not Alert.objects.filter(recipient=other_head).exists()
    # 站内信 for each; SMS through the gateway to staff with a work phone (approver and head: 4)
    assert Message.objects.filter(recipient=approver, title="超期报警").count() == 1
    assert Message.objects.filter(recipient__in=[approver, idle, head]).count() == 5
    assert SmsMessage.objects.count() == 4
    assert Message.objects.filter(sms_status=Message.SmsStatus.SENT).count() == 4

    # the job runs again the same day and on the next working day: nothing new
    with django_capture_on_commit_callbacks(execute=True):
        assert services.scan_alerts(today=EVE) == 0
        assert services.scan_alerts(today=dt.date(2026, 10, 8)) == 0
    assert Alert.objects.filter(task=overdue).count() == 2
    assert SmsMessage.objects.count() == 4
    # the near-due task crosses the next threshold on Monday 10-12: one overdue alert each, once
    assert services.scan_alerts(today=dt.date(2026, 10, 12)) == 3
    assert services.scan_alerts(today=dt.date(2026, 10, 12)) == 0
    assert Alert.objects.filter(task=near, level=AlertLevel.OVERDUE).count() == 3


def test_overdue_case_alerts_department_heads(calendar_2026, w):
    head = f.staff(w["market"], ["department_head"])
    f.staff(w["market"], ["approver"])
    app = f.case(w["item_market"], deadline=dt.date(2026, 9, 29))
    assert services.scan_alerts(today=EVE) == 1
    alert = Alert.objects.get()
    assert (alert.application_id, alert.task_id, alert.recipient_id, alert.level) == (
        app.pk,
        None,
        head.pk,
        AlertLevel.OVERDUE,
    )
    assert services.scan_alerts(today=EVE) == 0


def test_moved_deadline_alerts_again(calendar_2026, w):
    approver = f.staff(w["market"], ["approver"])
    t = f.task(
        f.case(w["item_market"], deadline=dt.date(2026, 11, 30)), due=dt.date(2026, 9, 29), assignee=approver
    )
    assert services.scan_alerts(today=EVE) == 1
    t.due_date = dt.date(2026, 10, 9)  # extended: near due now, a new crossing
    t.save()
    assert services.scan_alerts(today=EVE) == 1
    assert services.scan_alerts(today=EVE) == 0


def test_acknowledge_only_own_alert(calendar_2026, w):
    approver = f.staff(w["market"], ["approver"])
    other = f.staff(w["market"], ["approver"])
    app = f.case(w["item_market"], deadline=dt.date(2026, 10, 20))
    f.task(app, due=dt.date(2026, 9, 29), assignee=approver)
    services.scan_alerts(today=EVE)
    alert = Alert.objects.get(recipient=approver)
    with pytest.raises(services.PermissionDenied):
        services.acknowledge(alert, other)
    services.acknowledge(alert, approver)
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None


def test_supervisor_of_the_region_receives_the_overdue_case_alert_once(calendar_2026, w):
    from tests.accounts.helpers import make_staff

    supervisor = make_staff(
        username="sv-jinan", department=w["data"], region=w["regions"]["jinan"], roles=("supervisor",)
    )
    elsewhere = make_staff(
        username="sv-yuan", department=w["market_yuan"], region=w["regions"]["yuan"], roles=("supervisor",)
    )
    app = f.case(w["item_market"], deadline=dt.date(2026, 9, 29))
    services.scan_alerts(today=EVE)
    services.scan_alerts(today=EVE)
    mine = Alert.objects.filter(recipient=supervisor)
    assert list(mine.values_list("application_id", "level")) == [(app.pk, AlertLevel.OVERDUE)]
    assert not Alert.objects.filter(recipient=elsewhere).exists()


@pytest.mark.parametrize("per_page", [1, 2, 50])
def test_green_list_in_parts_matches_the_single_query(calendar_2026, w, per_page):
    """The green list is paged as the union of its parts (PostgreSQL): same rows, same order,
    same count as the plain query — paused cases with their clock stopped come first by deadline,
    cases without a deadline last."""
    head = f.staff(w["market"], ["department_head"])
    f.case(w["item_market"], deadline=dt.date(2026, 9, 29), paused_on=dt.date(2026, 9, 25))  # green
    f.case(w["item_market"], deadline=dt.date(2026, 9, 20), paused_on=dt.date(2026, 9, 25))  # red
    for d in (dt.date(2026, 11, 2), dt.date(2026, 10, 20), dt.date(2026, 10, 20), EVE):
        f.case(w["item_market"], deadline=d)
    f.case(w["item_market"], deadline=None)
    filters = queries.ListFilters(light=Light.GREEN)
    qs = queries.cases(head, filters, today=EVE)
    parts = queries.case_parts(head, filters, today=EVE)
    assert len(parts) == 3
    plain = queries.BoundedPaginator(qs, per_page)
    split = queries.BoundedPaginator(qs, per_page, parts=parts)
    assert split.count == plain.count == 5
    for number in plain.page_range:
        assert [a.pk for a in split.page(number)] == [a.pk for a in plain.page(number)]
    dated = [a.deadline for n in plain.page_range for a in plain.page(n) if a.deadline]
    assert dated == [dt.date(2026, 9, 29), dt.date(2026, 10, 20), dt.date(2026, 10, 20), dt.date(2026, 11, 2)]
    assert queries.case_parts(head, queries.ListFilters(light=Light.RED), today=EVE) is None
    # the bounded count stops at the cap across the parts as the single count does
    capped = queries.BoundedPaginator(qs, per_page, parts=parts)
    capped.COUNT_LIMIT = 2
    assert capped.count == 3 and capped.capped
