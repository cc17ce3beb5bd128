"""办件受理 business rules — the only place an application changes state.

Every state change is one transaction that locks the application row (SELECT … FOR UPDATE),
re-checks the status, writes a CaseEvent and an AuditEvent, and tells the applicant. Errors are
django ValidationErrors with a Chinese message and a stable code (the API turns them into 422).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.accounts.crypto import blind_index
from tongban.accounts.models import Person
from tongban.accounts.scope import scope_for
from tongban.cases import notices, uploads
from tongban.cases.hooks import application_completed, case_events_recorded
from tongban.cases.models import Application, CaseEvent, Channel, CorrectionNotice, MaterialFile, Status
from tongban.cases.notify import notify
from tongban.cases.numbering import next_case_number
from tongban.cases.rows import lock_case
from tongban.catalog.forms_schema import validate_submission
from tongban.catalog.models import Material
from tongban.catalog.services import evaluate_situations, situation_parts
from tongban.core.audit import audit_entry
from tongban.core.identifiers import mask_mobile, mask_resident_id
from tongban.core.models import AuditEvent
from tongban.core.workdays import add_working_days, shared_calendar

#: 《行政许可法》第三十二条: corrections must be requested within five working days of receipt.
CORRECTION_WINDOW_DAYS = 5

#: 网办深度 from which an item can be applied for online (三级 在线预审, 四级 全程网办).
ONLINE_APPLICATION_DEPTH = 3

#: Which actions are allowed from which status.
TRANSITIONS: dict[str, set[str]] = {
    "submit": {Status.DRAFT},
    "request_corrections": {Status.SUBMITTED},
    "resubmit": {Status.CORRECTION_REQUESTED},
    "accept": {Status.SUBMITTED},
    "accept_with_gaps": {Status.SUBMITTED},
    "refuse": {Status.SUBMITTED},
    "complete_on_the_spot": {Status.SUBMITTED},
    "edit": {Status.DRAFT, Status.CORRECTION_REQUESTED},
}
ACTION_NAMES = {
    "submit": "提交",
    "request_corrections": "一次性告知补正",
    "resubmit": "补正后重新提交",
    "accept": "受理",
    "accept_with_gaps": "容缺受理",
    "refuse": "不予受理",
    "complete_on_the_spot": "即办办结",
    "edit": "修改申请",
}
STAFF_ACTIONS = {"request_corrections", "accept", "accept_with_gaps", "refuse", "complete_on_the_spot"}


# ---------------------------------------------------------------- helpers


def _today() -> dt.date:
    return timezone.localdate()


def _check_transition(app: Application, action: str) -> None:
    if app.status not in TRANSITIONS[action]:
        raise ValidationError(
            "该申请当前状态为“%(s)s”，不能%(a)s。",
            code="invalid-transition",
            params={"s": app.get_status_display(), "a": ACTION_NAMES[action]},
        )


def _lock(app: Application | int) -> Application:
    return lock_case(app if isinstance(app, int) else app.pk)


def _require_scope(clerk, app: Application, *, one_window: bool = False) -> None:
    if not clerk.has_perm("cases.accept_application"):
        raise PermissionDenied("您没有办件受理权限。")
    if one_window:
        return  # 一件事一窗受理: tongban.bundles checked the clerk's scope over the whole bundle
    if not scope_for(clerk).can_change(app, region_field="region", department_field="department"):
        raise PermissionDenied("该办件不在您的数据权限范围内。")


#: The events of the state change running in this context (``state_change``), not yet written.
_pending_events: ContextVar[list[tuple[CaseEvent, AuditEvent]] | None] = ContextVar(
    "tongban_pending_case_events", default=None
)


@contextmanager
def state_change() -> Iterator[None]:
    """One transaction for one state change of one or more cases, whose case events are written
    together when it ends: one INSERT for the events, one for their audit rows and three
    statements per case for the hash chain — instead of five statements for every event (an
    acceptance records three, a step that opens parallel branches four or more).

    Inside another ``state_change`` it joins the outer one, without a savepoint of its own (two
    round trips): an error inside fails the whole change, which is what a state change is.
    """
    if _pending_events.get() is not None:
        with transaction.atomic(savepoint=False):
            yield
        return
    with transaction.atomic():
        pending: list[tuple[CaseEvent, AuditEvent]] = []
        token = _pending_events.set(pending)
        try:
            yield
            _write_events(pending)
        finally:
            _pending_events.reset(token)


def _write_events(pending: list[tuple[CaseEvent, AuditEvent]]) -> None:
    if not pending:
        return
    for event, entry in pending:  # the audit row repeats the event's final data
        entry.data = {"from": event.from_status, "to": event.to_status, **event.data}
    events = CaseEvent.objects.bulk_create([event for event, _ in pending])
    case_events_recorded.send(sender=CaseEvent, events=events)
    AuditEvent.objects.bulk_create([entry for _, entry in pending])


def record_case_event(
    app: Application, action: str, from_status: str, *, actor=None, reason: str = "", data=None, request=None
) -> CaseEvent:
    """Record one CaseEvent (+ audit event) for a state change already applied to ``app``.

    Every app that changes a case (workflow, bundles, supervision) records through here, so the
    ledger's hash chain sees every event. Inside ``state_change`` the event is written when the
    change ends (it has no id until then); outside, at once.
    """
    acting_for_owner = actor is not None and app.owner_id and actor.pk != app.owner_id
    on_behalf_of_id = app.owner_id if acting_for_owner else None
    event = CaseEvent(
        application=app,
        action=action,
        from_status=from_status,
        to_status=app.status,
        actor=actor,
        on_behalf_of_id=on_behalf_of_id,
        reason=reason,
        data=data or {},
    )
    entry = audit_entry(
        f"cases.{action}",
        f"{ACTION_NAMES.get(action, action)} {app.reference}",
        actor=actor,
        on_behalf_of_id=on_behalf_of_id,
        obj=app,
        request=request,
    )
    pending = _pending_events.get()
    if pending is None:
        with transaction.atomic(savepoint=False):
            _write_events([(event, entry)])
    else:
        pending.append((event, entry))
    return event


_event = record_case_event


def form_hash(app: Application) -> str:
    return hashlib.sha256(json.dumps([app.answers, app.form_data], sort_keys=True).encode()).hexdigest()


def required_materials(app: Application) -> list:
    """The catalogue materials the applicant's situation answers call for (情形)."""
    return evaluate_situations(app.version, app.answers).materials


