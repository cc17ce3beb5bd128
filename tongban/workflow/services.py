"""审批办理 business rules — the only place a case's back-office state changes.

Every state change is one transaction: it locks the application row (SELECT … FOR UPDATE) and,
for a task, the task row; re-checks state, permission and data scope; writes the change, a
CaseEvent (through ``cases.services.record_case_event``, so the hash chain sees it) and an
AuditEvent. Errors are ValidationErrors with a Chinese message and a stable code.

Time limits (《行政许可法》第四十二条、第四十五条):

* ``deadline`` = ``received_date`` + legal limit + approved extensions + paused working days,
  counted in working days from the day after receipt; ``promised_deadline`` likewise with the
  promised limit (extensions do not move a promise). An item without a legal limit in working
  days gets the promised deadline as its ``deadline``.
* A pause started on day S and ended on day E does not count the working days in (S, E]; the
  day the pause starts still counts. Open tasks' due dates move by the same number of days.
* Each task's due date is its share of the limit (promised if the item has one, else legal),
  counted from the day after it opened, never later than the case deadline.
"""

from __future__ import annotations

import datetime as dt
import math

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tongban.accounts.models import Role
from tongban.accounts.scope import has_role, roles_of, scope_for
from tongban.cases.hooks import application_completed
from tongban.cases.models import Application, Decision, Status
from tongban.cases.notify import notify
from tongban.cases.rows import lock_case
from tongban.cases.services import record_case_event, state_change
from tongban.core.generations import Generation
from tongban.core.models import Organisation
from tongban.core.rowcache import RowCache
from tongban.core.workdays import add_working_days, shared_calendar, working_days_between
from tongban.workflow import defaults, delivery, results
from tongban.workflow.graph import Graph
from tongban.workflow.models import (
    SPECIAL_PROCEDURES,
    Extension,
    Outcome,
    Pause,
    PauseKind,
    ProcessDefinition,
    ProcessVersion,
    ResultDocument,
    Task,
    TaskStatus,
)

#: 《行政许可法》第四十二条: 20 working days + 10 with the head's approval; 统一办理、联合办理、
#: 集中办理 45 + 15.
ORDINARY_EXTENSION_DAYS = 10
JOINT_EXTENSION_DAYS = 15
#: Case states in which the process runs (tasks can be handled).
RUNNING = (Status.IN_PROGRESS,)
HANDOVER_METHODS = {"window": "窗口领取", "post": "邮寄送达", "electronic": "电子送达"}
SYSTEM_USERNAME = "system"


def _today() -> dt.date:
    return timezone.localdate()


def _error(message: str, code: str, **params) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


def system_user():
    """The service account that automatic steps (deemed acceptance, smart approval) act as."""
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"first_name": "系统", "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


# ---------------------------------------------------------------- definitions at run time


def graph_for(app: Application) -> Graph:
    """The pinned version's graph (parsing a few dozen nodes costs microseconds)."""
    return Graph(app.process_version.graph)


def default_version() -> ProcessVersion:
    definition, _ = ProcessDefinition.objects.get_or_create(
        key=defaults.DEFAULT_KEY,
        defaults={"name": "默认审批流程（审查—审核—决定—送达）", "description": "未配置专门流程的事项使用。"},
    )
    version = definition.published
    if version is None:
        version = ProcessVersion.objects.create(
            definition=definition,
            number=1,
            status=ProcessVersion.State.PUBLISHED,
            graph=defaults.default_graph(),
            note="内置默认流程",
            published_at=timezone.now(),
        )
    version.definition = definition
    return version


#: Which version each definition has published, kept in the cache (every acceptance asks, and
#: it changes only when a version is published or retired: ``PUBLISHED`` is bumped by the
#: receivers in ``tongban.workflow.receivers``). A publication commits in the definition
#: editor's own transaction, which accepts no case, so no uncommitted version is ever pinned.
PUBLISHED = Generation("process-published")
PUBLISHED_CACHE_SECONDS = 3600
#: The process versions cases pinned, with their definitions (each step of a case reads one).
PROCESS_VERSIONS = RowCache(
    PUBLISHED, lambda pk: ProcessVersion.objects.select_related("definition").get(pk=pk)
)


