"""Read side of the supervision workbench: case and task lists with lights, a case's process.

Lights come from ``tongban.workflow.lights`` (never re-derived here); every list starts from
``access.cases_for`` / ``access.tasks_for`` (the data scope).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from tongban.cases.models import EVENT_LABELS, OPEN_STATUSES, Application, Channel, Status
from tongban.core.models import Region
from tongban.core.workdays import WorkCalendar
from tongban.supervision import access
from tongban.workflow.lights import Light, annotate_light, filter_light, light_of, yellow_until
from tongban.workflow.models import Task, TaskStatus

# One registry of event names for every app (cases.models.EVENT_LABELS).
SUPERVISION_EVENT_LABELS = EVENT_LABELS
OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED)


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _date(value) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass
class ListFilters:
    """The workbench filters (same names in pages, exports and the API)."""

    region: int | None = None
    department: int | None = None
    item: int | None = None
    channel: str | None = None
    status: str | None = None  # "open" (default), "all" or a status value
    light: str | None = None
    deadline_from: dt.date | None = None
    deadline_to: dt.date | None = None

    @classmethod
    def from_params(cls, params) -> ListFilters:
        light = params.get("light") or None
        channel = params.get("channel") or None
        return cls(
            region=_int(params.get("region")),
            department=_int(params.get("department")),
            item=_int(params.get("item")),
            channel=channel if channel in Channel.values else None,
            status=params.get("status") or None,
            light=light if light in (Light.GREEN, Light.YELLOW, Light.RED) else None,
            deadline_from=_date(params.get("deadline_from")),
            deadline_to=_date(params.get("deadline_to")),
        )

    def as_params(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in self.__dict__.items() if v}

    def _region_path(self) -> str | None:
        if not self.region:
            return None
        return Region.objects.filter(pk=self.region).values_list("path", flat=True).first() or "-"


def cases(user, filters: ListFilters, *, today: dt.date | None = None) -> QuerySet:
    qs = _filtered_cases(user, filters)
    if filters.light:
        # lights.filter_light: red is one range on the indexed deadline.
        qs = filter_light(qs, filters.light, "deadline", paused_field="paused_on", today=today)
    return (
        annotate_light(qs, "deadline", paused_field="paused_on", today=today)
        .select_related("implementation__basic_item", "department", "region")
        .order_by("deadline", "id")
    )


def case_parts(user, filters: ListFilters, *, today: dt.date | None = None) -> list[QuerySet] | None:
    """The green list as disjoint parts that each are one ordered range on the open-deadline
    index (running and due after the yellow window; paused with their clock stopped in time;
    running without a deadline) — their union is exactly ``cases(...)``. ``None`` for the other
    lights: one range already. The OR of the green condition otherwise makes PostgreSQL walk
    every red and yellow case in deadline order before the first green one (O(cases))."""
    if filters.light != Light.GREEN:
        return None
    base = _filtered_cases(user, filters)
    until = yellow_until(today or timezone.localdate())
    return [
        base.filter(paused_on__isnull=True, deadline__gt=until),
        base.filter(paused_on__isnull=False, deadline__gte=F("paused_on")),
        base.filter(paused_on__isnull=True, deadline__isnull=True),
    ]


def _filtered_cases(user, filters: ListFilters) -> QuerySet:
    qs = access.cases_for(user).exclude(status=Status.DRAFT)
    return _apply(qs, filters, open_statuses=OPEN_STATUSES, prefix="", deadline="deadline")


def _apply(qs: QuerySet, filters: ListFilters, *, open_statuses, prefix: str, deadline: str) -> QuerySet:
    """The list filters, for cases (``prefix=""``) or tasks (``prefix="application__"``)."""
    if filters.status in (None, "", "open"):
        qs = qs.filter(status__in=open_statuses)
    elif filters.status != "all":
        qs = qs.filter(status=filters.status)
    path = filters._region_path()
    if path:
        qs = qs.filter(region__path__startswith=path)
    if filters.department:
        qs = qs.filter(department_id=filters.department)
    if filters.item:
        qs = qs.filter(**{f"{prefix}implementation_id": filters.item})
    if filters.channel:
        qs = qs.filter(**{f"{prefix}channel": filters.channel})
    if filters.deadline_from:
        qs = qs.filter(**{f"{deadline}__gte": filters.deadline_from})
    if filters.deadline_to:
        qs = qs.filter(**{f"{deadline}__lte": filters.deadline_to})
    return qs


def tasks(user, filters: ListFilters, *, today: dt.date | None = None) -> QuerySet:
    qs = _apply(
        access.tasks_for(user),
        filters,
        open_statuses=OPEN_TASK_STATUSES,
        prefix="application__",
        deadline="due_date",
    )
    if filters.light:
        qs = filter_light(qs, filters.light, "due_date", paused_field="application__paused_on", today=today)
    return (
        annotate_light(qs, "due_date", paused_field="application__paused_on", today=today)
        .select_related("application__implementation__basic_item", "department", "assignee")
        .order_by("due_date", "id")
    )


#: Light counts are cached this long per data scope (lights change with the date and with
#: deadline moves; a minute's delay is fine for an overview, the lists are always live).
LIGHT_COUNTS_TTL = 60


def light_counts(user, *, today: dt.date | None = None) -> dict[str, int]:
    """Open cases per light and paused: one GROUP BY over the lights (``annotate_light``) on the
    open cases of the scope, shared for a minute by everyone with the same scope."""
    from django.core.cache import cache
    from django.db.models import Count, Q

    scope = access.scope_for(user)
    today = today or timezone.localdate()
    key = "supervision:lights:{}:{}:{}:{}:{}".format(
        today.isoformat(),
        ",".join(sorted(scope.roles)),
        scope.region_path,
        scope.department_id,
        scope.user_id if not (scope.sees_everything or scope.sees_region_all_departments) else "",
    )
    counts = cache.get(key)
    if counts is None:
        base = access.cases_for(user).filter(status__in=OPEN_STATUSES)
        counts = {Light.GREEN: 0, Light.YELLOW: 0, Light.RED: 0, "paused": 0}
        rows = (
            annotate_light(base, "deadline", paused_field="paused_on", today=today)
            .values("light")
            .annotate(n=Count("pk"), paused=Count("pk", filter=Q(paused_on__isnull=False)))
            .order_by()
        )
        for row in rows:
            counts[row["light"]] += row["n"]
            counts["paused"] += row["paused"]
        cache.set(key, counts, LIGHT_COUNTS_TTL)
    return dict(counts)


class BoundedPaginator(Paginator):
    """Stops counting at ``COUNT_LIMIT`` rows: a supervisor's "all cases" list over millions of
    rows shows "10000+" instead of counting every one of them."""

    COUNT_LIMIT = 10_000

    def __init__(self, object_list, per_page, *, parts: list[QuerySet] | None = None, **kw):
        """``parts``: disjoint querysets whose union is ``object_list`` (see :func:`case_parts`),
        each cheap to sort on its own; used where the database can order and cut each part."""
        super().__init__(object_list, per_page, **kw)
        self.parts = parts if parts and connection.features.supports_slicing_ordering_in_compound else None

    @cached_property
    def count(self) -> int:
        # without the ordering and the joins select_related adds for display
        if self.parts:
            total = 0
            for part in self.parts:  # stop as soon as the cap is passed, as the single count does
                total += part.order_by().values("pk")[: self.COUNT_LIMIT + 1 - total].count()
                if total > self.COUNT_LIMIT:
                    break
            return total
        return self.object_list.order_by().values("pk")[: self.COUNT_LIMIT + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.COUNT_LIMIT

    def page(self, number):
        """Sort and cut on the primary keys alone (narrow rows), then load the page's rows: the
        wide case rows (encrypted form, answers) are never sorted by the thousand."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.parts:
            order = self.object_list.query.order_by
            columns = ["pk", *(f for f in order if f not in ("pk", "id"))]
            first, *rest = (p.order_by(*order).values_list(*columns)[:top] for p in self.parts)
            ordered = first.union(*rest, all=True).order_by(*order)
            pks = [row[0] for row in ordered[bottom:top]]
        else:
            pks = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {obj.pk: obj for obj in self.object_list.order_by().filter(pk__in=pks)}
        return self._get_page([rows[pk] for pk in pks if pk in rows], number, self)


