"""电子监察 business rules: alerts, 督办单, complaints. The only place their state changes.

Each state change is one transaction with its audit event; rule violations raise
``ValidationError`` with a Chinese message and a stable ``code``; permission failures raise
``PermissionDenied``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.accounts.models import Role, RoleAssignment, StaffProfile
from tongban.accounts.scope import scope_for
from tongban.cases.models import OPEN_STATUSES, Application, Message
from tongban.cases.notify import FIRST_RETRY_AFTER, send_sms_later
from tongban.cases.services import record_case_event
from tongban.core.audit import record_event
from tongban.core.workdays import add_working_days
from tongban.supervision import access
from tongban.supervision.conf import complaint_answer_days, notice_response_days
from tongban.supervision.models import (
    Alert,
    AlertLevel,
    Complaint,
    ComplaintSource,
    ComplaintStatus,
    SupervisionNotice,
)
from tongban.workflow.lights import Light, filter_light
from tongban.workflow.models import Task, TaskStatus

MOBILE = re.compile(r"^1[3-9]\d{9}$")


# --------------------------------------------------------------------------- staff messages


def message_staff(user, app: Application | None, title: str, body: str, *, sms: bool = True) -> Message:
    """站内信 to a member of staff, with an SMS to their work phone through the outbox (sent
    after commit, retried by ``retry_case_sms``)."""
    profile = StaffProfile.objects.filter(user=user).first()
    phone = (profile.phone if profile else "") if sms else ""
    message = Message.objects.create(
        recipient=user,
        application=app,
        title=title[:100],
        body=body,
        sms_phone=phone or "",
        sms_status=Message.SmsStatus.PENDING if phone else Message.SmsStatus.NONE,
        sms_next_attempt_at=timezone.now() + FIRST_RETRY_AFTER if phone else None,
    )
    if phone:
        send_sms_later(message.pk)
    return message


@dataclass(frozen=True)
class Staff:
    user_id: int
    region_path: str
    roles: frozenset[str]


class Directory:
    """Active staff of a department with their roles, fetched once per department per scan."""

    def __init__(self) -> None:
        self._by_department: dict[int, list[Staff]] = {}

    def staff(self, department_id: int) -> list[Staff]:
        if department_id not in self._by_department:
            profiles = list(
                StaffProfile.objects.filter(
                    department_id=department_id, is_active=True, user__is_active=True
                ).values_list("user_id", "region__path")
            )
            roles: dict[int, set[str]] = {}
            for user_id, role in RoleAssignment.objects.filter(
                user_id__in=[p[0] for p in profiles], revoked_at__isnull=True
            ).values_list("user_id", "role"):
                roles.setdefault(user_id, set()).add(role)
            self._by_department[department_id] = [
                Staff(user_id, path, frozenset(roles.get(user_id, ()))) for user_id, path in profiles
            ]
        return self._by_department[department_id]

    def supervisors_for(self, region_path: str) -> list[int]:
        """电子监察人员 (any department) whose region covers ``region_path``."""
        if not hasattr(self, "_supervisors"):
            holders = RoleAssignment.objects.filter(role=Role.SUPERVISOR, revoked_at__isnull=True).values(
                "user_id"
            )
            self._supervisors = list(
                StaffProfile.objects.filter(
                    user_id__in=holders, is_active=True, user__is_active=True
                ).values_list("user_id", "region__path")
            )
        return [user_id for user_id, path in self._supervisors if region_path.startswith(path)]

    def with_role(self, department_id: int, region_path: str, role: str) -> list[int]:
        """Staff of the department holding ``role`` whose scope covers ``region_path``."""
        return [
            s.user_id
            for s in self.staff(department_id)
            if role in s.roles and region_path.startswith(s.region_path)
        ]


def alert_recipients(task: Task | None, app: Application, directory: Directory) -> list[tuple[int, bool]]:
    """(user id, as_head): the task's assignee, or the department's staff of the task's role
    when unclaimed; and the department heads. A case-level alert goes to the heads only."""
    recipients: dict[int, bool] = {}
    if task is not None:
        path = task.region.path
        if task.assignee_id:
            recipients[task.assignee_id] = False
        else:
            for user_id in directory.with_role(task.department_id, path, task.role or Role.APPROVER):
                recipients[user_id] = False
        department_id = task.department_id
    else:
        path = app.region.path
        department_id = app.department_id
    for user_id in directory.with_role(department_id, path, Role.DEPARTMENT_HEAD):
        recipients.setdefault(user_id, True)
    return sorted(recipients.items())


LEVEL_OF = {Light.RED: AlertLevel.OVERDUE, Light.YELLOW: AlertLevel.NEAR_DUE}


def _alert_text(level: str, app: Application, task: Task | None, due: dt.date) -> tuple[str, str]:
    item = app.implementation.basic_item.name
    what = f"办件 {app.reference}（{item}）" + (f"“{task.name}”环节" if task else "法定办结期限")
    if level == AlertLevel.OVERDUE:
        return "超期报警", f"{what}已于 {due:%Y-%m-%d} 到期，现已超期，请立即办理并说明原因。"
    return "临期预警", f"{what}将于 {due:%Y-%m-%d} 到期，请抓紧办理。"


def _create_alert(*, app, task, level, due, user_id, as_head) -> Alert | None:
    title, body = _alert_text(level, app, task, due)
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                application=app, task=task, level=level, due_date=due, recipient_id=user_id, as_head=as_head
            )
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.get(pk=user_id)
            alert.message = message_staff(user, app, title, body)
            alert.save(update_fields=["message"])
    except IntegrityError:
        return None  # another scan got there first: the constraint keeps it to one alert
    return alert


def scan_alerts(today: dt.date | None = None) -> int:
    """Periodic job: alert once per threshold crossing for open tasks and open cases.

    Candidates come from ``filter_light`` (range conditions on the indexed deadlines); those
    already alerted for the same (level, deadline) are skipped with one query per batch.
    """
    today = today or timezone.localdate()
    directory = Directory()
    created = 0
    open_tasks = Task.objects.filter(
        status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED], due_date__isnull=False
    ).select_related("application__implementation__basic_item", "region")
    open_cases = Application.objects.filter(status__in=OPEN_STATUSES, deadline__isnull=False).select_related(
        "implementation__basic_item", "region"
    )
    for light, level in LEVEL_OF.items():
        tasks = filter_light(
            open_tasks, light, "due_date", paused_field="application__paused_on", today=today
        )
        for batch in _batches(tasks.order_by("pk")):
            done = set(
                Alert.objects.filter(task_id__in=[t.pk for t in batch], level=level).values_list(
                    "task_id", "recipient_id", "due_date"
                )
            )
            for task in batch:
                for user_id, as_head in alert_recipients(task, task.application, directory):
                    if (task.pk, user_id, task.due_date) in done:
                        continue
                    if _create_alert(
                        app=task.application,
                        task=task,
                        level=level,
                        due=task.due_date,
                        user_id=user_id,
                        as_head=as_head,
                    ):
                        created += 1
        cases = filter_light(open_cases, light, "deadline", paused_field="paused_on", today=today)
        for batch in _batches(cases.order_by("pk")):
            done = set(
                Alert.objects.filter(
                    application_id__in=[a.pk for a in batch], task__isnull=True, level=level
                ).values_list("application_id", "recipient_id", "due_date")
            )
            for app in batch:
                recipients = alert_recipients(None, app, directory)
                if level == AlertLevel.OVERDUE:
                    # A case past its statutory deadline is also the supervisors' business.
                    handled = {user_id for user_id, _ in recipients}
                    recipients += [
                        (user_id, True)
                        for user_id in directory.supervisors_for(app.region.path)
                        if user_id not in handled
                    ]
                for user_id, as_head in recipients:
                    if (app.pk, user_id, app.deadline) in done:
                        continue
                    if _create_alert(
                        app=app, task=None, level=level, due=app.deadline, user_id=user_id, as_head=as_head
                    ):
                        created += 1
    return created


def scan_overdue_notices(today: dt.date | None = None) -> int:
    """督办单 not answered by their date: the department heads (站内信 + SMS) and the issuing
    supervisor (站内信) are told once; the notice reads 逾期未回复 from then on (a query)."""
    from django.contrib.auth import get_user_model

    today = today or timezone.localdate()
    directory = Directory()
    users = get_user_model().objects
    told = 0
    for notice in SupervisionNotice.objects.filter(
        responded_at__isnull=True, respond_by__lt=today, overdue_notified_at__isnull=True
    ).select_related("application__region", "issued_by"):
        with transaction.atomic():
            claimed = SupervisionNotice.objects.filter(pk=notice.pk, overdue_notified_at__isnull=True).update(
                overdue_notified_at=timezone.now()
            )
            if not claimed:
                continue  # another run got there first
            app = notice.application
            text = (
                f"{notice.number}（办件 {app.reference}）回复期限 {notice.respond_by:%Y-%m-%d} 已过，"
                "尚未书面回复。"
            )
            for user_id in directory.with_role(notice.department_id, app.region.path, Role.DEPARTMENT_HEAD):
                message_staff(users.get(pk=user_id), app, "督办逾期", text + "请立即回复。")
            message_staff(notice.issued_by, app, "督办逾期", text, sms=False)
            told += 1
    return told


def scan_overdue_complaints(today: dt.date | None = None) -> int:
    """Complaints not answered by their date: the assignee and the assigned department's heads
    (站内信 + SMS) and the supervisors of the region (站内信) are told once. Unassigned ones go
    to the supervisors, who route them."""
    from django.contrib.auth import get_user_model

    today = today or timezone.localdate()
    directory = Directory()
    users = get_user_model().objects
    told = 0
    open_complaints = Complaint.objects.exclude(
        status__in=[ComplaintStatus.ANSWERED, ComplaintStatus.CLOSED]
    ).filter(due_date__lt=today, overdue_notified_at__isnull=True)
    for complaint in open_complaints.select_related("region", "application", "window__hall"):
        with transaction.atomic():
            claimed = Complaint.objects.filter(pk=complaint.pk, overdue_notified_at__isnull=True).update(
                overdue_notified_at=timezone.now()
            )
            if not claimed:
                continue  # another run got there first
            due = f"{complaint.due_date:%Y-%m-%d}"
            text = f"投诉 {complaint.number}（{complaint.about}）答复期限 {due} 已过，尚未答复。"
            path = complaint.region.path
            handlers = set()
            if complaint.assignee_id:
                handlers.add(complaint.assignee_id)
            if complaint.assigned_department_id:
                handlers.update(
                    directory.with_role(complaint.assigned_department_id, path, Role.DEPARTMENT_HEAD)
                )
            for user_id in sorted(handlers):
                message_staff(users.get(pk=user_id), complaint.application, "投诉逾期", text + "请立即答复。")
            for user_id in sorted(set(directory.supervisors_for(path)) - handlers):
                message_staff(users.get(pk=user_id), complaint.application, "投诉逾期", text, sms=False)
            told += 1
    return told


def _batches(qs, size: int = 500):
    batch = []
    for obj in qs.iterator(chunk_size=size):
        batch.append(obj)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def acknowledge(alert: Alert, user, request=None) -> Alert:
    if alert.recipient_id != user.pk:
        raise PermissionDenied("只能确认发给本人的预警。")
    if alert.acknowledged_at is None:
        with transaction.atomic():
            alert.acknowledged_at = timezone.now()
            alert.save(update_fields=["acknowledged_at"])
            record_event(
                "supervision.alert_ack",
                f"确认预警 {alert.get_level_display()} #{alert.pk}",
                actor=user,
                obj=alert,
                request=request,
            )
    return alert


# --------------------------------------------------------------------------- 督办单


def default_respond_by(today: dt.date | None = None) -> dt.date:
    return add_working_days(today or timezone.localdate(), notice_response_days()).date


def issue_notice(
    app: Application, *, supervisor, requirement: str, respond_by: dt.date | None = None, request=None
) -> SupervisionNotice:
    """督办单: recorded in the case's events (and so in its hash chain); the department heads
    get a 站内信 and an SMS."""
    if not access.is_supervisor(supervisor):
        raise PermissionDenied("只有电子监察人员可以发出督办单。")
    if not scope_for(supervisor).can_see(app, **access.CASE_FIELDS):
        raise PermissionDenied("该办件不在您的监察范围内。")
    requirement = (requirement or "").strip()
    if not requirement:
        raise ValidationError("请填写督办要求。", code="notice-requirement-required")
    today = timezone.localdate()
    respond_by = respond_by or default_respond_by(today)
    if respond_by < today:
        raise ValidationError("回复期限不能早于今天。", code="notice-respond-by-past")
    with transaction.atomic():
        notice = SupervisionNotice.objects.create(
            application=app,
            department_id=app.department_id,
            region_id=app.region_id,
            requirement=requirement,
            respond_by=respond_by,
            issued_by=supervisor,
        )
        record_case_event(
            app,
            "supervision_notice",
            app.status,
            actor=supervisor,
            reason=requirement,
            data={"notice": notice.pk, "respond_by": respond_by.isoformat()},
            request=request,
        )
        directory = Directory()
        for user_id in directory.with_role(app.department_id, app.region.path, Role.DEPARTMENT_HEAD):
            from django.contrib.auth import get_user_model

            message_staff(
                get_user_model().objects.get(pk=user_id),
                app,
                "督办通知",
                f"办件 {app.reference} 收到{notice.number}：{requirement}。"
                f"请于 {respond_by:%Y-%m-%d} 前书面回复。",
            )
    return notice


def respond_notice(notice: SupervisionNotice, *, user, response: str, request=None) -> SupervisionNotice:
    if not access.is_head(user) or not scope_for(user).can_change(
        notice, region_field="region", department_field="department"
    ):
        raise PermissionDenied("只有被督办部门的负责人可以回复督办单。")
    response = (response or "").strip()
    if not response:
        raise ValidationError("请填写书面回复。", code="notice-response-required")
    with transaction.atomic():
        notice = SupervisionNotice.objects.select_for_update().get(pk=notice.pk)
        if notice.responded_at is not None:
            raise ValidationError("该督办单已回复。", code="notice-already-responded")
        notice.response = response
        notice.responded_by = user
        notice.responded_at = timezone.now()
        notice.save(update_fields=["response", "responded_by", "responded_at"])
        app = Application.objects.get(pk=notice.application_id)
        record_case_event(
            app,
            "supervision_response",
            app.status,
            actor=user,
            reason=response,
            data={"notice": notice.pk, "late": notice.responded_at.date() > notice.respond_by},
            request=request,
        )
        message_staff(
            notice.issued_by,
            app,
            "督办回复",
            f"{notice.number}（办件 {app.reference}）已回复：{response}",
            sms=False,
        )
    return notice


# --------------------------------------------------------------------------- complaints


def register_complaint(
    *,
    content: str,
    contact_name: str,
    contact_phone: str = "",
    application: Application | None = None,
    window=None,
    complainant=None,
    source: str = ComplaintSource.PORTAL,
    request=None,
) -> Complaint:
    """登记投诉 about a case or a window; routed to the case's department (or the window's only
    department) at once, otherwise left for a supervisor to assign."""
    content = (content or "").strip()
    contact_name = (contact_name or "").strip()
    contact_phone = (contact_phone or "").strip()
    errors = []
    if (application is None) == (window is None):
        errors.append(ValidationError("请选择投诉的办件或窗口（二选一）。", code="complaint-subject"))
    if len(content) < 10:
        errors.append(ValidationError("请具体描述投诉内容（不少于10个字）。", code="complaint-content"))
    if not contact_name:
        errors.append(ValidationError("请填写联系人。", code="complaint-contact"))
    if contact_phone and not MOBILE.match(contact_phone):
        errors.append(ValidationError("请填写正确的11位手机号码。", code="complaint-phone"))
    if errors:
        raise ValidationError(errors)
    if (
        source == ComplaintSource.PORTAL
        and application is not None
        and (complainant is None or application.owner_id != complainant.pk)
    ):
        raise PermissionDenied("只能投诉本人的办件。")
    if application is not None:
        region_id, department_id = application.region_id, application.department_id
    else:
        region_id = window.hall.region_id
        orgs = list(window.organisations.values_list("pk", flat=True))
        department_id = orgs[0] if len(orgs) == 1 else None
    today = timezone.localdate()
    with transaction.atomic():
        complaint = Complaint(
            source=source,
            application=application,
            window=window,
            region_id=region_id,
            complainant=complainant,
            contact_name=contact_name,
            content=content,
            assigned_department_id=department_id,
            status=ComplaintStatus.ASSIGNED if department_id else ComplaintStatus.REGISTERED,
            received_on=today,
            due_date=add_working_days(today, complaint_answer_days()).date,
        )
        complaint.contact_phone = contact_phone
        complaint.save()
        record_event(
            "supervision.complaint_register",
            f"登记投诉 {complaint.number}",
            actor=complainant,
            obj=complaint,
            request=request,
            data={"source": source, "department": department_id},
        )
        if department_id:
            _tell_heads(complaint)
    return complaint


def _tell_heads(complaint: Complaint) -> None:
    from django.contrib.auth import get_user_model

    path = complaint.region.path
    for user_id in Directory().with_role(complaint.assigned_department_id, path, Role.DEPARTMENT_HEAD):
        message_staff(
            get_user_model().objects.get(pk=user_id),
            complaint.application,
            "投诉交办",
            f"投诉 {complaint.number} 已交办贵部门，请于 {complaint.due_date:%Y-%m-%d} 前答复。",
            sms=False,
        )


def assign_complaint(
    complaint: Complaint, *, actor, department=None, assignee=None, request=None
) -> Complaint:
    """Supervisors route a complaint to a department of their region; the department's head
    (or a supervisor) names the member of staff who answers it."""
    scope = scope_for(actor)
    if complaint.status == ComplaintStatus.CLOSED:
        raise ValidationError("投诉已办结。", code="complaint-closed")
    with transaction.atomic():
        if department is not None:
            if not access.is_supervisor(actor) or not scope.can_see(complaint, **access.COMPLAINT_FIELDS):
                raise PermissionDenied("只有电子监察人员可以交办投诉。")
            if not department.region.path.startswith(scope.region_path or "") and not scope.sees_everything:
                raise ValidationError("只能交办本区划内的部门。", code="complaint-department-scope")
            complaint.assigned_department = department
            complaint.assignee = None
            complaint.status = ComplaintStatus.ASSIGNED
        if assignee is not None:
            if not (access.is_supervisor(actor) or access.is_head(actor)) or not scope.can_see(
                complaint, **access.COMPLAINT_FIELDS
            ):
                raise PermissionDenied("只有部门负责人可以指定承办人。")
            profile = StaffProfile.objects.filter(user=assignee, is_active=True).first()
            if profile is None or profile.department_id != complaint.assigned_department_id:
                raise ValidationError("承办人须为承办部门的在岗工作人员。", code="complaint-assignee")
            complaint.assignee = assignee
            complaint.status = ComplaintStatus.ASSIGNED
        complaint.save(update_fields=["assigned_department", "assignee", "status"])
        record_event(
            "supervision.complaint_assign",
            f"交办投诉 {complaint.number}",
            actor=actor,
            obj=complaint,
            request=request,
            data={"department": complaint.assigned_department_id, "assignee": complaint.assignee_id},
        )
        if department is not None:
            _tell_heads(complaint)
    return complaint


def answer_complaint(complaint: Complaint, *, actor, answer: str, request=None) -> Complaint:
    if not scope_for(actor).can_change(complaint, **access.COMPLAINT_FIELDS):
        raise PermissionDenied("只有承办部门可以答复该投诉。")
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError("请填写答复内容。", code="complaint-answer-required")
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if complaint.status != ComplaintStatus.ASSIGNED:
            raise ValidationError("只有已交办、未答复的投诉可以答复。", code="complaint-not-open")
        complaint.answer = answer
        complaint.answered_by = actor
        complaint.answered_at = timezone.now()
        complaint.status = ComplaintStatus.ANSWERED
        complaint.save(update_fields=["answer", "answered_by", "answered_at", "status"])
        record_event(
            "supervision.complaint_answer",
            f"答复投诉 {complaint.number}",
            actor=actor,
            obj=complaint,
            request=request,
        )
        phone = complaint.contact_phone
        if complaint.complainant_id or phone:
            message = Message.objects.create(
                recipient_id=complaint.complainant_id,
                application=complaint.application,
                title="投诉答复",
                body=f"您的投诉 {complaint.number} 已答复：{answer}",
                sms_phone=phone or "",
                sms_status=Message.SmsStatus.PENDING if phone else Message.SmsStatus.NONE,
                sms_next_attempt_at=timezone.now() + FIRST_RETRY_AFTER if phone else None,
            )
            if phone:
                send_sms_later(message.pk)
    return complaint


def close_complaint(complaint: Complaint, *, actor, request=None) -> Complaint:
    if not access.is_supervisor(actor) or not scope_for(actor).can_see(complaint, **access.COMPLAINT_FIELDS):
        raise PermissionDenied("只有电子监察人员可以办结投诉。")
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if complaint.status != ComplaintStatus.ANSWERED:
            raise ValidationError("投诉答复后才能办结。", code="complaint-not-answered")
        complaint.status = ComplaintStatus.CLOSED
        complaint.closed_at = timezone.now()
        complaint.save(update_fields=["status", "closed_at"])
        record_event(
            "supervision.complaint_close",
            f"办结投诉 {complaint.number}",
            actor=actor,
            obj=complaint,
            request=request,
        )
    return complaint