def version_for(implementation) -> ProcessVersion:
    """The published version a newly accepted case of ``implementation`` pins (with its
    definition), from the cache when nothing was published since."""
    key = f"workflow:published:{PUBLISHED.current()}:{implementation.process_id or 0}"
    return cache.get_or_set(
        key, lambda: _published_version(implementation.process_id), PUBLISHED_CACHE_SECONDS
    )


def _published_version(process_id: int | None) -> ProcessVersion:
    if process_id:
        version = (
            ProcessVersion.objects.filter(definition_id=process_id, status=ProcessVersion.State.PUBLISHED)
            .select_related("definition")
            .order_by("-number")
            .first()
        )
        if version is not None:
            return version
    return default_version()


def is_joint(graph: Graph) -> bool:
    """联合办理: a parallel step involving another department."""
    return any(
        node.get("type") == "task" and node.get("department", "self") != "self"
        for node in graph.nodes.values()
    )


def max_extension_days(app: Application) -> int:
    return JOINT_EXTENSION_DAYS if is_joint(graph_for(app)) else ORDINARY_EXTENSION_DAYS


def _department_for(app: Application, node: dict) -> Organisation:
    code = node.get("department") or "self"
    if code == "self":
        return app.department
    dept = Organisation.objects.select_related("region").filter(credit_code=code).first()
    return dept or app.department


# ---------------------------------------------------------------- deadlines


def _limit_base(app: Application) -> int:
    return app.promised_limit_days or app.legal_limit_days or 0


def recompute_deadlines(app: Application) -> None:
    """Stored deadlines from the limits, extensions and pauses (no save)."""
    if app.received_date is None:
        return
    if app.legal_limit_days is not None:
        result = add_working_days(
            app.received_date, app.legal_limit_days + app.extension_days + app.paused_working_days
        )
        app.deadline, app.deadline_provisional = result.date, result.provisional
    if app.promised_limit_days is not None:
        app.promised_deadline = add_working_days(
            app.received_date, app.promised_limit_days + app.paused_working_days
        ).date
        if app.legal_limit_days is None:
            # Laws that count calendar days keep their limit as a note (catalogue); supervision
            # then watches the promise, so every case with a limit has a deadline and a light.
            result = add_working_days(app.received_date, app.promised_limit_days + app.paused_working_days)
            app.deadline, app.deadline_provisional = result.date, result.provisional


def _open_task(app: Application, graph: Graph, key: str, *, today: dt.date, actor) -> Task:
    node = graph.node(key)
    dept = _department_for(app, node)
    share = int(node.get("share") or 0)
    limit = math.ceil(_limit_base(app) * share / 100) if share else 0
    due = add_working_days(today, limit).date
    if app.deadline is not None and due > app.deadline:
        due = app.deadline
    task = Task.objects.create(
        application=app,
        node_key=key,
        name=node.get("name") or key,
        stage=node.get("stage", ""),
        role=node.get("role", Role.APPROVER),
        region_id=dept.region_id,  # the key only: no query for the region row
        department=dept,
        split_key=graph.enclosing_split().get(key, ""),
        share=share,
        limit_days=limit,
        opened_on=today,
        due_date=due,
        green_channel=app.green_channel,
    )
    record_case_event(
        app,
        "task_opened",
        app.status,
        actor=actor,
        data={"task": task.pk, "step": task.name, "department": dept.name, "due": due.isoformat()},
    )
    return task


def _enter(app: Application, graph: Graph, key: str, *, today: dt.date, actor) -> None:
    node = graph.node(key)
    kind = node.get("type")
    if kind == "task":
        _open_task(app, graph, key, today=today, actor=actor)
    elif kind == "split":
        for branch in node.get("branches") or []:
            _enter(app, graph, branch, today=today, actor=actor)
    elif kind == "join":
        _enter(app, graph, node["next"], today=today, actor=actor)
    elif kind == "end":
        _finish(app, actor=actor, today=today)


def _inside(graph: Graph, split_key: str) -> set[str]:
    """Node keys between a split and its join."""
    join = graph.join_of(split_key)
    found: set[str] = set()
    stack = list(graph.node(split_key).get("branches") or [])
    while stack:
        key = stack.pop()
        if key == join or key in found:
            continue
        found.add(key)
        stack.extend(graph.successors(key))
    return found


