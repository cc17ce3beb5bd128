"""Business rules of the catalogue: creating items, the draft → review → publish workflow,
situation guidance, and the change-timeliness report. Every state change is one transaction
with its audit event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tongban.catalog import codes, files, queries, rules
from tongban.catalog.models import (
    BasicItem,
    BasicItemChange,
    Fee,
    HandlingItem,
    ItemImplementation,
    ItemVersion,
    Material,
    ProcessStep,
    ProofEntry,
    SituationOption,
    SituationQuestion,
)
from tongban.catalog.serialize import diff_dicts, version_dict
from tongban.core.audit import record_event

try:
    from tongban.core.workdays import working_days_between
except ImportError:  # pragma: no cover - until the core-rules helper's module lands

    def working_days_between(start: dt.date, end: dt.date) -> int:
        """Weekdays after ``start`` up to and including ``end`` (fallback without holidays)."""
        days, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            days += day.weekday() < 5
        return days


S = ItemVersion.Status

# ------------------------------------------------------------------ basic items and codes


def next_basic_code(item_type: str, department_key: str, parent: BasicItem | None = None) -> str:
    if parent is not None:
        parts = codes.parse_basic_code(parent.code)
        prefix = parent.code[:9]
        taken = [
            int(c[9:])
            for c in BasicItem.objects.filter(code__startswith=prefix).values_list("code", flat=True)
        ]
        return codes.make_basic_code(parts["type"], parts["dept"], int(parts["main"]), max(taken) + 1)
    dept = codes.DEPARTMENT_CODES.get(department_key)
    if dept is None:
        raise ValidationError(
            "未知的主管部门类别：%(k)s", code="unknown-department", params={"k": department_key}
        )
    prefix = f"{item_type}{dept}"
    taken = [
        int(c[5:9]) for c in BasicItem.objects.filter(code__startswith=prefix).values_list("code", flat=True)
    ]
    return codes.make_basic_code(item_type, dept, (max(taken) if taken else 0) + 1, 0)


@transaction.atomic
def create_basic_item(
    *,
    name: str,
    item_type: str,
    department_key: str,
    legal_basis: str,
    service_objects: str,
    parent: BasicItem | None = None,
    actor=None,
    **extra: Any,
) -> BasicItem:
    if parent is not None and parent.item_type != item_type:
        raise ValidationError("子项的事项类型须与主项一致", code="sub-item-type-mismatch")
    for code in filter(None, service_objects.split(",")):
        if code.strip() not in codes.ServiceObject.values:
            raise ValidationError(
                "服务对象代码无效：%(c)s", code="invalid-service-object", params={"c": code}
            )
    item = BasicItem(
        name=name,
        item_type=item_type,
        department_key=department_key,
        legal_basis=legal_basis,
        service_objects=service_objects,
        parent=parent,
        **extra,
    )
    item.code = next_basic_code(item_type, department_key, parent)
    codes.validate_basic_code(item.code, item_type=item_type, is_sub_item=parent is not None)
    item.save()
    record_event(
        "catalog.basic_item.created", f"新增基本目录事项 {item.name} {item.code}", actor=actor, obj=item
    )
    return item


@transaction.atomic
def create_implementation(
    basic_item: BasicItem,
    organisation,
    *,
    actor=None,
    region=None,
    change_requested_on: dt.date | None = None,
) -> ItemImplementation:
    """Add an implementation-list entry with an empty first draft. The code is derived, never typed."""
    region = region or organisation.region
    level = codes.level_for_region_level(region.level)
    impl = ItemImplementation(
        basic_item=basic_item, organisation=organisation, region=region, exercise_level=level
    )
    impl.code = codes.make_implementation_code(organisation.credit_code, level, basic_item.code)
    if ItemImplementation.objects.filter(code=impl.code).exists():
        raise ValidationError(
            "该部门已实施此事项（实施编码 %(c)s）", code="implementation-exists", params={"c": impl.code}
        )
    impl.save()
    HandlingItem.objects.create(
        implementation=impl, sequence=1, name=basic_item.name, code=codes.make_handling_code(impl.code, 1)
    )
    ItemVersion.objects.create(
        implementation=impl,
        number=1,
        created_by=_user(actor),
        updated_by=_user(actor),
        change_requested_on=change_requested_on or timezone.localdate(),
        change_summary="新增事项",
    )
    record_event("catalog.implementation.created", f"新增实施清单事项 {impl.code}", actor=actor, obj=impl)
    return impl


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# ------------------------------------------------------------------ drafts


def open_version(impl: ItemImplementation) -> ItemVersion | None:
    return impl.versions.filter(status__in=[S.DRAFT, S.IN_REVIEW, S.APPROVED]).first()


@transaction.atomic
def new_draft(
    impl: ItemImplementation,
    *,
    actor=None,
    change_requested_on: dt.date | None = None,
    change_summary: str = "",
) -> ItemVersion:
    """Start a change: copy the published version into a new draft (a published one never changes)."""
    impl = ItemImplementation.objects.select_for_update().get(pk=impl.pk)
    if open_version(impl) is not None:
        raise ValidationError("该事项已有未发布的版本，请先完成或撤回", code="draft-exists")
    source = impl.published_version or impl.versions.order_by("-number").first()
    number = (impl.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = copy_version(source, number=number) if source else ItemVersion(implementation=impl, number=number)
    draft.created_by = draft.updated_by = _user(actor)
    draft.change_requested_on = change_requested_on or timezone.localdate()
    draft.change_summary = change_summary
    draft.save(update_fields=None)
    if source:
        copy_children(source, draft)
    record_event("catalog.version.draft", f"创建草稿 {impl.code} v{number}", actor=actor, obj=draft)
    return draft


def copy_version(source: ItemVersion, *, number: int) -> ItemVersion:
    draft = ItemVersion(implementation=source.implementation, number=number)
    for f in ItemVersion._meta.concrete_fields:
        if f.name in {
            "id",
            "implementation",
            "number",
            "status",
            "created_at",
            "updated_at",
        } or f.name.startswith(("submitted", "reviewed", "published", "review_", "publication_")):
            continue
        setattr(draft, f.attname, getattr(source, f.attname))
    draft.status = S.DRAFT
    draft.diff = []
    draft.effective_from = None
    return draft


def copy_children(source: ItemVersion, target: ItemVersion) -> None:
    for related in ("materials", "steps", "fees"):
        for row in getattr(source, related).all():
            row.pk = None
            row.version = target
            row.save()
    for question in source.questions.prefetch_related("options"):
        options = list(question.options.all())
        question.pk = None
        question.version = target
        question.save()
        for option in options:
            option.pk = None
            option.question = question
            option.save()


EDITABLE_FIELDS = [
    f.name
    for f in ItemVersion._meta.concrete_fields
    if f.editable
    and f.name
    not in {
        "id",
        "implementation",
        "number",
        "status",
        "created_by",
        "updated_by",
        "submitted_at",
        "submitted_by",
        "reviewed_at",
        "reviewed_by",
        "review_comment",
        "published_at",
        "published_by",
        "publication_working_days",
        "change_requested_on",
        "effective_from",
        "created_at",
        "updated_at",
    }
]


@transaction.atomic
def update_draft(version: ItemVersion, data: dict[str, Any], *, actor=None) -> ItemVersion:
    """Change a draft's elements; ``materials``/``steps``/``fees``/``situations`` lists replace the old."""
    version = ItemVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_editable:
        raise ValidationError(
            "只有草稿状态的版本可以修改（当前：%(s)s）",
            code="version-not-draft",
            params={"s": version.get_status_display()},
        )
    unknown = set(data) - set(EDITABLE_FIELDS) - {"materials", "steps", "fees", "situations", "hall_id"}
    if unknown:
        raise ValidationError(
            "不能修改的字段：%(f)s", code="unknown-field", params={"f": "、".join(sorted(unknown))}
        )
    for name, value in data.items():
        if name in {"materials", "steps", "fees", "situations"}:
            continue
        setattr(version, name, value)
    version.updated_by = _user(actor) or version.updated_by
    version.full_clean(exclude=["implementation", "created_by", "updated_by", "hall"])
    version.save()
    if "situations" in data:
        version.questions.all().delete()
        for qi, q in enumerate(data["situations"] or []):
            question = SituationQuestion.objects.create(
                version=version, key=q["key"], text=q["text"], order=qi
            )
            for oi, o in enumerate(q.get("options") or []):
                SituationOption.objects.create(
                    question=question,
                    key=o["key"],
                    label=o["label"],
                    order=oi,
                    condition_text=o.get("condition_text", ""),
                    extra_visits=o.get("extra_visits", 0),
                )
    if "materials" in data:
        version.materials.all().delete()
        for i, m in enumerate(data["materials"] or []):
            m = dict(m)
            proof_code = m.pop("proof", None)
            proof = ProofEntry.objects.filter(code=proof_code).first() if proof_code else None
            if proof_code and proof is None:
                raise ValidationError(
                    "证明清单中没有编号为 %(c)s 的证明", code="proof-not-listed", params={"c": proof_code}
                )
            # Attached files are referenced by SHA-256 (or given as MaterialFile records).
            m["blank_form_file"] = files.by_sha256(m.pop("blank_form_file", None))
            m["example_file"] = files.by_sha256(m.pop("example_file", None))
            material = Material(version=version, order=i, proof=proof, **m)
            material.full_clean(exclude=["version", "proof", "blank_form_file", "example_file"])
            material.save()
    if "steps" in data:
        version.steps.all().delete()
        for i, s in enumerate(data["steps"] or []):
            ProcessStep.objects.create(version=version, order=i, **s)
    if "fees" in data:
        version.fees.all().delete()
        for f in data["fees"] or []:
            Fee.objects.create(version=version, **f)
    record_event(
        "catalog.version.updated",
        f"修改草稿 {version.implementation.code} v{version.number}",
        actor=actor,
        obj=version,
        data={"fields": sorted(data)},
    )
    return version


