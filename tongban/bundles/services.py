"""一件事一次办 business rules — the only place a bundle case changes state.

Children are ordinary ``cases.Application`` rows, created, submitted and accepted through
``tongban.cases.services`` (never by writing their state here). Every state change is one
transaction that locks the bundle case row and re-checks its status; errors are ValidationErrors
with a Chinese message and a stable code (the API answers 422).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.accounts.models import Person
from tongban.accounts.scope import scope_for
from tongban.bundles import merge
from tongban.bundles.models import (
    Bundle,
    BundleCase,
    BundleCorrection,
    BundleFile,
    BundleMember,
    BundleStatus,
)
from tongban.cases import services as cases
from tongban.cases import uploads
from tongban.cases.models import Application, Decision, MaterialFile, Status
from tongban.cases.notify import notify
from tongban.catalog.forms_schema import compose_schema, validate_submission
from tongban.core.audit import record_event
from tongban.core.identifiers import mask_mobile, mask_resident_id

EDITABLE = (BundleStatus.DRAFT, BundleStatus.CORRECTION_REQUESTED)
#: Children in these states are finished (办结 or 不予受理).
TERMINAL = (Status.COMPLETED, Status.REFUSED)
ACTION_NAMES = {
    "edit": "修改申请",
    "submit": "提交",
    "accept": "受理",
    "request_corrections": "一次性告知补正",
    "resubmit": "补正后重新提交",
}
TRANSITIONS = {
    "edit": set(EDITABLE),
    "submit": {BundleStatus.DRAFT},
    "accept": {BundleStatus.SUBMITTED},
    "request_corrections": {BundleStatus.SUBMITTED},
    "resubmit": {BundleStatus.CORRECTION_REQUESTED},
}


def _check(bc: BundleCase, action: str) -> None:
    if bc.status not in TRANSITIONS[action]:
        raise ValidationError(
            "该一件事申请当前状态为“%(s)s”，不能%(a)s。",
            code="invalid-transition",
            params={"s": bc.get_status_display(), "a": ACTION_NAMES[action]},
        )


def _lock(bc: BundleCase | int) -> BundleCase:
    pk = bc if isinstance(bc, int) else bc.pk
    # of=self: lock the bundle case only, not the shared Bundle row joined in (that would queue
    # every citizen's bundle behind one lock, as cases.services._lock explains).
    return BundleCase.objects.select_for_update(of=("self",)).select_related("bundle").get(pk=pk)


def children(bc: BundleCase) -> list[Application]:
    return [
        m.application
        for m in bc.members.select_related(
            "application__implementation__basic_item",
            "application__department",
            "application__version",
            "item",
        ).order_by("item__order", "id")
    ]


def current_files(bc: BundleCase) -> dict[str, BundleFile]:
    return {f.key: f for f in bc.files.filter(superseded=False).order_by("id")}


# ------------------------------------------------------------------ public guide


def active_bundles(region_path: str | None = None):
    qs = Bundle.objects.filter(is_active=True).select_related("region", "lead_department")
    if region_path:
        qs = qs.filter(region__path__startswith=region_path)
    return qs


def guide(bundle: Bundle) -> dict[str, Any]:
    """Everything the public guide page and API show: items, departments, merged materials, visits."""
    items = [
        i
        for i in bundle.items.select_related(
            "implementation__basic_item", "implementation__organisation", "implementation__published_version"
        )
        if i.implementation.published_version is not None
    ]
    return {
        "items": items,
        "departments": list(dict.fromkeys(i.implementation.organisation.name for i in items)),
        "materials": merge.merged_materials(items, {}, all_situations=True),
        "questions": merge.merged_questions(items),
        "visits": merge.visits(items),
        "promised_days": max(
            (i.implementation.published_version.promised_limit_days or 0 for i in items), default=0
        ),
    }


# ------------------------------------------------------------------ applicant side


def start(
    *, bundle: Bundle, owner, person: Person | None, enterprise=None, idempotency_key: str = "", request=None
) -> BundleCase:
    """A draft with the merged form pre-filled from the profile. Idempotent with a key."""
    if not bundle.is_active:
        raise ValidationError("该一件事已停用。", code="bundle-inactive")
    if person is None:
        raise ValidationError("只有注册群众或企业经办人可以网上申请。", code="applicant-missing")
    if idempotency_key:
        existing = BundleCase.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    items = [i for i in bundle.items.all() if not i.optional]
    prefill: dict[str, Any] = {}
    for item in bundle.items.select_related("implementation__published_version"):
        prefill.update(cases.prefill(merge.version_of(item), person, enterprise))
    try:
        with transaction.atomic():
            bc = BundleCase.objects.create(
                bundle=bundle,
                owner=owner,
                applicant_person=person,
                applicant_enterprise=enterprise,
                applicant_name=enterprise.name if enterprise is not None else person.name,
                region_id=bundle.region_id,
                lead_department_id=bundle.lead_department_id,
                idempotency_key=idempotency_key,
                form_data=prefill,
            )
            record_event(
                "bundles.create",
                f"创建一件事申请 {bundle.name}",
                actor=owner,
                obj=bc,
                data={"bundle": bundle.code, "items": len(items)},
                request=request,
            )
    except IntegrityError:
        existing = BundleCase.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    return bc


def save_draft(
    bc: BundleCase,
    *,
    selected: list[int] | None = None,
    answers: dict[str, str] | None = None,
    form_data: dict[str, Any] | None = None,
) -> BundleCase:
    with transaction.atomic():
        bc = _lock(bc)
        _check(bc, "edit")
        if selected is not None:
            if bc.status != BundleStatus.DRAFT:
                raise ValidationError("补正时不能改变办理的事项。", code="selection-frozen")
            optional = {i.pk for i in bc.bundle.items.filter(optional=True)}
            unknown = {int(s) for s in selected} - optional
            if unknown:
                raise ValidationError("所选事项不属于该一件事的可选事项。", code="item-unknown")
            bc.selected = sorted({int(s) for s in selected})
        if answers is not None:
            answers = {str(k): str(v) for k, v in answers.items() if v not in (None, "")}
            merge.check_answers(merge.included_items(bc), answers)
            bc.answers = answers
        if form_data is not None:
            bc.form_data = {**bc.form_data, **_keep_unmasked(bc, form_data)}
        bc.save(update_fields=["selected", "answers", "form_data", "updated_at"])
        if bc.status == BundleStatus.CORRECTION_REQUESTED and (answers is not None or form_data is not None):
            for app in children(bc):
                if app.status == Status.CORRECTION_REQUESTED:
                    cases.save_draft(
                        app,
                        answers=merge.child_answers(app.version, bc.answers),
                        form_data=merge.child_form(app.version, bc.form_data),
                    )
    return bc


def upload_material(bc: BundleCase, key: str, upload: UploadedFile, *, by=None) -> BundleFile:
    checked = uploads.check_file(upload)
    with transaction.atomic():
        bc = _lock(bc)
        _check(bc, "edit")
        merged = _merged_by_key(bc, key)
        if not merged.needs_upload:
            raise ValidationError(
                "“%(m)s”由部门获取，无需上传。", code="material-not-uploaded", params={"m": merged.name}
            )
        bc.files.filter(key=key, superseded=False).update(superseded=True)
        record = BundleFile(
            bundle_case=bc,
            key=key,
            name=merged.name,
            original_name=(upload.name or "")[:200],
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=by,
        )
        record.file.save(f"{checked.sha256[:16]}.{checked.extension}", upload, save=False)
        record.save()
        if bc.status == BundleStatus.CORRECTION_REQUESTED:
            _fan_out_file(bc, record, merged, by=by)
    return record


def commit_material(bc: BundleCase, key: str, *, by=None) -> BundleFile:
    """告知承诺 for a merged material: allowed only when every item that needs it allows it."""
    with transaction.atomic():
        bc = _lock(bc)
        _check(bc, "edit")
        merged = _merged_by_key(bc, key)
        if not merged.commitment_allowed:
            raise ValidationError(
                "“%(m)s”不适用告知承诺，请上传材料。",
                code="commitment-not-allowed",
                params={"m": merged.name},
            )
        bc.files.filter(key=key, superseded=False).update(superseded=True)
        record = BundleFile.objects.create(
            bundle_case=bc, key=key, name=merged.name, by_commitment=True, uploaded_by=by
        )
        if bc.status == BundleStatus.CORRECTION_REQUESTED:
            _fan_out_file(bc, record, merged, by=by)
    return record


def _merged_by_key(bc: BundleCase, key: str) -> merge.MergedMaterial:
    for merged in merge.merged_materials(merge.included_items(bc), bc.answers):
        if merged.key == key:
            return merged
    raise ValidationError("该一件事没有这项材料。", code="material-unknown")


def check_complete(bc: BundleCase) -> list[dict[str, str]]:
    """Problems that stop a submission, each reported once for the whole bundle."""
    items = merge.included_items(bc)
    if not items:
        return [{"field": "items", "message": "请至少选择一个要办理的事项"}]
    problems: list[dict[str, str]] = []
    seen: set[str] = set()
    for item in items:
        version = merge.version_of(item)
        for problem in validate_submission(version, merge.child_form(version, bc.form_data)):
            if problem["field"] not in seen:
                seen.add(problem["field"])
                problems.append(problem)
    for question in merge.merged_questions(items):
        if question.key not in bc.answers:
            problems.append({"field": f"situation.{question.key}", "message": f"请回答：{question.text}"})
    files = current_files(bc)
    for merged in merge.merged_materials(items, bc.answers):
        if merged.needs_upload and merged.is_key and merged.key not in files:
            problems.append({"field": f"material.{merged.key}", "message": f"请上传：{merged.name}"})
    return problems


def _attach(app: Application, material, record: BundleFile, *, by) -> None:
    """Attach a merged file to one child. A commitment goes through cases.commit_material; a file
    is attached by pointing the child's MaterialFile at the bundle's stored file (same bytes, same
    SHA-256, nothing copied). The child is a draft or awaiting correction (checked under its lock)."""
    if record.by_commitment:
        cases.commit_material(app, material.pk, by=by)
        return
    app = cases._lock(app)
    cases._check_transition(app, "edit")
    app.files.filter(material=material, superseded=False).update(superseded=True)
    MaterialFile.objects.create(
        application=app,
        material=material,
        file=record.file.name,
        original_name=record.original_name,
        content_type=record.content_type,
        size=record.size,
        sha256=record.sha256,
        uploaded_by=by,
    )


def _child_materials(app: Application, key: str) -> list:
    """The catalogue materials of the child's own guide version that a merged key stands for."""
    return [m for m in cases.required_materials(app) if merge.material_key(m) == key]


