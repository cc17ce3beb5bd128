"""审批办理 API — approvers' queues and actions for department systems and the mobile workbench.

Errors are ``{"code","message"}``: 422 a rule is broken (Chinese message, stable code), 403 no
permission, 404 not found or outside the data scope.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from tongban.accounts.api import AUTH
from tongban.accounts.scope import scope_for
from tongban.cases.models import Application
from tongban.cases.rows import DEPARTMENTS, PERSONAL_COLUMNS, read_case
from tongban.core.api import forbidden_as_403
from tongban.core.rowcache import attach
from tongban.workflow import services
from tongban.workflow.lights import Light, annotate_light, light_of
from tongban.workflow.models import Extension, Task

router = Router(tags=["审批办理"])


class TaskOut(Schema):
    id: int
    case_number: str | None
    item_name: str
    step: str = Field(description="环节名称")
    stage: str = Field(description="环节类别：review/audit/joint/decide/complete/deliver")
    department: str
    status: str
    assignee: str | None
    opened_on: dt.date
    due_date: dt.date | None
    limit_days: int
    share: int
    light: str = Field(description="green 绿灯 / yellow 黄灯（临期）/ red 红灯（超期）")
    green_channel: bool
    outcome: str
    opinion: str


class PauseOut(Schema):
    kind: str
    kind_name: str
    reason: str
    started_on: dt.date
    ended_on: dt.date | None
    working_days: int


class ExtensionOut(Schema):
    id: int
    days: int
    reason: str
    status: str
    decision_note: str


class ResultOut(Schema):
    id: int
    kind: str
    kind_name: str
    number: str
    sha256: str
    handed_over_at: dt.datetime | None
    handover_reference: str = Field(description="送达凭证：运单号等")


class ProcessOut(Schema):
    case_number: str | None
    status: str
    status_name: str
    process: str | None
    version: int | None
    received_date: dt.date | None
    deadline: dt.date | None
    promised_deadline: dt.date | None
    light: str
    paused_working_days: int
    extension_days: int
    decision: str
    tasks: list[TaskOut]
    pauses: list[PauseOut]
    extensions: list[ExtensionOut]
    results: list[ResultOut]


def _task_out(task: Task, light: str | None = None) -> dict:
    app = task.application
    return {
        "id": task.pk,
        "case_number": app.case_number,
        "item_name": app.implementation.basic_item.name,
        "step": task.name,
        "stage": task.stage,
        "department": task.department.name,
        "status": task.status,
        "assignee": task.assignee.get_full_name() or task.assignee.username if task.assignee else None,
        "opened_on": task.opened_on,
        "due_date": task.due_date,
        "limit_days": task.limit_days,
        "share": task.share,
        "light": light or getattr(task, "light", None) or light_of(task.due_date, paused_on=app.paused_on),
        "green_channel": task.green_channel,
        "outcome": task.outcome,
        "opinion": task.opinion,
    }


def _task(request: HttpRequest, pk: int, *, for_change: bool = False) -> Task:
    """``for_change``: only what the visibility check needs — the service locks the task and
    its case and reads both whole."""
    if for_change:
        tasks = Task.objects.select_related("region").only(
            "application", "department", "assignee", "region", "region__path"
        )
    else:
        tasks = Task.objects.select_related(
            "application__implementation__basic_item", "department", "assignee", "region"
        )
    task = tasks.filter(pk=pk).first()
    if task is None or not scope_for(request.user).can_see(
        task, region_field="region", department_field="department", assignee_field="assignee"
    ):
        raise HttpError(404, "任务不存在。")
    return task


def _case(request: HttpRequest, pk: int, *, defer: tuple[str, ...] = ()) -> Application:
    app = read_case(pk, defer=defer, process_version=services.PROCESS_VERSIONS)
    visible = app is not None and (
        scope_for(request.user).can_see(app, region_field="region", department_field="department")
        or Task.objects.filter(application=app)
        .filter(
            pk__in=scope_for(request.user).filter(Task.objects.all(), assignee_field="assignee").values("pk")
        )
        .exists()
    )
    if not visible:
        raise HttpError(404, "办件不存在。")
    return app


@router.get("/tasks", response=list[TaskOut], auth=AUTH, summary="审批任务队列（数据权限内，绿色通道优先）")
def tasks(request: HttpRequest, light: Literal["green", "yellow", "red"] | None = None, mine: bool = False):
    qs = services.task_queue(request.user)
    if mine:
        qs = qs.filter(assignee=request.user)
    qs = annotate_light(qs, "due_date", paused_field="application__paused_on")
    if light:
        qs = qs.filter(light=light)
    return [_task_out(t) for t in qs[:200]]


@router.get("/tasks/{pk}", response=TaskOut, auth=AUTH, summary="任务详情")
def task(request: HttpRequest, pk: int):
    return _task_out(_task(request, pk))


@router.post("/tasks/{pk}/claim", response=TaskOut, auth=AUTH, summary="签收任务")
def claim(request: HttpRequest, pk: int):
    with forbidden_as_403():
        return _task_out(
            services.claim(_task(request, pk, for_change=True), user=request.user, request=request)
        )


@router.post("/tasks/{pk}/release", response=TaskOut, auth=AUTH, summary="退回任务池")
def release(request: HttpRequest, pk: int):
    with forbidden_as_403():
        return _task_out(
            services.release(_task(request, pk, for_change=True), user=request.user, request=request)
        )


class CompleteIn(Schema):
    outcome: Literal["approve", "refuse", "return"] = Field(
        description="同意/不同意/退回（决定环节即准予/不予许可）"
    )
    opinion: str = Field("", max_length=2000)
    return_to: str = Field("", max_length=60, description="退回至的环节标识（outcome=return 时）")
    handover: Literal["", "window", "post", "electronic"] = Field("", description="送达方式（送达环节）")
    address: str = Field("", max_length=200, description="收件地址（邮寄送达）")


@router.post("/tasks/{pk}/complete", response=TaskOut, auth=AUTH, summary="办理任务（同意/不同意/退回/送达）")
def complete(request: HttpRequest, pk: int, payload: CompleteIn):
    with forbidden_as_403():
        done = services.complete_task(
            _task(request, pk, for_change=True),
            user=request.user,
            outcome=payload.outcome,
            opinion=payload.opinion,
            return_to=payload.return_to,
            handover=payload.handover,
            address=payload.address,
            request=request,
        )
    return _task_out(done)  # carries its locked case, as completed


def _process_out(app: Application, *, changed: bool = True) -> dict:
    """``changed``: a service has changed the case since it was read (reads it again)."""
    if changed:
        app.refresh_from_db()
    # Their case is already read: each task's light comes from its due date and the case's
    # pause (``light_of``), its department from the row cache; only the assignee is joined.
    tasks = list(Task.objects.filter(application=app).select_related("assignee").order_by("id"))
    for task in tasks:
        task.application = app
        attach(task, department=DEPARTMENTS)
    return {
        "case_number": app.case_number,
        "status": app.status,
        "status_name": app.get_status_display(),
        "process": app.process_version.definition.name if app.process_version_id else None,
        "version": app.process_version.number if app.process_version_id else None,
        "received_date": app.received_date,
        "deadline": app.deadline,
        "promised_deadline": app.promised_deadline,
        "light": light_of(app.deadline, paused_on=app.paused_on),
        "paused_working_days": app.paused_working_days,
        "extension_days": app.extension_days,
        "decision": app.decision,
        "tasks": [_task_out(t) for t in tasks],
        "pauses": [
            {
                "kind": p.kind,
                "kind_name": p.get_kind_display(),
                "reason": p.reason,
                "started_on": p.started_on,
                "ended_on": p.ended_on,
                "working_days": p.working_days,
            }
            for p in app.pauses.all()
        ],
        "extensions": [
            {
                "id": e.pk,
                "days": e.days,
                "reason": e.reason,
                "status": e.status,
                "decision_note": e.decision_note,
            }
            for e in app.extensions.all()
        ],
        "results": [
            {
                "id": r.pk,
                "kind": r.kind,
                "kind_name": r.get_kind_display(),
                "number": r.number,
                "sha256": r.sha256,
                "handed_over_at": r.handed_over_at,
                "handover_reference": r.handover_reference,
            }
            for r in app.results.all()
        ],
    }


@router.get("/cases/{pk}", response=ProcessOut, auth=AUTH, summary="办件审批过程（环节、暂停、延期、结果）")
def process(request: HttpRequest, pk: int):
    # The process shows no personal data: the applicant's encrypted columns are not read.
    return _process_out(_case(request, pk, defer=PERSONAL_COLUMNS), changed=False)


class PauseIn(Schema):
    kind: Literal[
        "hearing",
        "tender",
        "auction",
        "inspection",
        "testing",
        "quarantine",
        "appraisal",
        "expert_review",
        "correction",
        "suspension",
    ] = Field(description="听证/招标/拍卖/检验/检测/检疫/鉴定/专家评审（第四十五条）或审查中补正/挂起")
    reason: str = Field(min_length=1, max_length=2000)
    expected_end: dt.date | None = None


@router.post("/cases/{pk}/pause", response=ProcessOut, auth=AUTH, summary="暂停计时")
def pause(request: HttpRequest, pk: int, payload: PauseIn):
    app = _case(request, pk)
    with forbidden_as_403():
        services.start_pause(
            app,
            user=request.user,
            kind=payload.kind,
            reason=payload.reason,
            expected_end=payload.expected_end,
            request=request,
        )
    return _process_out(app)


@router.post("/cases/{pk}/resume", response=ProcessOut, auth=AUTH, summary="恢复计时")
def resume(request: HttpRequest, pk: int):
    app = _case(request, pk)
    with forbidden_as_403():
        services.end_pause(app, user=request.user, request=request)
    return _process_out(app)


class ExtensionIn(Schema):
    days: int = Field(ge=1, le=60, description="延长的工作日数")
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/cases/{pk}/extensions", response={201: ExtensionOut}, auth=AUTH, summary="申请延期")
def extend(request: HttpRequest, pk: int, payload: ExtensionIn):
    app = _case(request, pk)
    with forbidden_as_403():
        ext = services.request_extension(
            app, user=request.user, days=payload.days, reason=payload.reason, request=request
        )
    return Status(
        201,
        {
            "id": ext.pk,
            "days": ext.days,
            "reason": ext.reason,
            "status": ext.status,
            "decision_note": "",
        },
    )


class ExtensionDecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=200)


@router.post("/extensions/{pk}/decide", response=ExtensionOut, auth=AUTH, summary="部门负责人审批延期")
def decide_extension(request: HttpRequest, pk: int, payload: ExtensionDecisionIn):
    ext = Extension.objects.filter(pk=pk).first()
    if ext is None:
        raise HttpError(404, "延期申请不存在。")
    _case(request, ext.application_id)
    with forbidden_as_403():
        ext = services.decide_extension(
            ext, head=request.user, approve=payload.approve, note=payload.note, request=request
        )
    return {
        "id": ext.pk,
        "days": ext.days,
        "reason": ext.reason,
        "status": ext.status,
        "decision_note": ext.decision_note,
    }


__all__ = ["Light", "router"]