def current_files(app: Application) -> dict[int, MaterialFile]:
    return {f.material_id: f for f in app.files.filter(superseded=False).order_by("id")}


def correction_deadline(app: Application) -> dt.date | None:
    if app.received_date is None:
        return None
    return add_working_days(app.received_date, CORRECTION_WINDOW_DAYS).date


# ---------------------------------------------------------------- applicant side


def _applicant_fields(person: Person | None) -> dict[str, Any]:
    if person is None:
        return {}
    return {
        "applicant_person": person,
        "applicant_name": person.name,
        "applicant_id_number": person.id_number,
        "applicant_id_index": blind_index(person.id_number, "resident-id") if person.id_number else "",
        "applicant_phone": person.phone,
    }


def prefill(version, person: Person | None, enterprise=None) -> dict[str, Any]:
    """Form values pre-filled from the applicant's profile (x-prefill attributes of the schema)."""
    from tongban.catalog.forms_schema import compose_schema

    values = {
        "person.name": getattr(person, "name", ""),
        "person.id_number": getattr(person, "id_number", ""),
        "person.mobile": getattr(person, "phone", ""),
        "enterprise.name": getattr(enterprise, "name", ""),
        "enterprise.credit_code": getattr(enterprise, "credit_code", ""),
        "enterprise.legal_representative": getattr(enterprise, "legal_rep_name", ""),
    }
    schema = compose_schema(version)
    return {
        name: values[prop["x-prefill"]]
        for name, prop in schema.get("properties", {}).items()
        if values.get(prop.get("x-prefill", ""))
    }


def acting_enterprise(person: Person | None):
    """The enterprise the person currently acts for (切换身份), checked for the 申请办事 scope;
    None when acting as themselves."""
    from tongban.accounts.models import AgentScope
    from tongban.accounts.services import check_enterprise_permission, current_enterprise

    role = current_enterprise(person)
    if role is None:
        return None
    return check_enterprise_permission(person, role.enterprise, AgentScope.APPLY).enterprise


