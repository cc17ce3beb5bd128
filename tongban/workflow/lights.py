"""亮灯 — green / yellow / red for cases and tasks, as one SQL expression.

Overdue is a query on the stored deadline, so the lights are right without any sweeper:

* red (红灯, 超期): the deadline is before today;
* yellow (黄灯, 临期): the deadline is today or within ``settings.NEAR_DUE_WORKING_DAYS``
  working days after today (``deadline <= add_working_days(today, N)``);
* green (绿灯): later.

A paused case (特别程序/挂起) has its clock stopped: it keeps the light it had on the day the
pause started (red if it was already overdue then, otherwise green), and is listed as paused.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils import timezone

from tongban.core.workdays import add_working_days


class Light:
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    LABELS = {GREEN: "绿灯（正常）", YELLOW: "黄灯（临期）", RED: "红灯（超期）"}
    CHOICES = [(GREEN, "绿灯"), (YELLOW, "黄灯"), (RED, "红灯")]


def yellow_until(today: dt.date | None = None) -> dt.date:
    """The last deadline that is yellow today."""
    today = today or timezone.localdate()
    return add_working_days(today, settings.NEAR_DUE_WORKING_DAYS).date


def light_of(
    deadline: dt.date | None, *, today: dt.date | None = None, paused_on: dt.date | None = None
) -> str:
    """The light of one deadline (Python twin of :func:`annotate_light`)."""
    today = today or timezone.localdate()
    if deadline is None:
        return Light.GREEN
    if paused_on is not None:
        return Light.RED if deadline < paused_on else Light.GREEN
    if deadline < today:
        return Light.RED
    if deadline <= yellow_until(today):
        return Light.YELLOW
    return Light.GREEN


def light_expression(
    deadline_field: str = "deadline", *, paused_field: str | None = None, today: dt.date | None = None
) -> Case:
    today = today or timezone.localdate()
    until = yellow_until(today)
    whens = []
    if paused_field:
        paused = Q(**{f"{paused_field}__isnull": False})
        whens += [
            When(paused & Q(**{f"{deadline_field}__lt": F(paused_field)}), then=Value(Light.RED)),
            When(paused, then=Value(Light.GREEN)),
        ]
    whens += [
        When(**{f"{deadline_field}__lt": today}, then=Value(Light.RED)),
        When(**{f"{deadline_field}__lte": until}, then=Value(Light.YELLOW)),
    ]
    return Case(*whens, default=Value(Light.GREEN), output_field=CharField())


def annotate_light(
    qs: QuerySet, deadline_field: str = "deadline", *, paused_field: str | None = None, today=None
) -> QuerySet:
    """``qs`` with a ``light`` column. Cases: ``paused_field="paused_on"``; tasks:
    ``deadline_field="due_date", paused_field="application__paused_on"``."""
    return qs.annotate(light=light_expression(deadline_field, paused_field=paused_field, today=today))


def filter_light(
    qs: QuerySet, light: str, deadline_field: str = "deadline", *, paused_field: str | None = None, today=None
) -> QuerySet:
    """Only rows with ``light`` — as range conditions on the indexed deadline, not on the
    annotation, so PostgreSQL uses the (status, deadline) indexes."""
    today = today or timezone.localdate()
    until = yellow_until(today)
    running = Q(**{f"{paused_field}__isnull": True}) if paused_field else Q()
    if light == Light.RED:
        # A pause starts on or before today, so "overdue when paused" implies deadline < today:
        # one range condition on the deadline index, the pause test only narrows it.
        q = Q(**{f"{deadline_field}__lt": today})
        if paused_field:
            q &= Q(**{f"{paused_field}__isnull": True}) | Q(**{f"{deadline_field}__lt": F(paused_field)})
    elif light == Light.YELLOW:
        q = running & Q(**{f"{deadline_field}__gte": today, f"{deadline_field}__lte": until})
    elif light == Light.GREEN:
        q = running & (Q(**{f"{deadline_field}__gt": until}) | Q(**{f"{deadline_field}__isnull": True}))
        if paused_field:
            q |= Q(**{f"{paused_field}__isnull": False, f"{deadline_field}__gte": F(paused_field)})
    else:
        raise ValueError(light)
    return qs.filter(q)


__all__ = ["Light", "annotate_light", "filter_light", "light_expression", "light_of", "yellow_until"]
