"""电子监察 API — lights, a case's process, statistics, alerts, 督办单, complaints.

Every endpoint checks the role and goes through the data scope (``access``); errors are
``{"code","message"}`` in Chinese with 403 (no permission), 404 (not in scope or missing) or 422.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from tongban.accounts.api import AUTH
from tongban.cases.models import Application
from tongban.core.models import Organisation, Window
from tongban.supervision import access, queries, services, stats
from tongban.supervision.models import Alert, ComplaintStatus, NoticeStatus

router = Router(tags=["电子监察"])
MAX_LIMIT = 200


@contextmanager
def _http_errors():
    try:
        yield
    except PermissionDenied as exc:
        raise HttpError(403, str(exc) or "没有权限。") from exc
    except Http404 as exc:
        raise HttpError(404, str(exc) or "不存在。") from exc


def _supervise(request: HttpRequest) -> None:
    if not access.can_supervise(request.user):
        raise HttpError(403, "您没有电子监察权限。")


class SupervisionListQuery(Schema):
    region: int | None = Field(None, description="区划 ID（含下级）")
    department: int | None = Field(None, description="部门 ID")
    item: int | None = Field(None, description="实施清单事项 ID")
    channel: str | None = Field(None, description="online / window / helper / mobile")
    status: str | None = Field(None, description="open（默认，在办）/ all / 具体状态")
    light: str | None = Field(None, description="green / yellow / red")
    deadline_from: dt.date | None = None
    deadline_to: dt.date | None = None
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class CaseLight(Schema):
    id: int
    reference: str
    item: str
    department: str
    region: str
    channel: str
    status: str
    deadline: dt.date | None
    paused: bool
    light: str = Field(description="green / yellow / red")


class CasePage(Schema):
    count: int = Field(description="符合条件的件数（超过 10000 时为 10001）")
    items: list[CaseLight]


class TaskLight(Schema):
    id: int
    case_id: int
    reference: str
    name: str
    department: str
    assignee: str | None
    status: str
    due_date: dt.date | None
    light: str


class TaskPage(Schema):
    count: int = Field(description="符合条件的项数（超过 10000 时为 10001）")
    items: list[TaskLight]


def _window(qs, offset: int, limit: int) -> list:
    """Rows ``offset``…``offset + limit`` of ``qs``, sorted on the primary keys alone first."""
    pks = list(qs.values_list("pk", flat=True)[offset : offset + limit])
    rows = {obj.pk: obj for obj in qs.order_by().filter(pk__in=pks)}
    return [rows[pk] for pk in pks if pk in rows]


def _filters(q: SupervisionListQuery) -> queries.ListFilters:
    data = q.dict()
    return queries.ListFilters.from_params({k: v for k, v in data.items() if v is not None})


@router.get("/cases", response=CasePage, auth=AUTH, summary="办件亮灯列表（数据权限内）")
def case_lights(request: HttpRequest, q: Query[SupervisionListQuery]):
    _supervise(request)
    qs = queries.cases(request.user, _filters(q))
    return {
        "count": queries.BoundedPaginator(qs, q.limit).count,
        "items": [
            {
                "id": a.pk,
                "reference": a.reference,
                "item": a.implementation.basic_item.name,
                "department": a.department.name,
                "region": a.region.name,
                "channel": a.channel,
                "status": a.status,
                "deadline": a.deadline,
                "paused": a.paused_on is not None,
                "light": a.light,
            }
            for a in _window(qs, q.offset, q.limit)
        ],
    }


@router.get("/tasks", response=TaskPage, auth=AUTH, summary="环节任务亮灯列表（数据权限内）")
def task_lights(request: HttpRequest, q: Query[SupervisionListQuery]):
    _supervise(request)
    qs = queries.tasks(request.user, _filters(q))
    return {
        "count": queries.BoundedPaginator(qs, q.limit).count,
        "items": [
            {
                "id": t.pk,
                "case_id": t.application_id,
                "reference": t.application.reference,
                "name": t.name,
                "department": t.department.name,
                "assignee": str(t.assignee) if t.assignee_id else None,
                "status": t.status,
                "due_date": t.due_date,
                "light": t.light,
            }
            for t in _window(qs, q.offset, q.limit)
        ],
    }


class StepOut(Schema):
    id: int
    name: str
    department: str
    assignee: str
    status: str
    opened_on: dt.date
    due_date: dt.date | None
    finished_on: dt.date | None
    used_days: int = Field(description="已用工作日")
    limit_days: int = Field(description="环节时限（工作日）")
    share: int = Field(description="占总时限百分比")
    over_limit: bool
    light: str | None


class SupervisionEventOut(Schema):
    action: str
    label: str
    actor: str
    at: dt.datetime
    reason: str


class SupervisionPauseOut(Schema):
    kind: str
    reason: str
    started_on: dt.date
    ended_on: dt.date | None
    working_days: int


class SupervisionExtensionOut(Schema):
    days: int
    status: str
    reason: str


class SupervisionNoticeOut(Schema):
    id: int
    number: str
    case_id: int
    reference: str
    department: str
    requirement: str
    respond_by: dt.date
    issued_at: dt.datetime
    status: str = Field(description="issued / overdue / responded")
    response: str
    responded_at: dt.datetime | None


def _notice(n) -> dict:
    return {
        "id": n.pk,
        "number": n.number,
        "case_id": n.application_id,
        "reference": n.application.reference,
        "department": n.department.name,
        "requirement": n.requirement,
        "respond_by": n.respond_by,
        "issued_at": n.issued_at,
        "status": n.status,
        "response": n.response,
        "responded_at": n.responded_at,
    }


class SupervisionProcessOut(Schema):
    id: int
    reference: str
    item: str
    department: str
    status: str
    deadline: dt.date | None
    light: str | None
    days_left: int | None
    steps: list[StepOut]
    pauses: list[SupervisionPauseOut]
    extensions: list[SupervisionExtensionOut]
    events: list[SupervisionEventOut]
    notices: list[SupervisionNoticeOut]
    ledger_ok: bool | None = Field(None, description="过程记录哈希链校验结果（账本可用时）")


@router.get(
    "/cases/{pk}",
    response=SupervisionProcessOut,
    auth=AUTH,
    summary="办件全过程（环节用时、暂停、延期、督办）",
)
def case_process(request: HttpRequest, pk: int):
    with _http_errors():
        app = access.get_case(request.user, pk)
    data = queries.process(app)
    ledger_ok = None
    try:
        from tongban.ledger.services import verify_case

        ledger_ok = bool(getattr(verify_case(app, labels=False), "ok", None))
    except Exception:
        ledger_ok = None
    return {
        "id": app.pk,
        "reference": app.reference,
        "item": app.implementation.basic_item.name,
        "department": app.department.name,
        "status": app.status,
        "deadline": app.deadline,
        "light": data["light"],
        "days_left": data["days_left"],
        "steps": data["steps"],
        "pauses": [
            {
                "kind": p.kind,
                "reason": p.reason,
                "started_on": p.started_on,
                "ended_on": p.ended_on,
                "working_days": p.working_days,
            }
            for p in data["pauses"]
        ],
        "extensions": [{"days": e.days, "status": e.status, "reason": e.reason} for e in data["extensions"]],
        "events": data["events"],
        "notices": [_notice(n) for n in data["notices"]],
        "ledger_ok": ledger_ok,
    }


class StatsQuery(Schema):
    start: dt.date
    end: dt.date
    group_by: str = Field(
        "department",
        description="department / implementation（或 item）/ region / channel / day / month / total",
    )
    region: int | None = None
    department: int | None = None
    item: int | None = None
    channel: str | None = None


class FiguresOut(Schema):
    key: str | None
    label: str
    received: int
    accepted: int
    refused: int
    corrected: int
    completed: int
    on_time: int
    late: int
    online_full: int
    one_visit: int
    average_days: float | None
    p90_days: float | None
    on_time_rate: float | None
    online_share: float | None
    one_visit_share: float | None
    correction_rate: float | None
    refusal_rate: float | None


class StatsOut(Schema):
    start: dt.date
    end: dt.date
    group_by: str
    rows: list[FiguresOut]
    total: FiguresOut


@router.get("/statistics", response=StatsOut, auth=AUTH, summary="统计（按部门/事项/区划/渠道/日/月）")
def statistics(request: HttpRequest, q: Query[StatsQuery]):
    _supervise(request)
    if q.end < q.start:
        raise HttpError(422, "结束日期不能早于开始日期。")
    if (q.end - q.start).days > 3 * 366:
        raise HttpError(422, "统计期间不能超过三年。")
    group_by = None if q.group_by == "total" else stats.ALIASES.get(q.group_by, q.group_by)
    if group_by is not None and group_by not in stats.GROUPS:
        raise HttpError(422, "分组方式无效。")
    rows, total = stats.compute(
        access.scope_for(request.user),
        q.start,
        q.end,
        group_by=group_by,
        filters=stats.Filters(
            region_id=q.region, department_id=q.department, implementation_id=q.item, channel=q.channel
        ),
    )
    return {
        "start": q.start,
        "end": q.end,
        "group_by": q.group_by,
        "rows": [r.as_dict() for r in rows],
        "total": total.as_dict(),
    }


class AlertOut(Schema):
    id: int
    level: str
    case_id: int
    reference: str
    task: str | None
    due_date: dt.date
    as_head: bool
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None


def _alert(a: Alert) -> dict:
    return {
        "id": a.pk,
        "level": a.level,
        "case_id": a.application_id,
        "reference": a.application.reference,
        "task": a.task.name if a.task_id else None,
        "due_date": a.due_date,
        "as_head": a.as_head,
        "created_at": a.created_at,
        "acknowledged_at": a.acknowledged_at,
    }


@router.get("/alerts", response=list[AlertOut], auth=AUTH, summary="我的预警")
def my_alerts(request: HttpRequest, unacknowledged: bool = True):
    qs = Alert.objects.filter(recipient=request.user).select_related("application", "task")
    if unacknowledged:
        qs = qs.filter(acknowledged_at__isnull=True)
    return [_alert(a) for a in qs.order_by("-created_at")[:MAX_LIMIT]]


@router.post("/alerts/{pk}/ack", response=AlertOut, auth=AUTH, summary="确认预警")
def ack_alert(request: HttpRequest, pk: int):
    alert = Alert.objects.filter(pk=pk, recipient=request.user).select_related("application", "task").first()
    if alert is None:
        raise HttpError(404, "预警不存在。")
    return _alert(services.acknowledge(alert, request.user, request=request))


@router.get("/notices", response=list[SupervisionNoticeOut], auth=AUTH, summary="督办单列表（数据权限内）")
def notices(request: HttpRequest, status: str | None = None):
    _supervise(request)
    qs = access.notices_for(request.user).select_related("application", "department")
    out = [_notice(n) for n in qs[:MAX_LIMIT]]
    if status in NoticeStatus.values:
        out = [n for n in out if n["status"] == status]
    return out


class SupervisionNoticeIn(Schema):
    case_id: int
    requirement: str = Field(min_length=1, max_length=2000)
    respond_by: dt.date | None = Field(None, description="默认 3 个工作日后")


@router.post(
    "/notices", response={201: SupervisionNoticeOut}, auth=AUTH, summary="发出督办单（电子监察人员）"
)
def issue_notice(request: HttpRequest, payload: SupervisionNoticeIn):
    with _http_errors():
        app = access.get_case(request.user, payload.case_id)
        notice = services.issue_notice(
            app,
            supervisor=request.user,
            requirement=payload.requirement,
            respond_by=payload.respond_by,
            request=request,
        )
    return Status(201, _notice(notice))


class NoticeResponseIn(Schema):
    response: str = Field(min_length=1, max_length=4000)


@router.post(
    "/notices/{pk}/response", response=SupervisionNoticeOut, auth=AUTH, summary="书面回复督办单（部门负责人）"
)
def respond_notice(request: HttpRequest, pk: int, payload: NoticeResponseIn):
    _supervise(request)
    with _http_errors():
        notice = access.get_notice(request.user, pk)
        notice = services.respond_notice(
            notice, user=request.user, response=payload.response, request=request
        )
    return _notice(notice)


class ComplaintOut(Schema):
    id: int
    number: str
    source: str
    status: str
    about: str
    case_id: int | None
    window_id: int | None
    department: str | None
    content: str
    contact_name: str
    contact_phone: str = Field(description="脱敏")
    received_on: dt.date
    due_date: dt.date
    answer: str
    answered_at: dt.datetime | None


def _complaint(c) -> dict:
    return {
        "id": c.pk,
        "number": c.number,
        "source": c.source,
        "status": c.status,
        "about": c.about,
        "case_id": c.application_id,
        "window_id": c.window_id,
        "department": c.assigned_department.name if c.assigned_department_id else None,
        "content": c.content,
        "contact_name": c.contact_name,
        "contact_phone": c.masked_phone,
        "received_on": c.received_on,
        "due_date": c.due_date,
        "answer": c.answer,
        "answered_at": c.answered_at,
    }


@router.get("/complaints", response=list[ComplaintOut], auth=AUTH, summary="投诉列表（数据权限内）")
def complaints(request: HttpRequest, status: str | None = None):
    if not (access.is_supervisor(request.user) or access.is_department_staff(request.user)):
        raise HttpError(403, "您没有投诉处理权限。")
    qs = access.complaints_for(request.user).select_related(
        "application", "window__hall", "assigned_department"
    )
    if status in ComplaintStatus.values:
        qs = qs.filter(status=status)
    return [_complaint(c) for c in qs[:MAX_LIMIT]]


class ComplaintIn(Schema):
    case_id: int | None = None
    window_id: int | None = None
    content: str = Field(min_length=10, max_length=2000)
    contact_name: str = Field(min_length=1, max_length=60)
    contact_phone: str = Field("", max_length=11)


@router.post("/complaints", response={201: ComplaintOut}, auth=AUTH, summary="网上投诉（本人办件或窗口）")
def register_complaint(request: HttpRequest, payload: ComplaintIn):
    app = None
    if payload.case_id is not None:
        app = Application.objects.filter(pk=payload.case_id, owner=request.user).first()
        if app is None:
            raise HttpError(404, "办件不存在。")
    window = get_object_or_404(Window, pk=payload.window_id) if payload.window_id else None
    with _http_errors():
        complaint = services.register_complaint(
            content=payload.content,
            contact_name=payload.contact_name,
            contact_phone=payload.contact_phone,
            application=app,
            window=window,
            complainant=request.user,
            request=request,
        )
    return Status(201, _complaint(complaint))


class ComplaintAssignIn(Schema):
    department_id: int | None = None
    assignee_id: int | None = None


@router.post("/complaints/{pk}/assign", response=ComplaintOut, auth=AUTH, summary="交办投诉")
def assign_complaint(request: HttpRequest, pk: int, payload: ComplaintAssignIn):
    from django.contrib.auth import get_user_model

    with _http_errors():
        complaint = access.get_complaint(request.user, pk)
        department = (
            Organisation.objects.filter(pk=payload.department_id).first() if payload.department_id else None
        )
        assignee = (
            get_user_model().objects.filter(pk=payload.assignee_id).first() if payload.assignee_id else None
        )
        complaint = services.assign_complaint(
            complaint, actor=request.user, department=department, assignee=assignee, request=request
        )
    return _complaint(complaint)


class ComplaintAnswerIn(Schema):
    answer: str = Field(min_length=1, max_length=4000)


@router.post("/complaints/{pk}/answer", response=ComplaintOut, auth=AUTH, summary="答复投诉")
def answer_complaint(request: HttpRequest, pk: int, payload: ComplaintAnswerIn):
    with _http_errors():
        complaint = access.get_complaint(request.user, pk)
        complaint = services.answer_complaint(
            complaint, actor=request.user, answer=payload.answer, request=request
        )
    return _complaint(complaint)


@router.post("/complaints/{pk}/close", response=ComplaintOut, auth=AUTH, summary="办结投诉")
def close_complaint(request: HttpRequest, pk: int):
    with _http_errors():
        complaint = access.get_complaint(request.user, pk)
        complaint = services.close_complaint(complaint, actor=request.user, request=request)
    return _complaint(complaint)


class ScreenOut(Schema):
    today: str
    updated: str
    lights: dict[str, int]
    today_received: int
    today_completed: int
    month: FiguresOut
    departments: list[FiguresOut]
    open_cases: int


@router.get("/screen", response=ScreenOut, auth=AUTH, summary="大厅大屏数据")
def screen(request: HttpRequest):
    _supervise(request)
    from tongban.supervision.views import screen_data

    return screen_data(request.user)