def _fan_out_file(bc: BundleCase, record: BundleFile, merged: merge.MergedMaterial, *, by) -> None:
    """During a correction: a re-uploaded material reaches the children waiting for corrections."""
    for member in bc.members.select_related("application__version"):
        app = member.application
        if app.status != Status.CORRECTION_REQUESTED:
            continue
        for material in _child_materials(app, merged.key):
            if material.source == material.Source.APPLICANT:
                _attach(app, material, record, by=by)


def _next_reference(bc: BundleCase) -> str:
    return f"YJS{bc.region.code}{timezone.localdate():%Y%m%d}{bc.pk:06d}"


def submit(bc: BundleCase, *, actor=None, request=None) -> BundleCase:
    """One child application per included item, created and submitted through cases.services in
    ONE transaction: any failure leaves no child behind. Idempotent: a retry returns the case."""
    with transaction.atomic():
        bc = _lock(bc)
        if bc.status != BundleStatus.DRAFT and bc.submitted_at is not None:
            return bc  # double click / retry
        _check(bc, "submit")
        problems = check_complete(bc)
        if problems:
            raise ValidationError("；".join(p["message"] for p in problems), code="application-incomplete")
        actor = actor or bc.owner
        files = current_files(bc)
        items = merge.included_items(bc)
        materials = merge.merged_materials(items, bc.answers)
        uses = {(item.pk, material.pk): m.key for m in materials for item, material in m.uses}
        bc.reference = _next_reference(bc)
        for item in items:
            app = cases.start_application(
                implementation=item.implementation,
                owner=bc.owner,
                person=bc.applicant_person,
                enterprise=bc.applicant_enterprise,
                idempotency_key=f"bundle-{bc.pk}-{item.pk}",
                request=request,
            )
            app = cases.save_draft(
                app,
                answers=merge.child_answers(app.version, bc.answers),
                form_data=merge.child_form(app.version, bc.form_data),
            )
            for material in cases.required_materials(app):
                key = uses.get((item.pk, material.pk))
                if key in files and material.source == material.Source.APPLICANT:
                    _attach(app, material, files[key], by=actor)
            app = cases.submit(app, actor=actor, request=request)
            BundleMember.objects.create(bundle_case=bc, item=item, application=app)
            cases.record_case_event(
                app,
                "bundle_submit",
                app.status,
                actor=actor,
                request=request,
                data={"bundle": bc.reference, "bundle_name": bc.bundle.name, "children": len(items)},
            )
        bc.status = BundleStatus.SUBMITTED
        bc.round = 1
        bc.submitted_at = timezone.now()
        bc.save()
        record_event(
            "bundles.submit",
            f"提交一件事 {bc.reference}",
            actor=actor,
            obj=bc,
            data={"children": len(items)},
            request=request,
        )
    return bc