def _open_tasks(app: Application) -> QuerySet:
    return Task.objects.filter(application=app, status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED])


def _cancel(tasks: QuerySet, app: Application, *, actor, reason: str) -> None:
    for task in tasks.select_for_update():
        task.status = TaskStatus.CANCELLED
        task.completed_at = timezone.now()
        task.save(update_fields=["status", "completed_at"])
        record_case_event(
            app, "task_cancelled", app.status, actor=actor, reason=reason, data={"task": task.pk}
        )


# ---------------------------------------------------------------- starting


def start_process(app: Application, *, actor, request=None) -> None:
    """Called by acceptance inside its transaction (the application row is locked). The
    acceptance saves the case once, when it has its number: no full-row write here."""
    if app.process_version_id:
        return
    version = version_for(app.implementation)
    from_status = app.status
    app.process_version = version
    app.promised_limit_days = app.version.promised_limit_days
    recompute_deadlines(app)
    app.status = Status.IN_PROGRESS
    record_case_event(
        app,
        "process_started",
        from_status,
        actor=actor,
        request=request,
        data={"process": version.definition.key, "version": version.number},
    )
    graph = graph_for(app)
    _enter(app, graph, graph.start, today=_today(), actor=actor)


# ---------------------------------------------------------------- tasks


def _lock_pair(task: Task | int) -> tuple[Application, Task]:
    if isinstance(task, int):
        pk, app_id = task, Task.objects.values_list("application_id", flat=True).get(pk=task)
    else:
        pk, app_id = task.pk, task.application_id  # a task never moves to another case
    # Always application first, then task: one lock order, no deadlocks.
    app = _lock_app(app_id)
    locked = (
        Task.objects.select_for_update(of=("self",))
        .select_related("department", "region", "assignee")
        .get(pk=pk)
    )
    locked.application = app  # the same row, already read: answers need its item without a query
    return app, locked


def can_handle(user, task: Task) -> bool:
    """Holds the step's role (a head may do any step of their department) and the task is in
    the user's data scope (their department and region, or assigned to them)."""
    if user is None or not user.is_authenticated:
        return False
    scope = scope_for(user)
    if scope.sees_everything:
        return True
    if not (has_role(user, task.role) or has_role(user, Role.DEPARTMENT_HEAD)):
        return False
    return scope.can_change(
        task, region_field="region", department_field="department", assignee_field="assignee"
    )


def _require_handler(user, task: Task) -> None:
    if not can_handle(user, task):
        raise PermissionDenied("该任务不在您的办理权限范围内。")


def claim(task: Task | int, *, user, request=None) -> Task:
    with state_change():
        app, task = _lock_pair(task)
        _require_handler(user, task)
        if task.status == TaskStatus.CLAIMED and task.assignee_id == user.pk:
            return task
        if task.status != TaskStatus.OPEN:
            raise _error("该任务已被签收或已办结，不能再签收。", "task-not-open")
        task.status = TaskStatus.CLAIMED
        task.assignee = user
        task.claimed_at = timezone.now()
        task.save(update_fields=["status", "assignee", "claimed_at"])
        record_case_event(
            app, "task_claimed", app.status, actor=user, request=request, data={"task": task.pk}
        )
    return task


def release(task: Task | int, *, user, request=None) -> Task:
    with state_change():
        app, task = _lock_pair(task)
        if task.status != TaskStatus.CLAIMED or (
            task.assignee_id != user.pk and not has_role(user, Role.DEPARTMENT_HEAD)
        ):
            raise _error("只能退回本人签收的任务。", "task-not-claimed-by-you")
        _require_handler(user, task)
        task.status, task.assignee, task.claimed_at = TaskStatus.OPEN, None, None
        task.save(update_fields=["status", "assignee", "claimed_at"])
        record_case_event(
            app, "task_released", app.status, actor=user, request=request, data={"task": task.pk}
        )
    return task