# ------------------------------------------------------------------ review and publishing


def _editors(version: ItemVersion) -> set[int]:
    return {pk for pk in (version.updated_by_id, version.submitted_by_id, version.created_by_id) if pk}


@transaction.atomic
def submit_for_review(version: ItemVersion, *, actor=None) -> ItemVersion:
    version = ItemVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != S.DRAFT:
        raise ValidationError("只有草稿可以提交审核", code="version-not-draft")
    rules.raise_for_problems(rules.check_version(version))
    version.status = S.IN_REVIEW
    version.submitted_at = timezone.now()
    version.submitted_by = _user(actor)
    version.diff = diff_dicts(_published_dict(version), version_dict(version))
    version.save()
    record_event(
        "catalog.version.submitted",
        f"提交审核 {version.implementation.code} v{version.number}",
        actor=actor,
        obj=version,
    )
    return version


def _published_dict(version: ItemVersion) -> dict | None:
    published = version.implementation.published_version
    return version_dict(published) if published and published.pk != version.pk else None


@transaction.atomic
def review(version: ItemVersion, *, actor, approve: bool, comment: str = "") -> ItemVersion:
    """审核 — four-eyes: the reviewer is never the person who edited or submitted the version."""
    version = ItemVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != S.IN_REVIEW:
        raise ValidationError("该版本不在待审核状态", code="version-not-in-review")
    if actor is None or actor.pk in _editors(version):
        raise ValidationError("审核人不能是该版本的编辑人或提交人（双人复核）", code="four-eyes")
    if not approve and not comment.strip():
        raise ValidationError("退回修改时须填写审核意见", code="comment-required")
    version.reviewed_at = timezone.now()
    version.reviewed_by = actor
    version.review_comment = comment.strip()
    version.status = S.APPROVED if approve else S.DRAFT
    version.save()
    record_event(
        "catalog.version.approved" if approve else "catalog.version.rejected",
        f"{'审核通过' if approve else '退回修改'} {version.implementation.code} v{version.number}",
        actor=actor,
        obj=version,
        data={"comment": comment},
    )
    return version


