"""Builders for supervision tests: cases and tasks written straight in the states a test needs."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from tests.cases import factories as cf
from tests.catalog.factories import department, liuan
from tongban.cases.models import Application, Channel, Status
from tongban.workflow.models import Task, TaskStatus

_serial = itertools.count(1)
TZ = timezone.get_current_timezone()


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)), TZ)


def world():
    """Two counties of 六安市, one 市场监管 and one 数据资源 department in 金安区, a 市场监管 in 裕安区."""
    regions = liuan()
    market = department(regions["jinan"])
    data = department(regions["jinan"], "数据资源", "数据资源管理局")
    market_yuan = department(regions["yuan"])
    return {
        "regions": regions,
        "market": market,
        "data": data,
        "market_yuan": market_yuan,
        "item_market": cf.item(market, name="食品经营许可"),
        "item_data": cf.item(data, name="政务数据共享申请"),
        "item_yuan": cf.item(market_yuan, name="药品零售许可"),
    }


def case(impl, *, status=Status.ACCEPTED, deadline=None, received=None, channel=Channel.ONLINE, **extra):
    received = received or dt.date(2026, 9, 1)
    n = next(_serial)
    fields = {
        "applicant_name": f"申请人{n}",
        "channel": channel,
        "implementation": impl,
        "version": impl.published_version,
        "region": impl.region,
        "department": impl.organisation,
        "status": status,
        "round": 1,
        "submitted_at": at(received, 9),
        "received_date": received,
        "case_number": f"{impl.code[:20]}{received:%Y%m%d}{n:06d}",
        "legal_limit_days": 20,
        "deadline": deadline,
    }
    if status not in (Status.DRAFT, Status.SUBMITTED, Status.CORRECTION_REQUESTED, Status.REFUSED):
        fields["accepted_at"] = at(received, 11)
        fields["decided_at"] = fields["accepted_at"]
    fields.update(extra)
    return Application.objects.create(**fields)


def task(
    app, *, due, assignee=None, status=None, name="审查", role="approver", opened=None, limit=5, **extra
):
    return Task.objects.create(
        application=app,
        node_key=f"n{next(_serial)}",
        name=name,
        stage="review",
        role=role,
        region=app.region,
        department=app.department,
        status=status or (TaskStatus.CLAIMED if assignee else TaskStatus.OPEN),
        assignee=assignee,
        share=50,
        limit_days=limit,
        opened_on=opened or app.received_date,
        due_date=due,
        **extra,
    )


def staff(org, roles, username=None, phone=""):
    user = cf.clerk(org, username=username or f"sv{next(_serial)}", roles=roles)
    if phone:
        profile = user.staff_profile
        profile.phone = phone
        profile.save()
    return user