@shared_calendar()  # one calendar read for every task the step opens
def complete_task(
    task: Task | int,
    *,
    user,
    outcome: str,
    opinion: str = "",
    return_to: str = "",
    handover: str = "",
    address: str = "",
    request=None,
) -> Task:
    """Approve / refuse / return one task and move the process on.

    ``outcome`` "approve" or "refuse" (at the 决定 step: the decision itself); "return" sends the
    case back to the earlier step ``return_to``. The 送达 step needs ``handover`` (window, post,
    electronic). Two approvers completing the same task: the second gets ``task-not-open``.
    """
    opinion = (opinion or "").strip()
    if outcome not in Outcome.values:
        raise _error("办理结果须为同意、不同意或退回。", "outcome-invalid")
    with state_change():
        app, task = _lock_pair(task)
        _require_handler(user, task)
        if not task.is_open:
            raise _error("该任务已办结，不能重复办理。", "task-not-open")
        if task.status == TaskStatus.CLAIMED and task.assignee_id not in (None, user.pk):
            raise _error("该任务已由其他人员签收办理。", "task-claimed-by-other")
        if app.status == Status.PAUSED:
            raise _error("办件处于暂停计时状态，请先恢复计时再办理。", "case-paused")
        after_decision = app.status == Status.DECIDED and task.stage in ("deliver", "complete")
        if app.status not in RUNNING and not after_decision:
            raise _error(
                "办件当前状态为“%(s)s”，不能办理该环节。", "case-not-running", s=app.get_status_display()
            )
        if outcome in (Outcome.REFUSE, Outcome.RETURN) and not opinion:
            raise _error("不同意或退回须填写办理意见。", "opinion-required")
        if task.stage == "decide" and not opinion:
            raise _error("作出决定须填写决定意见（准予或不予许可的理由）。", "opinion-required")
        graph = graph_for(app)
        today = _today()
        if outcome == Outcome.RETURN:
            if task.stage == "deliver":
                raise _error("送达环节不能退回。", "return-not-allowed")
            if return_to not in graph.nodes or graph.node(return_to).get("type") != "task":
                raise _error("请选择要退回的环节。", "return-target-missing")
            if not graph.precedes(return_to, task.node_key):
                raise _error("只能退回到本环节之前的环节。", "return-target-invalid")
        if task.stage == "deliver":
            if outcome != Outcome.APPROVE:
                raise _error("送达环节只能确认送达。", "deliver-outcome")
            if handover not in HANDOVER_METHODS:
                raise _error("请选择送达方式（窗口领取、邮寄送达或电子送达）。", "handover-missing")

        task.status = TaskStatus.DONE
        if task.assignee_id is None:  # (not task.assignee: that fetches the row)
            task.assignee = user
        task.claimed_at = task.claimed_at or timezone.now()
        task.completed_at = timezone.now()
        task.outcome = outcome
        task.opinion = opinion
        task.return_to = return_to if outcome == Outcome.RETURN else ""
        task.save(
            update_fields=[
                "status",
                "assignee",
                "claimed_at",
                "completed_at",
                "outcome",
                "opinion",
                "return_to",
            ]
        )
        data = {"task": task.pk, "step": task.name, "outcome": outcome, "department": task.department.name}

        if outcome == Outcome.RETURN:
            record_case_event(
                app,
                "task_returned",
                app.status,
                actor=user,
                reason=opinion,
                request=request,
                data={**data, "return_to": return_to},
            )
            _cancel(_open_tasks(app), app, actor=user, reason="办件退回，环节取消")
            _open_task(app, graph, return_to, today=today, actor=user)
            return task

        record_case_event(
            app, "task_completed", app.status, actor=user, reason=opinion, request=request, data=data
        )
        if task.stage == "decide":
            _decide(app, approved=outcome == Outcome.APPROVE, opinion=opinion, actor=user, request=request)
        if task.stage == "deliver":
            _hand_over(app, method=handover, address=address, actor=user, request=request)
        _advance(app, graph, task, outcome=outcome, today=today, actor=user)
    return task


def _advance(app: Application, graph: Graph, task: Task, *, outcome: str, today: dt.date, actor) -> None:
    nxt = graph.node(task.node_key).get("next")
    node = graph.node(nxt)
    if node.get("type") != "join":
        _enter(app, graph, nxt, today=today, actor=actor)
        return
    split = graph.split_of_join(nxt)
    inside = _inside(graph, split)
    still_open = _open_tasks(app).filter(node_key__in=inside)
    if node.get("policy") == "first_refusal" and outcome == Outcome.REFUSE:
        _cancel(still_open, app, actor=actor, reason="并联审查中已有部门不同意，其余并联环节取消")
        _enter(app, graph, node["next"], today=today, actor=actor)
    elif not still_open.exists():
        _enter(app, graph, node["next"], today=today, actor=actor)