def clerk_windows(clerk):
    """Active windows of the halls in the clerk's region (and the regions below it)."""
    from tongban.core.models import Window

    profile = getattr(clerk, "staff_profile", None) if clerk is not None else None
    if profile is None:
        return Window.objects.none()
    return (
        Window.objects.filter(is_active=True, hall__region__path__startswith=profile.region.path)
        .select_related("hall")
        .order_by("hall__region__path", "hall__name", "number")
    )


def resolve_window(clerk, window=None):
    """The window a registration is made at: the one the clerk picked, checked against their
    region, or — when their region has exactly one window — that one."""
    windows = clerk_windows(clerk)
    if window in (None, ""):
        candidates = list(windows[:2])
        if len(candidates) == 1:
            return candidates[0]
        raise ValidationError("请选择您所在的办理窗口。", code="window-missing")
    pk = getattr(window, "pk", window)
    try:
        found = windows.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise ValidationError(
            "所选窗口不属于您所在区划的政务服务大厅，不能在此登记。", code="window-not-in-region"
        )
    return found


def start_application(
    *,
    implementation,
    owner=None,
    person: Person | None = None,
    enterprise=None,
    channel: str = Channel.ONLINE,
    registered_by=None,
    delegation=None,
    window=None,
    walk_in: dict[str, str] | None = None,
    idempotency_key: str = "",
    request=None,
    answers: dict | None = None,
    form_data: dict | None = None,
) -> Application:
    """A draft pinned to the published guide version. With an idempotency key, a retry returns
    the application the first call created. ``answers`` and ``form_data`` are saved with the
    draft, as ``save_draft`` saves them; when they are refused, no draft is created."""
    version = implementation.published_version
    if version is None:
        raise ValidationError("该事项没有已发布的办事指南，暂不能申请。", code="item-not-published")
    if channel in (Channel.ONLINE, Channel.MOBILE) and version.online_depth < ONLINE_APPLICATION_DEPTH:
        # 网办深度一级/二级: online only information or appointments; windows/helpers still register it.
        raise ValidationError("该事项暂不支持在线申请，请按办事指南到窗口办理。", code="not-online")
    if idempotency_key and owner is not None:
        existing = Application.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _retried(existing, answers, form_data)
    fields = _applicant_fields(person)
    if enterprise is not None:
        fields["applicant_enterprise"] = enterprise
        fields["applicant_name"] = enterprise.name
    if walk_in:
        from tongban.core.identifiers import validate_mobile, validate_resident_id

        number = validate_resident_id(walk_in["id_number"]).number
        fields.update(
            applicant_name=walk_in["name"],
            applicant_id_number=number,
            applicant_id_index=blind_index(number, "resident-id"),
            applicant_phone=validate_mobile(walk_in["phone"]) if walk_in.get("phone") else "",
        )
    if not fields.get("applicant_name"):
        raise ValidationError("请填写申请人信息。", code="applicant-missing")
    if channel == Channel.WINDOW:
        window = resolve_window(registered_by, window)
    app = Application(
        owner=owner,
        implementation=implementation,
        version=version,
        region_id=implementation.region_id,
        department_id=implementation.organisation_id,
        channel=channel,
        registered_by=registered_by,
        delegation=delegation,
        window=window,
        idempotency_key=idempotency_key,
        form_data=prefill(version, person, enterprise),
        **fields,
    )
    _apply_draft(app, answers, form_data)
    try:
        with transaction.atomic():
            app.save(force_insert=True)
            _event(
                app,
                "create",
                "",
                actor=registered_by or owner,
                request=request,
                data={"channel": channel, **({"window": window.pk} if window else {})},
            )
    except IntegrityError:
        existing = Application.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _retried(existing, answers, form_data)
    return app


def _retried(existing: Application, answers: dict | None, form_data: dict | None) -> Application:
    """A retried creation: the draft the first call made, with what the retry carries."""
    if (answers or form_data) and existing.status == Status.DRAFT:
        return save_draft(existing, answers=answers, form_data=form_data)
    return existing


_ID_LIKE = re.compile(r"^\d{17}[\dXx]$")
_MOBILE_LIKE = re.compile(r"^1\d{10}$")