def _name(user) -> str:
    if user is None:
        return "系统"
    profile = getattr(user, "staff_profile", None)
    if profile is not None:
        return f"{profile.name}（{profile.department.short_name or profile.department.name}）"
    return "申请人"


def process(app: Application, *, today: dt.date | None = None) -> dict:
    """Everything the case page shows: light, steps against their share of the limit, pauses,
    extensions, events, 督办单, complaints and alerts."""
    from tongban.supervision.models import Alert, Complaint, SupervisionNotice

    today = today or timezone.localdate()
    calendar = WorkCalendar()
    steps = []
    for task in (
        Task.objects.filter(application=app)
        .select_related("department", "assignee__staff_profile__department")
        .order_by("opened_on", "id")
    ):
        finished = timezone.localdate(task.completed_at) if task.completed_at else None
        used = calendar.working_days_between(task.opened_on, finished or today)
        light = None if finished else light_of(task.due_date, today=today, paused_on=app.paused_on)
        steps.append(
            {
                "task": task,
                "id": task.pk,
                "name": task.name,
                "department": task.department.name,
                "assignee": _name(task.assignee) if task.assignee_id else "待签收",
                "status": task.get_status_display(),
                "opened_on": task.opened_on,
                "due_date": task.due_date,
                "finished_on": finished,
                "used_days": used,
                "limit_days": task.limit_days,
                "share": task.share,
                "over_limit": bool(task.limit_days) and used > task.limit_days,
                "light": light,
                "outcome": task.get_outcome_display() if task.outcome else "",
                "opinion": task.opinion,
            }
        )
    events = [
        {
            "id": e.pk,
            "action": e.action,
            "label": SUPERVISION_EVENT_LABELS.get(e.action, e.action),
            "actor": _name(e.actor),
            "at": e.created_at,
            "reason": e.reason,
        }
        for e in app.events.select_related("actor__staff_profile__department").order_by("id")
    ]
    days_left = calendar.working_days_between(today, app.deadline) if app.deadline else None
    case_light = (
        light_of(app.deadline, today=today, paused_on=app.paused_on) if app.status in OPEN_STATUSES else None
    )
    return {
        "app": app,
        "light": case_light,
        "light_label": Light.LABELS.get(case_light, "—") if case_light else "已结束",
        "steps": steps,
        "pauses": list(app.pauses.all()),
        "extensions": list(app.extensions.select_related("requested_by", "decided_by")),
        "events": events,
        "notices": list(
            SupervisionNotice.objects.filter(application=app).select_related("issued_by", "responded_by")
        ),
        "complaints": list(Complaint.objects.filter(application=app)),
        "alerts": Alert.objects.filter(application=app).count(),
        "days_left": days_left,
        "days_overdue": -days_left if days_left is not None and days_left < 0 else 0,
    }