def _decide(app: Application, *, approved: bool, opinion: str, actor, request=None) -> None:
    from_status = app.status
    app.decision = Decision.APPROVED if approved else Decision.REFUSED
    app.decision_at = timezone.now()
    app.status = Status.DECIDED
    app.save()
    documents = [
        results.issue(app, ResultDocument.Kind.APPROVAL if approved else ResultDocument.Kind.REFUSAL, opinion)
    ]
    if approved and app.version.result_is_licence:
        documents.append(results.issue(app, ResultDocument.Kind.LICENCE, opinion))
    record_case_event(
        app,
        "decide",
        from_status,
        actor=actor,
        reason=opinion,
        request=request,
        data={
            "decision": app.decision,
            "documents": [d.number for d in documents],
            "sha256": [d.sha256 for d in documents],
        },
    )
    label = "准予许可" if approved else "不予许可"
    notify(
        app, f"审批决定：{label}", f"办件 {app.case_number} 已作出{label}决定，可在个人中心查看和下载决定书。"
    )


def _hand_over(app: Application, *, method: str, address: str = "", actor, request=None) -> None:
    receipt = delivery.hand_over(app, method, address=address)
    now = timezone.now()
    app.results.filter(handed_over_at__isnull=True).update(
        handed_over_at=now, handover_method=method, handover_reference=receipt.reference[:60]
    )
    if method == "window":
        app.visits += 1  # 到现场领取结果: one more visit for the "最多跑一次" statistics
        app.save(update_fields=["visits", "updated_at"])
    record_case_event(
        app,
        "hand_over",
        app.status,
        actor=actor,
        request=request,
        data={"method": method, "label": HANDOVER_METHODS[method], "reference": receipt.reference},
    )
    notify(app, "办理结果已送达", f"办件 {app.case_number}：{receipt.note}。")


def _finish(app: Application, *, actor, today: dt.date) -> None:
    from_status = app.status
    app.status = Status.COMPLETED
    app.completed_at = timezone.now()
    if app.received_date is not None:
        spent = working_days_between(app.received_date, today) - app.paused_working_days
        app.handling_working_days = max(spent, 0)
    app.on_time = app.deadline is None or today <= app.deadline
    app.save()
    record_case_event(
        app,
        "complete",
        from_status,
        actor=actor,
        data={"handling_working_days": app.handling_working_days, "on_time": app.on_time},
    )
    notify(app, "办件已办结", f"办件 {app.case_number} 已办结。")
    application_completed.send(sender=Application, application=app)


# ---------------------------------------------------------------- pauses and extensions


def _lock_app(app: Application | int) -> Application:
    """The case row, locked, with its rows and its process version (``tongban.cases.rows``)."""
    return lock_case(app if isinstance(app, int) else app.pk, process_version=PROCESS_VERSIONS)


def can_manage_case(user, app: Application) -> bool:
    """Staff of the implementing department (or holding one of its open tasks) may pause the clock
    and request an extension."""
    scope = scope_for(user)
    if scope.sees_everything:
        return True
    if scope.read_only:
        return False
    if scope.can_change(app, region_field="region", department_field="department"):
        return True
    return any(can_handle(user, t) for t in _open_tasks(app).select_related("department", "region"))


def _require_manager(user, app: Application) -> None:
    if not can_manage_case(user, app):
        raise PermissionDenied("该办件不在您的办理权限范围内。")