def resubmit(bc: BundleCase, *, actor=None, request=None) -> BundleCase:
    with transaction.atomic():
        bc = _lock(bc)
        _check(bc, "resubmit")
        actor = actor or bc.owner
        for app in children(bc):
            if app.status == Status.CORRECTION_REQUESTED:
                cases.resubmit(app, actor=actor, request=request)
        notice = bc.corrections.filter(round=bc.round).first()
        if notice is not None:
            notice.answered_at = timezone.now()
            notice.save(update_fields=["answered_at"])
        bc.status = BundleStatus.SUBMITTED
        bc.round += 1
        bc.submitted_at = timezone.now()
        bc.save()
        record_event(
            "bundles.resubmit", f"一件事补正后重新提交 {bc.reference}", actor=actor, obj=bc, request=request
        )
    return bc


# ------------------------------------------------------------------ one window (clerk side)


def require_clerk(clerk, bc: BundleCase) -> None:
    """一窗受理: a clerk with the accept permission whose data scope covers the bundle case
    (its region and lead department)."""
    if not clerk.has_perm("cases.accept_application"):
        raise PermissionDenied("您没有办件受理权限。")
    if not scope_for(clerk).can_change(bc, region_field="region", department_field="lead_department"):
        raise PermissionDenied("该一件事不在您的数据权限范围内。")