def _maskers(version) -> dict[str, Callable[[str], str]]:
    """Form fields holding ID numbers or phones, known from their x-prefill attribute."""
    from tongban.catalog.forms_schema import compose_schema

    try:
        properties = compose_schema(version).get("properties", {})
    except ValidationError:
        properties = {}
    found: dict[str, Callable[[str], str]] = {}
    for name, prop in properties.items():
        prefill = prop.get("x-prefill", "")
        if prefill.endswith(".id_number"):
            found[name] = mask_resident_id
        elif prefill.endswith(".mobile"):
            found[name] = mask_mobile
    return found


def masked_form_data(app: Application) -> dict[str, Any]:
    """The form for pages and API answers that do not need the ID number or phone in clear;
    values shaped like either are masked even when the schema does not mark the field."""
    maskers = _maskers(app.version)
    out: dict[str, Any] = {}
    for name, value in app.form_data.items():
        masker = maskers.get(name)
        if masker is None and isinstance(value, str):
            if _ID_LIKE.match(value.strip()):
                masker = mask_resident_id
            elif _MOBILE_LIKE.match(value.strip()):
                masker = mask_mobile
        out[name] = masker(value) if masker and isinstance(value, str) and value else value
    return out


def _keep_unmasked(app: Application, incoming: dict[str, Any]) -> dict[str, Any]:
    """A client echoing a masked value back (from an API answer) must not overwrite the real one."""
    masked = masked_form_data(app)
    return {
        name: app.form_data[name]
        if name in app.form_data and value == masked.get(name) != app.form_data[name]
        else value
        for name, value in incoming.items()
    }


def save_draft(
    app: Application, *, answers: dict | None = None, form_data: dict | None = None
) -> Application:
    with state_change():
        app = _lock(app)
        _check_transition(app, "edit")
        _apply_draft(app, answers, form_data)
        app.save(update_fields=["answers", "form_data", "updated_at"])
    return app


def _apply_draft(app: Application, answers: dict | None, form_data: dict | None) -> None:
    if answers is not None:
        evaluate_situations(app.version, answers)  # unknown question/option → error
        app.answers = answers
    if form_data is not None:
        app.form_data = {**app.form_data, **_keep_unmasked(app, form_data)}


def _material_of(app: Application, material_id: int | str) -> Material | None:
    """One of the case's catalogue materials (the version's list is cached once published)."""
    try:
        wanted = int(material_id)
    except (TypeError, ValueError):
        return None
    return next((m for m in situation_parts(app.version)[1] if m.pk == wanted), None)


def upload_material(app: Application, material_id: int, upload: UploadedFile, *, by=None) -> MaterialFile:
    checked = uploads.check_file(upload)
    with state_change():
        app = _lock(app)
        _check_transition(app, "edit")
        material = _material_of(app, material_id)
        if material is None:
            raise ValidationError("该事项没有这项材料。", code="material-unknown")
        app.files.filter(material=material, superseded=False).update(superseded=True)
        record = MaterialFile(
            application=app,
            material=material,
            original_name=upload.name[:200] if upload.name else "",
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=by,
        )
        record.file.save(f"{checked.sha256[:16]}.{checked.extension}", upload, save=False)
        record.save()
    return record


def commit_material(app: Application, material_id: int, *, by=None) -> MaterialFile:
    """告知承诺: the applicant promises the material instead of providing it."""
    with state_change():
        app = _lock(app)
        _check_transition(app, "edit")
        material = _material_of(app, material_id)
        if material is None:
            raise ValidationError("该事项没有这项材料。", code="material-unknown")
        if not material.commitment_allowed:
            raise ValidationError(
                "“%(m)s”不适用告知承诺，请上传材料。",
                code="commitment-not-allowed",
                params={"m": material.name},
            )
        app.files.filter(material=material, superseded=False).update(superseded=True)
        return MaterialFile.objects.create(
            application=app, material=material, by_commitment=True, uploaded_by=by
        )