@transaction.atomic
def publish(version: ItemVersion, *, actor, effective_from: dt.date | None = None) -> ItemVersion:
    """发布 — the version becomes what the portal, the hall screens and the API show, at once."""
    version = ItemVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != S.APPROVED:
        raise ValidationError("只有审核通过的版本可以发布", code="version-not-approved")
    if actor is None or actor.pk in _editors(version):
        raise ValidationError("发布人不能是该版本的编辑人或提交人（双人复核）", code="four-eyes")
    rules.raise_for_problems(rules.check_version(version))
    if effective_from and effective_from > timezone.localdate():
        return _schedule(version, actor=actor, effective_from=effective_from)
    return _make_published(version, actor=actor, effective_from=effective_from)


def _schedule(version: ItemVersion, *, actor, effective_from: dt.date) -> ItemVersion:
    """A change that takes effect later: announced now (this counts for the 1-working-day rule),
    switched on by :func:`publish_due` on its effective date."""
    version.scheduled_for = effective_from
    version.effective_from = effective_from
    version.published_by = actor
    requested = version.change_requested_on or timezone.localdate(version.created_at)
    version.publication_working_days = working_days_between(requested, timezone.localdate())
    version.save()
    record_event(
        "catalog.version.scheduled",
        f"定时发布 {version.implementation.code} v{version.number}（{effective_from:%Y-%m-%d} 生效）",
        actor=actor,
        obj=version,
    )
    return version