def queue(clerk, *, statuses=(BundleStatus.SUBMITTED, BundleStatus.CORRECTION_REQUESTED)):
    qs = BundleCase.objects.filter(status__in=statuses).select_related("bundle")
    return (
        scope_for(clerk)
        .filter(qs, region_field="region", department_field="lead_department")
        .order_by("submitted_at", "id")
    )


def accept_all(bc: BundleCase, *, clerk, request=None) -> BundleCase:
    """Accept every child in one transaction (each gets its case number through cases.accept and
    its department's process starts); a child its department already accepted (or that the law
    deems accepted) is left as it is."""
    require_clerk(clerk, bc)
    with transaction.atomic():
        bc = _lock(bc)
        _check(bc, "accept")
        accepted = []
        for app in children(bc):
            app = cases.apply_deemed_acceptance(app)
            if app.status == Status.SUBMITTED:
                app = cases.accept(app, clerk=clerk, request=request, one_window=True)
                accepted.append(app)
            elif app.status in (Status.CORRECTION_REQUESTED, Status.DRAFT):
                raise ValidationError(
                    "子办件 %(r)s 正在补正，不能受理整件。",
                    code="child-not-ready",
                    params={"r": app.reference},
                )
            cases.record_case_event(
                app,
                "bundle_accept",
                app.status,
                actor=clerk,
                request=request,
                data={"bundle": bc.reference, "case_number": app.case_number},
            )
        bc.status = BundleStatus.IN_PROGRESS
        bc.accepted_at = timezone.now()
        bc.accepted_by = clerk
        bc.save()
        record_event(
            "bundles.accept",
            f"一窗受理一件事 {bc.reference}",
            actor=clerk,
            obj=bc,
            data={"accepted": [a.case_number for a in accepted]},
            request=request,
        )
        _complete_if_done(bc)  # every child may already have been finished (即办/refused)
    return bc


def request_corrections(
    bc: BundleCase, *, clerk, items: list[dict[str, Any]], note: str = "", request=None
) -> BundleCorrection:
    """One combined 一次性补正告知. ``items``: [{"material": merged key | "", "field": form field
    name | "", "problem": str}]; each child gets a notice with the problems that concern it."""
    require_clerk(clerk, bc)
    with transaction.atomic():
        bc = _lock(bc)
        _check(bc, "request_corrections")
        if not items or any(not str(i.get("problem", "")).strip() for i in items):
            raise ValidationError("补正告知须逐项写明需要补正的内容。", code="correction-items-missing")
        materials = {m.key: m for m in merge.merged_materials(merge.included_items(bc), bc.answers)}
        clean = []
        for item in items:
            key = item.get("material") or ""
            if key and key not in materials:
                raise ValidationError("补正事项引用了不属于该一件事的材料。", code="material-unknown")
            clean.append(
                {
                    "material": key,
                    "material_name": materials[key].name if key else "",
                    "field": str(item.get("field") or ""),
                    "problem": str(item["problem"]).strip(),
                }
            )
        touched = 0
        for member in bc.members.select_related("application__version"):
            app = member.application
            names = compose_schema(app.version).get("properties", {})
            child_items = []
            for entry in clean:
                if entry["material"]:
                    for material in _child_materials(app, entry["material"]):
                        child_items.append({"material_id": material.pk, "problem": entry["problem"]})
                elif not entry["field"] or entry["field"] in names:
                    label = names.get(entry["field"], {}).get("title", entry["field"]) or "申请表"
                    child_items.append({"field": label, "problem": entry["problem"]})
            if child_items and app.status == Status.SUBMITTED:
                cases.request_corrections(
                    app, clerk=clerk, items=child_items, note=note, request=request, one_window=True
                )
                touched += 1
        if not touched:
            raise ValidationError("补正事项不涉及任何待预审的子办件。", code="correction-items-missing")
        notice = BundleCorrection.objects.create(
            bundle_case=bc, round=bc.round, items=clean, note=note, issued_by=clerk
        )
        bc.status = BundleStatus.CORRECTION_REQUESTED
        bc.save()
        record_event(
            "bundles.request_corrections",
            f"一件事一次性告知补正 {bc.reference}",
            actor=clerk,
            obj=bc,
            data={"items": len(clean), "children": touched},
            request=request,
        )
    return notice