def check_complete(app: Application) -> list[dict[str, str]]:
    """Problems that stop a submission: form errors, unanswered situations, missing key materials
    (non-key materials may be missing: the clerk can accept with gaps)."""
    problems = list(validate_submission(app.version, app.form_data))
    guidance = evaluate_situations(app.version, app.answers)
    for question in guidance.unanswered:
        problems.append({"field": f"situation.{question.key}", "message": f"请回答：{question.text}"})
    files = current_files(app)
    for material in guidance.materials:
        if material.source != material.Source.APPLICANT:
            continue  # obtained by the department itself (证照调用/数据共享)
        if material.is_key and material.pk not in files:
            problems.append({"field": f"material.{material.pk}", "message": f"请上传：{material.name}"})
    return problems


def submit(app: Application, *, actor=None, request=None) -> Application:
    """Idempotent: submitting an application that is already submitted returns it unchanged."""
    with state_change():
        app = _lock(app)
        if app.status != Status.DRAFT and app.submitted_at is not None:
            return app  # double click / retry
        _check_transition(app, "submit")
        problems = check_complete(app)
        if problems:
            raise ValidationError("；".join(p["message"] for p in problems), code="application-incomplete")
        from_status = app.status
        app.status = Status.SUBMITTED
        app.round = 1
        app.submitted_at = timezone.now()
        app.received_date = _today()
        app.save()
        _event(app, "submit", from_status, actor=actor or app.owner, request=request)
        notify(
            app,
            "申请已提交",
            f"您申请的“{app.implementation.basic_item.name}”已提交，编号 {app.reference}，"
            "窗口将在5个工作日内完成预审。",
        )
    return app


def apply_deemed_acceptance(app: Application, *, today: dt.date | None = None) -> Application:
    """《行政许可法》第三十二条: no correction notice within five working days of receipt means the
    application is accepted on the day of receipt. Applied on read, before every transition and
    by a daily task."""
    today = today or _today()
    if app.status != Status.SUBMITTED or app.received_date is None:
        return app
    if today <= correction_deadline(app):
        return app
    with state_change():
        app = _lock(app)
        if app.status != Status.SUBMITTED or today <= correction_deadline(app):
            return app
        _do_accept(app, actor=None, day=app.received_date, deemed=True)
        notify(
            app,
            "申请已依法受理",
            f"您的申请在收件后5个工作日内未被告知补正，依法自收件之日起受理，办件编号 {app.case_number}。",
        )
    return app


def resubmit(app: Application, *, actor=None, request=None) -> Application:
    with state_change():
        app = _lock(app)
        _check_transition(app, "resubmit")
        notice = app.notices.get(round=app.round)
        # "Unless the applicant changed something": a new file or a changed form since the notice.
        changed = app.files.filter(
            uploaded_at__gt=notice.issued_at
        ).exists() or notice.form_hash != form_hash(app)
        if not changed:
            raise ValidationError("请先按补正告知修改材料或申请表，再重新提交。", code="nothing-corrected")
        problems = check_complete(app)
        if problems:
            raise ValidationError("；".join(p["message"] for p in problems), code="application-incomplete")
        notice.answered_at = timezone.now()
        notice.save(update_fields=["answered_at"])
        from_status = app.status
        app.status = Status.SUBMITTED
        app.round += 1
        app.submitted_at = timezone.now()
        app.received_date = _today()  # 补正材料之日为收件日
        app.save()
        _event(app, "resubmit", from_status, actor=actor or app.owner, request=request)
        notify(app, "补正材料已提交", f"{app.reference} 的补正材料已提交，窗口将尽快预审。")
    return app


# ---------------------------------------------------------------- clerk side


