"""审批工作台 pages: thin views over services.py (approvers, heads, window clerks; applicants'
result downloads)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tongban.accounts.scope import scope_for
from tongban.accounts.views_staff import staff_required
from tongban.cases import access
from tongban.cases import services as cases
from tongban.core.pages import errors_to_messages
from tongban.ledger.views import verification_context
from tongban.workflow import services
from tongban.workflow.graph import STAGES
from tongban.workflow.lights import Light, annotate_light, light_of
from tongban.workflow.models import Extension, PauseKind, ResultDocument, Task, TaskStatus

WORKFLOW_ROLES = ("approver", "department_head", "window_clerk", "system_admin")


def _task_for(user, pk: int) -> Task:
    task = (
        Task.objects.select_related("application__implementation__basic_item", "department", "region")
        .filter(pk=pk)
        .first()
    )
    if task is None or not scope_for(user).can_see(
        task, region_field="region", department_field="department", assignee_field="assignee"
    ):
        raise Http404("任务不存在")
    return task


@staff_required(*WORKFLOW_ROLES)
def queue(request: HttpRequest) -> HttpResponse:
    mine = request.GET.get("show") == "mine"
    tasks = services.task_queue(request.user)
    if mine:
        tasks = tasks.filter(assignee=request.user)
    tasks = annotate_light(tasks, "due_date", paused_field="application__paused_on")
    light = request.GET.get("light")
    if light in {Light.GREEN, Light.YELLOW, Light.RED}:
        tasks = tasks.filter(light=light)
    pending = Extension.objects.none()
    if scope_for(request.user).can_approve_extensions:
        pending = scope_for(request.user).filter(
            Extension.objects.filter(status=Extension.State.REQUESTED).select_related(
                "application", "requested_by"
            ),
            region_field="application__region",
            department_field="application__department",
            write=True,
        )
    return render(
        request,
        "workflow/queue.html",
        {"tasks": tasks[:200], "mine": mine, "light": light, "labels": Light.LABELS, "pending": pending[:50]},
    )


@staff_required(*WORKFLOW_ROLES)
@errors_to_messages(back_to_referer=False)
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_for(request.user, pk)
    app = task.application
    if request.method == "POST":
        action = request.POST.get("action")
        user = request.user
        if action == "claim":
            services.claim(task, user=user, request=request)
            messages.success(request, "已签收。")
        elif action == "release":
            services.release(task, user=user, request=request)
            messages.success(request, "已退回任务池。")
        elif action in {"approve", "refuse", "return"}:
            services.complete_task(
                task,
                user=user,
                outcome=action,
                opinion=request.POST.get("opinion", ""),
                return_to=request.POST.get("return_to", ""),
                handover=request.POST.get("handover", ""),
                address=request.POST.get("address", ""),
                request=request,
            )
            messages.success(request, "已办理。")
            return redirect("workflow:queue")
        elif action == "pause":
            expected = request.POST.get("expected_end") or None
            services.start_pause(
                app,
                user=user,
                kind=request.POST.get("kind", ""),
                reason=request.POST.get("reason", ""),
                expected_end=_date(expected),
                request=request,
            )
            messages.success(request, "已暂停计时，并已书面告知申请人。")
        elif action == "resume":
            services.end_pause(app, user=user, request=request)
            messages.success(request, "已恢复计时。")
        elif action == "extend":
            services.request_extension(
                app,
                user=user,
                days=_int(request.POST.get("days")),
                reason=request.POST.get("reason", ""),
                request=request,
            )
            messages.success(request, "已提交延期申请，待部门负责人审批。")
        elif action == "green":
            services.set_green_channel(app, user=user, reason=request.POST.get("reason", ""), request=request)
            messages.success(request, "已开通绿色通道。")
        return redirect("workflow:task", task.pk)
    return render(request, "workflow/task.html", _case_context(request, app, task))


def _case_context(request, app, task=None) -> dict:
    graph = services.graph_for(app) if app.process_version_id else None
    returnable = []
    if task is not None and graph is not None and task.stage != "deliver":
        returnable = [
            (key, graph.node(key).get("name", key))
            for key in graph.task_keys()
            if key != task.node_key and graph.precedes(key, task.node_key)
        ]
    tasks = annotate_light(
        Task.objects.filter(application=app).select_related("department", "assignee"),
        "due_date",
        paused_field="application__paused_on",
    ).order_by("id")
    return {
        "app": app,
        "task": task,
        "tasks": tasks,
        "case_light": light_of(app.deadline, paused_on=app.paused_on),
        "labels": Light.LABELS,
        "fields": _masked_fields(app),
        "pauses": app.pauses.all(),
        "extensions": app.extensions.select_related("requested_by", "decided_by"),
        "results": app.results.all(),
        "events": app.events.select_related("actor"),
        "returnable": returnable,
        "pause_kinds": PauseKind.choices,
        "handover_methods": services.HANDOVER_METHODS.items(),
        "stages": STAGES,
        "can_handle": task is not None and task.is_open and services.can_handle(request.user, task),
        "is_head": scope_for(request.user).can_approve_extensions,
        "max_extension": services.max_extension_days(app) if app.process_version_id else 0,
        "TaskStatus": TaskStatus,
        **verification_context(app),
    }


def _masked_fields(app) -> list[tuple[str, str]]:
    from tongban.catalog.forms_schema import compose_schema

    schema = compose_schema(app.version)
    data = cases.masked_form_data(app)
    return [
        (prop.get("title", name), data.get(name, "")) for name, prop in schema.get("properties", {}).items()
    ]


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError("日期格式应为 YYYY-MM-DD。", code="date-invalid") from exc


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError as exc:
        raise ValidationError("延长天数须为正整数（工作日）。", code="extension-days-invalid") from exc


@staff_required("department_head", "system_admin")
@require_POST
def decide_extension(request: HttpRequest, pk: int) -> HttpResponse:
    ext = get_object_or_404(Extension, pk=pk)
    try:
        services.decide_extension(
            ext,
            head=request.user,
            approve=request.POST.get("action") == "approve",
            note=request.POST.get("note", ""),
            request=request,
        )
        messages.success(request, "已审批延期申请。")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("workflow:queue")


@login_required
def result_download(request: HttpRequest, pk: int) -> FileResponse:
    """The applicant (or staff in scope) downloads a decision document."""
    doc = get_object_or_404(ResultDocument.objects.select_related("application"), pk=pk)
    access.get_for(request.user, doc.application_id)
    return FileResponse(
        doc.file.open("rb"), as_attachment=True, filename=f"{doc.get_kind_display()}-{doc.number}.pdf"
    )


@login_required
def pause_notice(request: HttpRequest, pk: int, pause_id: int) -> FileResponse:
    app = access.get_for(request.user, pk)
    pause = get_object_or_404(app.pauses, pk=pause_id)
    if not pause.notice:
        raise Http404("没有告知书")
    return FileResponse(
        pause.notice.open("rb"), as_attachment=True, filename=f"特别程序告知书-{app.case_number}.pdf"
    )