@shared_calendar()
def start_pause(
    app: Application | int,
    *,
    user,
    kind: str,
    reason: str,
    expected_end: dt.date | None = None,
    request=None,
) -> Pause:
    """暂停计时: 特别程序 (Art. 45, the applicant is told in writing) or 补正/挂起 during review."""
    reason = (reason or "").strip()
    if kind not in PauseKind.values:
        raise _error("请选择暂停计时的类别。", "pause-kind-invalid")
    if not reason:
        raise _error("暂停计时须写明理由。", "pause-reason-missing")
    with state_change():
        app = _lock_app(app)
        _require_manager(user, app)
        if app.status == Status.PAUSED:
            raise _error("办件已处于暂停计时状态。", "already-paused")
        if app.status not in RUNNING:
            raise _error(
                "办件当前状态为“%(s)s”，不能暂停计时。", "case-not-running", s=app.get_status_display()
            )
        today = _today()
        if expected_end is not None and expected_end < today:
            raise _error("预计结束日期不能早于今天。", "pause-end-past")
        pause = Pause.objects.create(
            application=app,
            kind=kind,
            reason=reason,
            started_on=today,
            expected_end=expected_end,
            started_by=user,
        )
        if kind in SPECIAL_PROCEDURES:
            pdf = results.pause_notice_pdf(app, pause)
            pause.notice.save(f"pause-{pause.pk}.pdf", ContentFile(pdf), save=True)
        from_status = app.status
        app.status = Status.PAUSED
        app.paused_on = today
        app.save()
        record_case_event(
            app,
            "pause",
            from_status,
            actor=user,
            reason=reason,
            request=request,
            data={"pause": pause.pk, "kind": kind, "label": pause.get_kind_display()},
        )
        notify(
            app,
            "办件暂停计时告知",
            f"办件 {app.case_number} 因{pause.get_kind_display()}暂停计时，"
            f"所需时间不计入办理时限。理由：{reason}",
        )
    return pause


@shared_calendar()
def end_pause(app: Application | int, *, user, request=None) -> Pause:
    with state_change():
        app = _lock_app(app)
        _require_manager(user, app)
        if app.status != Status.PAUSED:
            raise _error("办件未处于暂停计时状态。", "not-paused")
        pause = Pause.objects.select_for_update().filter(application=app, ended_on__isnull=True).latest("id")
        today = _today()
        days = max(working_days_between(pause.started_on, today), 0)
        counted = pause.kind in SPECIAL_PROCEDURES and app.version.special_procedures_counted
        pause.ended_on, pause.ended_by = today, user
        pause.working_days = 0 if counted else days
        pause.save()
        if pause.working_days:
            app.paused_working_days += pause.working_days
            recompute_deadlines(app)
            for task in _open_tasks(app).select_for_update():
                if task.due_date is not None:
                    task.due_date = add_working_days(task.due_date, pause.working_days).date
                    task.save(update_fields=["due_date"])
        app.status = Status.IN_PROGRESS
        app.paused_on = None
        app.save()
        record_case_event(
            app,
            "resume",
            Status.PAUSED,
            actor=user,
            request=request,
            data={"pause": pause.pk, "working_days": pause.working_days, "deadline": str(app.deadline or "")},
        )
        notify(app, "办件恢复计时", f"办件 {app.case_number} 已恢复计时，办结期限为 {app.deadline or '—'}。")
    return pause


@shared_calendar()
def request_extension(app: Application | int, *, user, days: int, reason: str, request=None) -> Extension:
    reason = (reason or "").strip()
    if not isinstance(days, int) or days < 1:
        raise _error("延长天数须为正整数（工作日）。", "extension-days-invalid")
    if not reason:
        raise _error("申请延期须写明理由。", "extension-reason-missing")
    with state_change():
        app = _lock_app(app)
        _require_manager(user, app)
        if app.status not in (Status.IN_PROGRESS, Status.PAUSED):
            raise _error(
                "办件当前状态为“%(s)s”，不能申请延期。", "case-not-running", s=app.get_status_display()
            )
        if app.legal_limit_days is None:
            raise _error("该事项没有法定办结时限，无需延期。", "extension-no-limit")
        if Extension.objects.filter(application=app, status=Extension.State.REQUESTED).exists():
            raise _error("已有待审批的延期申请。", "extension-pending")
        allowed = max_extension_days(app)
        if app.extension_days + days > allowed:
            raise _error(
                "依《行政许可法》第四十二条，本事项最多可延长%(max)s个工作日，已延长%(used)s个工作日，"
                "本次最多还可申请%(left)s个工作日。",
                "extension-beyond-limit",
                max=allowed,
                used=app.extension_days,
                left=allowed - app.extension_days,
            )
        ext = Extension.objects.create(application=app, days=days, reason=reason, requested_by=user)
        record_case_event(
            app,
            "extension_requested",
            app.status,
            actor=user,
            reason=reason,
            request=request,
            data={"extension": ext.pk, "days": days},
        )
    return ext