def publish_due(today: dt.date | None = None) -> int:
    """Publish approved versions whose effective date has come (run by a periodic task)."""
    today = today or timezone.localdate()
    count = 0
    due = ItemVersion.objects.filter(status=S.APPROVED, scheduled_for__lte=today).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            version = ItemVersion.objects.select_for_update().get(pk=pk)
            if version.status != S.APPROVED:
                continue
            days = version.publication_working_days
            _make_published(version, actor=version.published_by, effective_from=version.scheduled_for)
            if days is not None:  # the change was public when it was scheduled
                ItemVersion.objects.filter(pk=pk).update(publication_working_days=days)
                queries.PAGES.bump()  # update() sends no post_save
            count += 1
    return count


def scheduled_change(impl: ItemImplementation) -> ItemVersion | None:
    return impl.versions.filter(status=S.APPROVED, scheduled_for__isnull=False).first()


def _make_published(version: ItemVersion, *, actor, effective_from: dt.date | None) -> ItemVersion:
    impl = ItemImplementation.objects.select_for_update().get(pk=version.implementation_id)
    previous = impl.published_version
    version.diff = diff_dicts(version_dict(previous) if previous else None, version_dict(version))
    if previous is not None:
        previous.status = S.SUPERSEDED
        previous.save(update_fields=["status"])
    now = timezone.now()
    version.status = S.PUBLISHED
    version.published_at = now
    version.published_by = _user(actor)
    version.effective_from = effective_from or timezone.localdate()
    requested = version.change_requested_on or timezone.localdate(version.created_at)
    version.publication_working_days = working_days_between(requested, timezone.localdate(now))
    version.save()
    impl.published_version = version
    impl.save(update_fields=["published_version"])
    from tongban.catalog.search import index_implementation

    index_implementation(impl)
    record_event(
        "catalog.version.published",
        f"发布 {impl.code} v{version.number}",
        actor=actor,
        obj=version,
        data={"working_days": version.publication_working_days},
    )
    return version


@transaction.atomic
def publish_directly(version: ItemVersion, *, actor=None, note: str = "") -> ItemVersion:
    """Publish without the review step — only for loading reviewed data (demo, import by 编办)."""
    version = ItemVersion.objects.select_for_update().get(pk=version.pk)
    rules.raise_for_problems(rules.check_version(version))
    version.review_comment = note
    return _make_published(version, actor=actor, effective_from=None)


# ------------------------------------------------------------------ situations (情形引导)


@dataclass
class Guidance:
    materials: list[Material]
    conditions: list[str]
    visits: int
    unanswered: list[SituationQuestion] = field(default_factory=list)


def situation_parts(version: ItemVersion) -> tuple[list[SituationQuestion], list[Material]]:
    """The version's questions (with their options) and materials (with their proofs). A
    published version never changes, so its parts come from the cache (every draft save, upload
    and submission asks); the key also carries ``queries.PAGES``, bumped by any catalogue save."""
    if version.status != ItemVersion.Status.PUBLISHED:
        return _read_situation_parts(version)
    key = f"catalog:situations:{queries.PAGES.current()}:{version.pk}"
    return cache.get_or_set(key, lambda: _read_situation_parts(version), queries.PAGE_CACHE_SECONDS)


def _read_situation_parts(version: ItemVersion) -> tuple[list[SituationQuestion], list[Material]]:
    return list(version.questions.prefetch_related("options")), list(
        version.materials.select_related("proof")
    )


def evaluate_situations(version: ItemVersion, answers: dict[str, str]) -> Guidance:
    """The exact material list for the answers given. Unanswered questions are listed; materials
    that depend on them are left out until answered."""
    questions, all_materials = situation_parts(version)
    by_key = {q.key: q for q in questions}
    chosen: set[str] = set()
    conditions: list[str] = []
    extra_visits = 0
    for key, answer in answers.items():
        question = by_key.get(key)
        if question is None:
            raise ValidationError("未知的情形问题：%(k)s", code="unknown-question", params={"k": key})
        option = next((o for o in question.options.all() if o.key == answer), None)
        if option is None:
            raise ValidationError(
                "“%(q)s”没有选项 %(a)s", code="unknown-option", params={"q": question.text, "a": answer}
            )
        chosen.add(f"{key}={answer}")
        if option.condition_text:
            conditions.append(option.condition_text)
        extra_visits += option.extra_visits
    materials = [
        m
        for m in all_materials
        if m.requirement == Material.Requirement.ALWAYS or chosen.intersection(m.condition_keys())
    ]
    return Guidance(
        materials=materials,
        conditions=conditions,
        visits=version.visits + extra_visits,
        unanswered=[q for q in questions if q.key not in answers],
    )


# ------------------------------------------------------------------ change timeliness (1 working day)