def request_corrections(
    app: Application,
    *,
    clerk,
    items: list[dict[str, Any]],
    note: str = "",
    request=None,
    one_window: bool = False,
) -> CorrectionNotice:
    """一次性告知: one notice per submission round listing every problem.
    ``items``: [{"material_id": int | None, "field": str, "problem": str}]."""
    apply_deemed_acceptance(app)
    with state_change():
        app = _lock(app)
        _require_scope(clerk, app, one_window=one_window)
        _check_transition(app, "request_corrections")
        if not items or any(not str(i.get("problem", "")).strip() for i in items):
            raise ValidationError("补正告知须逐项写明需要补正的内容。", code="correction-items-missing")
        if app.notices.filter(round=app.round).exists():
            raise ValidationError(
                "本次提交已出具过补正告知，不能再次告知。", code="correction-notice-already-issued"
            )
        names = {m.pk: m.name for m in app.version.materials.all()}
        clean = []
        for item in items:
            material_id = item.get("material_id")
            if material_id is not None and int(material_id) not in names:
                raise ValidationError("补正事项引用了不属于该事项的材料。", code="material-unknown")
            clean.append(
                {
                    "material_id": material_id,
                    "material": names.get(int(material_id)) if material_id is not None else "",
                    "field": item.get("field", ""),
                    "problem": str(item["problem"]).strip(),
                }
            )
        notice = CorrectionNotice.objects.create(
            application=app,
            round=app.round,
            items=clean,
            note=note,
            issued_by=clerk,
            form_hash=form_hash(app),
        )
        from_status = app.status
        app.status = Status.CORRECTION_REQUESTED
        app.decided_at = timezone.now()
        app.save()
        _event(
            app,
            "request_corrections",
            from_status,
            actor=clerk,
            reason=note,
            request=request,
            data={"items": len(clean)},
        )
        listing = "；".join(f"{i['material'] or i['field']}：{i['problem']}" for i in clean)
        notify(app, "请补正材料", f"{app.reference} 需补正：{listing}。请登录个人中心一次性补正后重新提交。")
    return notice


def _do_accept(
    app: Application,
    *,
    actor,
    day: dt.date,
    deemed: bool = False,
    request=None,
    action: str = "accept",
    status: str = Status.ACCEPTED,
    extra: dict | None = None,
    start_process: bool = True,
) -> None:
    with state_change():
        from_status = app.status
        app.status = status
        for name, value in (extra or {}).items():
            setattr(app, name, value)
        app.accepted_at = timezone.now()
        app.accepted_by = actor
        app.deemed_accepted = deemed
        app.decided_at = app.accepted_at
        limit = app.version.legal_limit_days
        app.legal_limit_days = limit
        if limit is not None:
            result = add_working_days(app.received_date, limit)
            app.deadline, app.deadline_provisional = result.date, result.provisional
        reason = "超过5个工作日未告知补正，依《行政许可法》第三十二条自收件之日起视为受理" if deemed else ""
        accepted = _event(
            app,
            "deemed_accept" if deemed else action,
            from_status,
            actor=actor,
            reason=reason,
            request=request,
            data={"case_number": None},  # filled in below, before the event is written
        )
        if start_process:
            # The back office starts at once: the process version is pinned and the first tasks open.
            from tongban.workflow.services import start_process as start_back_office

            start_back_office(app, actor=actor, request=request)
        # The number comes last: its counter row (one per item and day) stays locked until the
        # commit, so concurrent acceptances of one item wait only for the rest of this one.
        app.case_number = accepted.data["case_number"] = next_case_number(app.implementation, day)
        app.save()


@shared_calendar()  # one calendar read for the deadlines and the first tasks
def accept(app: Application, *, clerk, request=None, one_window: bool = False) -> Application:
    """``one_window``: only for tongban.bundles (一件事一窗受理), which has checked the clerk's data
    scope over the bundle; the department scope check is skipped, the accept permission is not."""
    apply_deemed_acceptance(app)
    with state_change():
        app = _lock(app)
        _require_scope(clerk, app, one_window=one_window)
        _check_transition(app, "accept")
        _do_accept(app, actor=clerk, day=app.received_date, request=request)
        notify(
            app,
            "申请已受理",
            f"您的申请已受理，办件编号 {app.case_number}，法定办结期限 {app.deadline or '—'}。",
        )
    return app


@shared_calendar()  # one calendar read for the deadlines and the first tasks
def accept_with_gaps(
    app: Application, *, clerk, missing: list[int], due_date: dt.date, request=None
) -> Application:
    """容缺受理: only non-key materials may be missing; the applicant promises them by ``due_date``."""
    with state_change():
        app = _lock(app)
        _require_scope(clerk, app)
        _check_transition(app, "accept_with_gaps")
        required = {m.pk: m for m in required_materials(app)}
        if not missing:
            raise ValidationError("请选择容缺的材料。", code="gaps-missing")
        for material_id in missing:
            material = required.get(int(material_id))
            if material is None:
                raise ValidationError("容缺材料须是本申请需要的材料。", code="material-unknown")
            if material.is_key:
                raise ValidationError(
                    "“%(m)s”是关键材料，不能容缺受理。",
                    code="key-material-missing",
                    params={"m": material.name},
                )
        if due_date <= _today():
            raise ValidationError("容缺材料补齐期限须晚于今天。", code="gaps-due-past")
        gaps = [{"material_id": int(m), "material": required[int(m)].name} for m in missing]
        _do_accept(
            app,
            actor=clerk,
            day=app.received_date,
            request=request,
            action="accept_with_gaps",
            status=Status.ACCEPTED_WITH_GAPS,
            extra={"gaps": gaps, "gaps_due_date": due_date},
        )
        names = "、".join(g["material"] for g in app.gaps)
        notify(app, "申请已容缺受理", f"办件编号 {app.case_number}。请于 {due_date} 前补交：{names}。")
    return app