@shared_calendar()
def decide_extension(ext: Extension | int, *, head, approve: bool, note: str = "", request=None) -> Extension:
    """部门负责人批准/不批准延期 — not the person who asked (four eyes)."""
    pk = ext if isinstance(ext, int) else ext.pk
    with state_change():
        app_id = Extension.objects.values_list("application_id", flat=True).get(pk=pk)
        app = _lock_app(app_id)
        ext = Extension.objects.select_for_update().get(pk=pk)
        scope = scope_for(head)
        if not (
            scope.can_approve_extensions
            and scope.can_change(app, region_field="region", department_field="department")
        ):
            raise PermissionDenied("只有本部门负责人可以审批延期。")
        if ext.status != Extension.State.REQUESTED:
            raise _error("该延期申请已审批。", "extension-decided")
        if ext.requested_by_id == head.pk:
            raise _error("不能审批本人提出的延期申请。", "extension-self-approval")
        if approve and app.extension_days + ext.days > max_extension_days(app):
            raise _error("超过法定可延长的期限。", "extension-beyond-limit")
        ext.status = Extension.State.APPROVED if approve else Extension.State.REJECTED
        ext.decided_by, ext.decided_at, ext.decision_note = head, timezone.now(), (note or "").strip()[:200]
        ext.save()
        if approve:
            app.extension_days += ext.days
            recompute_deadlines(app)
            app.save()
            notify(
                app,
                "办件延期告知",
                f"办件 {app.case_number} 经负责人批准延长 {ext.days} 个工作日，"
                f"办结期限为 {app.deadline}。理由：{ext.reason}",
            )
        record_case_event(
            app,
            "extension_approved" if approve else "extension_rejected",
            app.status,
            actor=head,
            reason=ext.decision_note,
            request=request,
            data={"extension": ext.pk, "days": ext.days, "deadline": str(app.deadline or "")},
        )
    return ext


def set_green_channel(app: Application | int, *, user, reason: str, request=None) -> Application:
    """特事特办: a department head puts a case first in every queue."""
    reason = (reason or "").strip()
    if not reason:
        raise _error("开通绿色通道须写明理由。", "green-reason-missing")
    with state_change():
        app = _lock_app(app)
        scope = scope_for(user)
        if not (
            scope.can_approve_extensions
            and scope.can_change(app, region_field="region", department_field="department")
        ):
            raise PermissionDenied("只有本部门负责人可以开通绿色通道。")
        app.green_channel = True
        app.save(update_fields=["green_channel", "updated_at"])
        Task.objects.filter(application=app).update(green_channel=True)
        record_case_event(app, "green_channel", app.status, actor=user, reason=reason, request=request)
    return app


# ---------------------------------------------------------------- queries


def task_queue(user, *, statuses=(TaskStatus.OPEN, TaskStatus.CLAIMED)) -> QuerySet:
    """Tasks the user may handle: data scope + role; green channel first, then by due date."""
    qs = Task.objects.filter(status__in=statuses).select_related(
        "application__implementation__basic_item", "department", "assignee"
    )
    scope = scope_for(user)
    qs = scope.filter(
        qs, region_field="region", department_field="department", assignee_field="assignee", write=True
    )
    if not scope.sees_everything and not has_role(user, Role.DEPARTMENT_HEAD):
        qs = qs.filter(role__in=roles_of(user)) | qs.filter(assignee=user)
    return qs.order_by("-green_channel", "due_date", "id")


def recompute_provisional_task_dates(year: int) -> int:
    """A newly loaded holiday schedule: task due dates that ran into ``year`` are recomputed."""
    count = 0
    for task in _tasks_into(year):
        with transaction.atomic():
            app = _lock_app(task.application_id)
            task = Task.objects.select_for_update().get(pk=task.pk)
            if not task.is_open:
                continue
            paused = sum(
                p.working_days
                for p in app.pauses.filter(ended_on__isnull=False, started_on__gte=task.opened_on)
            )
            due = add_working_days(task.opened_on, task.limit_days + paused).date
            if app.deadline is not None and due > app.deadline:
                due = app.deadline
            if due != task.due_date:
                task.due_date = due
                task.save(update_fields=["due_date"])
                count += 1
    return count


def _tasks_into(year: int):
    return Task.objects.filter(status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED], due_date__year__gte=year)