def publication_report(start: dt.date, end: dt.date, region_path: str | None = None) -> list[ItemVersion]:
    """Changes published in [start, end] with the working days they took (rule: at most 1)."""
    queryset = ItemVersion.objects.filter(
        published_at__date__gte=start, published_at__date__lte=end, number__gt=1
    ).select_related("implementation__basic_item", "implementation__organisation", "published_by")
    if region_path:
        queryset = queryset.filter(implementation__region__path__startswith=region_path)
    return list(queryset.order_by("-published_at"))


PUBLICATION_LIMIT_WORKING_DAYS = 1


# --- Basic-item changes (基本目录变更): proposed, approved by a second person, then applied ---------

BASIC_FIELD_LABELS = {
    "name": "事项名称",
    "legal_basis": "设定依据",
    "aliases": "别名（常见说法）",
    "keywords": "关键词",
}


def propose_basic_item_change(
    item: BasicItem, values: dict[str, str], *, actor=None, reason: str = ""
) -> BasicItemChange:
    """Propose new values for a basic item's name, legal basis, aliases or keywords (nothing changes yet)."""
    unknown = set(values) - set(BasicItemChange.FIELDS)
    if unknown:
        raise ValidationError(
            "基本目录变更只能修改事项名称、设定依据、别名和关键词", code="basic-change-field"
        )
    if not (reason or "").strip():
        raise ValidationError("请填写变更理由", code="basic-change-reason")
    changes = []
    for attr in BasicItemChange.FIELDS:
        if attr not in values:
            continue
        raw = str(values[attr])
        new = " ".join(raw.split()) if attr in {"aliases", "keywords"} else raw.strip()
        old = getattr(item, attr)
        if attr in {"name", "legal_basis"} and not new:
            raise ValidationError(
                "%(label)s不能为空", code="missing-element", params={"label": BASIC_FIELD_LABELS[attr]}
            )
        if new != old:
            changes.append({"field": attr, "label": BASIC_FIELD_LABELS[attr], "old": old, "new": new})
    if not changes:
        raise ValidationError("没有任何修改", code="basic-change-empty")
    with transaction.atomic():
        BasicItem.objects.select_for_update().get(pk=item.pk)
        if item.changes.filter(status=BasicItemChange.Status.PROPOSED).exists():
            raise ValidationError(
                "该事项已有一项待审核的基本目录变更，请先审核或退回", code="basic-change-open"
            )
        change = BasicItemChange.objects.create(
            basic_item=item, changes=changes, reason=reason.strip()[:300], proposed_by=_user(actor)
        )
        record_event(
            "catalog.basic_item.change_proposed",
            f"提出基本目录变更：{item.name}（{'、'.join(c['label'] for c in changes)}）",
            actor=actor,
            obj=item,
            data={"changes": changes, "reason": change.reason},
        )
    return change


def review_basic_item_change(
    change: BasicItemChange, *, approve: bool, actor=None, comment: str = ""
) -> BasicItemChange:
    """审核 — four-eyes; approval applies the new values at once (portal, search and API)."""
    with transaction.atomic():
        change = BasicItemChange.objects.select_for_update().get(pk=change.pk)
        if change.status != BasicItemChange.Status.PROPOSED:
            raise ValidationError("该变更已审核，不能重复审核", code="basic-change-closed")
        if actor is not None and change.proposed_by_id == getattr(actor, "pk", None):
            raise ValidationError("审核人不能是变更的提出人（双人复核）", code="four-eyes")
        if not approve and not comment.strip():
            raise ValidationError("退回时请填写审核意见", code="review-comment-required")
        item = BasicItem.objects.select_for_update().get(pk=change.basic_item_id)
        if approve:
            stale = [c["label"] for c in change.changes if getattr(item, c["field"]) != c["old"]]
            if stale:
                raise ValidationError(
                    "提出变更后%(f)s已被修改，请退回后重新提出",
                    code="basic-change-stale",
                    params={"f": "、".join(stale)},
                )
            for c in change.changes:
                setattr(item, c["field"], c["new"])
            item.full_clean(exclude=["parent"])
            item.save()  # the post_save receiver re-indexes every implementation for search
        change.status = BasicItemChange.Status.APPLIED if approve else BasicItemChange.Status.REJECTED
        change.reviewed_by = _user(actor)
        change.reviewed_at = timezone.now()
        change.review_comment = comment.strip()[:500]
        change.save()
        record_event(
            "catalog.basic_item.change_applied" if approve else "catalog.basic_item.change_rejected",
            f"{'通过并生效' if approve else '退回'}基本目录变更：{item.name}",
            actor=actor,
            obj=item,
            data={"changes": change.changes, "comment": change.review_comment},
        )
    return change