def refuse(app: Application, *, clerk, reason: str, request=None) -> Application:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("不予受理须写明理由。", code="refusal-reason-missing")
    apply_deemed_acceptance(app)
    with state_change():
        app = _lock(app)
        _require_scope(clerk, app)
        _check_transition(app, "refuse")
        from_status = app.status
        app.status = Status.REFUSED
        app.refusal_reason = reason
        app.decided_at = timezone.now()
        app.refusal_notice.save(f"refusal-{app.pk}.pdf", ContentFile(notices.refusal_pdf(app)), save=False)
        app.save()
        _event(app, "refuse", from_status, actor=clerk, reason=reason, request=request)
        notify(app, "申请不予受理", f"{app.reference} 不予受理：{reason}。可在个人中心下载不予受理决定书。")
    return app


@shared_calendar()  # one calendar read for the deadlines and the first tasks
def complete_on_the_spot(app: Application, *, clerk, request=None) -> Application:
    """即办件: accepted and completed at once."""
    with state_change():
        app = _lock(app)
        _require_scope(clerk, app)
        _check_transition(app, "complete_on_the_spot")
        if not app.version.is_on_the_spot:
            raise ValidationError("该事项是承诺件，不能即办办结。", code="not-on-the-spot")
        _do_accept(app, actor=clerk, day=app.received_date, request=request, start_process=False)
        from_status = app.status
        app.status = Status.COMPLETED
        app.completed_at = timezone.now()
        app.save(update_fields=["status", "completed_at"])
        _event(app, "complete_on_the_spot", from_status, actor=clerk, request=request)
        application_completed.send(sender=Application, application=app)
        notify(app, "办件已办结", f"办件 {app.case_number} 已当场办结。")
    return app


def staff_queue(clerk, *, statuses=(Status.SUBMITTED,)):
    """Applications the clerk may see (data scope), oldest receipt first."""
    qs = Application.objects.filter(status__in=statuses).select_related("implementation__basic_item")
    return (
        scope_for(clerk)
        .filter(qs, region_field="region", department_field="department")
        .order_by("received_date", "id")
    )


def deem_overdue(today: dt.date | None = None) -> int:
    """Daily task body: apply Art. 32 to every submitted application past its correction window."""
    today = today or _today()
    count = 0
    for app in Application.objects.filter(status=Status.SUBMITTED, received_date__lt=today):
        if apply_deemed_acceptance(app, today=today).deemed_accepted:
            count += 1
    return count


def public_lookup(case_number: str, id_number: str) -> Application | None:
    """Progress query: both must match; the same answer for "no such case" and "wrong ID"."""
    index = blind_index(id_number.strip().upper(), "resident-id")
    app = (
        Application.objects.filter(case_number=case_number.strip(), applicant_id_index=index)
        .select_related("implementation__basic_item")  # every caller shows the item's name
        .first()
    )
    return apply_deemed_acceptance(app) if app is not None else None


def recompute_provisional_deadlines(year: int) -> int:
    """A newly loaded holiday schedule: recompute stored deadlines that reached into ``year``."""
    count = 0
    for app in Application.objects.filter(deadline_provisional=True, deadline__year__gte=year).exclude(
        legal_limit_days=None
    ):
        with transaction.atomic():
            app = _lock(app)
            result = add_working_days(app.received_date, app.legal_limit_days)
            app.deadline, app.deadline_provisional = result.date, result.provisional
            app.save(update_fields=["deadline", "deadline_provisional", "updated_at"])
            count += 1
    return count