# ------------------------------------------------------------------ completion


def on_child_completed(app: Application) -> None:
    """Receiver body (inside the child's 办结 transaction)."""
    bc_id = (
        BundleMember.objects.filter(application_id=app.pk).values_list("bundle_case_id", flat=True).first()
    )
    if bc_id is None:
        return
    bc = _lock(bc_id)
    _complete_if_done(bc)


def _outcome(app: Application) -> tuple[str, bool]:
    """(label, approved) of one finished child."""
    if app.status == Status.REFUSED:
        return "不予受理", False
    if app.decision == Decision.REFUSED:
        return "不予许可", False
    if app.decision == Decision.APPROVED:
        return "准予许可", True
    return "已办结", True


def _complete_if_done(bc: BundleCase) -> bool:
    """Call with the bundle case locked. When every child is finished: one result for the applicant.
    (Still ``submitted`` is possible: every child accepted by its department or deemed accepted
    under Art. 32 before the one window acted.)"""
    if bc.status not in (BundleStatus.IN_PROGRESS, BundleStatus.SUBMITTED):
        return False
    apps = children(bc)
    if not apps or any(a.status not in TERMINAL for a in apps):
        return False
    from tongban.bundles import results

    approved = all(_outcome(a)[1] for a in apps)
    bc.status = BundleStatus.COMPLETED if approved else BundleStatus.PARTLY_REFUSED
    bc.completed_at = timezone.now()
    number, pdf = results.bundle_result(bc, apps, [_outcome(a)[0] for a in apps])
    bc.result_number = number
    bc.result_sha256 = hashlib.sha256(pdf).hexdigest()
    bc.result_file.save(f"bundle-{bc.pk}.pdf", ContentFile(pdf), save=False)
    bc.save()
    lead = next((a for a in apps if a.department_id == bc.lead_department_id), apps[0])
    results.register_on_child(bc, lead)
    for app in apps:
        cases.record_case_event(
            app,
            "bundle_complete",
            app.status,
            data={"bundle": bc.reference, "result": number, "sha256": bc.result_sha256},
        )
    label = "全部办结" if approved else "已办结（部分事项不予许可，详见结果告知书）"
    notify(
        lead,
        f"一件事{label}",
        f"您的“{bc.bundle.name}”（{bc.reference}）{label}，共 {len(apps)} 个事项。"
        "可在个人中心下载一件事办理结果告知书。",
    )
    record_event("bundles.complete", f"一件事办结 {bc.reference}", obj=bc, data={"status": bc.status})
    return True


# ------------------------------------------------------------------ display helpers


def masked_form_data(bc: BundleCase) -> dict[str, Any]:
    properties = merge.merged_schema(merge.included_items(bc))["properties"] if bc.pk else {}
    out: dict[str, Any] = {}
    for name, value in bc.form_data.items():
        prefill = properties.get(name, {}).get("x-prefill", "")
        if isinstance(value, str) and value:
            if prefill.endswith(".id_number") or cases._ID_LIKE.match(value.strip()):
                value = mask_resident_id(value)
            elif prefill.endswith(".mobile") or cases._MOBILE_LIKE.match(value.strip()):
                value = mask_mobile(value)
        out[name] = value
    return out


def _keep_unmasked(bc: BundleCase, incoming: dict[str, Any]) -> dict[str, Any]:
    """A client echoing a masked value back must not overwrite the real one."""
    masked = masked_form_data(bc)
    return {
        name: bc.form_data[name]
        if name in bc.form_data and value == masked.get(name) != bc.form_data[name]
        else value
        for name, value in incoming.items()
    }
