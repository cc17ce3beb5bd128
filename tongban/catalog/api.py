"""Catalogue API: public, cacheable reads of published items; administration behind permissions.

Public endpoints only ever show published versions, so portal, hall screens and other systems
read one source. Administration uses the same services as the staff pages (four-eyes included).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Body, Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import django_auth

from tongban.catalog import importexport, queries, services
from tongban.catalog.codes import ItemType
from tongban.catalog.models import BasicItem, ItemImplementation, ItemVersion
from tongban.catalog.scope import can_manage_organisation, manageable
from tongban.catalog.search import search_items
from tongban.catalog.serialize import version_dict
from tongban.core.models import Organisation

router = Router(tags=["事项目录"])
PUBLIC_CACHE = "public, max-age=60"


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[dict] | None = None


class ItemSummaryOut(Schema):
    code: str = Field(description="实施编码（31 位）")
    basic_code: str = Field(description="基本编码（12 位）")
    name: str
    item_type: str = Field(description="事项类型代码（GB/T 39046）")
    item_type_name: str
    organisation: str
    organisation_id: int
    region_code: str
    region_name: str
    handling_kind: str = Field(description="spot 即办件 / promised 承诺件")
    promised_limit_days: int | None
    legal_limit_days: int | None
    visits: int = Field(description="到办事现场次数")
    online_depth: int
    handle_anywhere: str
    url: str


class ItemDetailOut(ItemSummaryOut):
    legal_basis: str
    service_objects: list[str]
    parent_basic_code: str | None
    exercise_level: str
    handling_item_codes: list[str]
    version: int
    effective_from: dt.date | None
    guide: dict[str, Any] = Field(description="办事指南全部要素：受理条件、材料、流程、收费、情形等")


class SituationIn(Schema):
    answers: dict[str, str] = Field(default_factory=dict, description="情形问题标识 → 选项标识")


class MaterialOut(Schema):
    name: str
    source: str
    originals: int
    copies: int
    is_key: bool
    commitment_allowed: bool


class SituationOut(Schema):
    materials: list[MaterialOut]
    conditions: list[str]
    visits: int
    unanswered: list[str] = Field(description="尚未回答的问题")


TYPE_NAMES = dict(ItemType.choices)


def _summary(impl: ItemImplementation) -> dict[str, Any]:
    v = impl.published_version
    item = impl.basic_item
    return {
        "code": impl.code,
        "basic_code": item.code,
        "name": item.name,
        "item_type": item.item_type,
        "item_type_name": TYPE_NAMES[item.item_type],
        "organisation": impl.organisation.name,
        "organisation_id": impl.organisation_id,
        "region_code": impl.region.code,
        "region_name": impl.region.name,
        "handling_kind": v.handling_kind,
        "promised_limit_days": v.promised_limit_days,
        "legal_limit_days": v.legal_limit_days,
        "visits": v.visits,
        "online_depth": v.online_depth,
        "handle_anywhere": v.handle_anywhere,
        "url": impl.get_absolute_url(),
    }


def _cacheable(response: HttpResponse) -> None:
    response["Cache-Control"] = PUBLIC_CACHE


@router.get("/items", response=list[ItemSummaryOut], summary="已发布事项列表、搜索与筛选", auth=None)
def list_items(
    request: HttpRequest,
    response: HttpResponse,
    q: str | None = None,
    region: str | None = None,
    department: str | None = None,
    life: str | None = None,
    stage: str | None = None,
    high_frequency: bool | None = None,
    max_visits: int | None = None,
    item_type: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """q 按中文分词和常见说法搜索（如“开饭店”）；其余参数筛选：region 区划代码（含上级实施的事项），
    department 部门类别，life 人生阶段，stage 企业阶段，max_visits 最多到现场次数（0 即零跑动）。"""
    _cacheable(response)
    limit = max(1, min(limit, 200))
    if q:
        hits = search_items(q, region=region, department=department, limit=offset + limit)
        return [_summary(h.implementation) for h in hits[offset:]]
    queryset = queries.filtered(
        region=region,
        department=department,
        life=life,
        stage=stage,
        high_frequency=high_frequency,
        max_visits=max_visits,
        item_type=item_type,
    )
    return [_summary(i) for i in queryset[offset : offset + limit]]


@router.get(
    "/items/{code}", response={200: ItemDetailOut, 404: ErrorOut}, summary="事项办事指南详情", auth=None
)
def item_detail(request: HttpRequest, response: HttpResponse, code: str):
    impl = queries.published().filter(code=code).first()
    if impl is None:
        return Status(404, {"code": "item-not-found", "message": f"没有实施编码为 {code} 的已发布事项"})
    _cacheable(response)
    v = impl.published_version
    item = impl.basic_item
    return {
        **_summary(impl),
        "legal_basis": item.legal_basis,
        "service_objects": item.service_object_labels(),
        "parent_basic_code": item.parent.code if item.parent_id else None,
        "exercise_level": impl.exercise_level,
        "handling_item_codes": [h.code for h in impl.handling_items.all()],
        "version": v.number,
        "effective_from": v.effective_from,
        "guide": version_dict(v),
    }


@router.post(
    "/items/{code}/situations",
    response={200: SituationOut, 404: ErrorOut, 422: ErrorOut},
    summary="情形引导：按回答给出材料清单",
    auth=None,
)
def evaluate(request: HttpRequest, code: str, payload: SituationIn):
    impl = queries.published().filter(code=code).first()
    if impl is None:
        return Status(404, {"code": "item-not-found", "message": f"没有实施编码为 {code} 的已发布事项"})
    g = services.evaluate_situations(impl.published_version, payload.answers)
    return {
        "materials": g.materials,
        "conditions": g.conditions,
        "visits": g.visits,
        "unanswered": [q.text for q in g.unanswered],
    }


@router.get("/export", response=list[dict], summary="导出已发布事项目录（JSON）", auth=None)
def export(request: HttpRequest, response: HttpResponse) -> list[dict[str, Any]]:
    _cacheable(response)
    response["Content-Disposition"] = 'inline; filename="catalog.json"'
    return importexport.export_published()


# ------------------------------------------------------------------ administration


class VersionOut(Schema):
    id: int
    number: int
    status: str
    status_name: str
    change_summary: str
    created_by: str | None
    updated_by: str | None
    submitted_by: str | None
    reviewed_by: str | None
    review_comment: str
    published_by: str | None
    published_at: dt.datetime | None
    effective_from: dt.date | None
    scheduled_for: dt.date | None = Field(description="定时发布日期（审核通过、尚未生效）")
    publication_working_days: int | None
    diff: list[dict]


class CreateIn(Schema):
    basic_code: str | None = Field(
        None, description="已有基本目录事项的基本编码；不填则按下列字段新建基本事项（编码自动生成）"
    )
    name: str | None = None
    item_type: str | None = None
    department_key: str | None = None
    legal_basis: str | None = None
    service_objects: str | None = None
    organisation_credit_code: str = Field(description="实施主体统一社会信用代码")


class DraftIn(Schema):
    change_summary: str = ""
    change_requested_on: dt.date | None = None


class ReviewIn(Schema):
    approve: bool
    comment: str = ""


class PublishIn(Schema):
    effective_from: dt.date | None = None


class ImportOut(Schema):
    created: int


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise HttpError(403, "没有权限执行此操作")


def _name(user) -> str | None:
    return str(user) if user else None


def _version_out(v: ItemVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "number": v.number,
        "status": v.status,
        "status_name": v.get_status_display(),
        "change_summary": v.change_summary,
        "created_by": _name(v.created_by),
        "updated_by": _name(v.updated_by),
        "submitted_by": _name(v.submitted_by),
        "reviewed_by": _name(v.reviewed_by),
        "review_comment": v.review_comment,
        "published_by": _name(v.published_by),
        "published_at": v.published_at,
        "effective_from": v.effective_from,
        "scheduled_for": v.scheduled_for,
        "publication_working_days": v.publication_working_days,
        "diff": v.diff,
    }


def _rule_errors(exc: ValidationError) -> tuple[int, dict[str, Any]]:
    errors = [{"code": e.code or "invalid", "message": m} for e in exc.error_list for m in e.messages]
    return Status(
        422,
        {
            "code": errors[0]["code"] if len(errors) == 1 else "rules-failed",
            "message": "；".join(exc.messages),
            "errors": errors,
        },
    )


def _impl(request: HttpRequest, code: str) -> ItemImplementation:
    return get_object_or_404(manageable(request.user), code=code)


@router.post(
    "/manage/items",
    response={201: VersionOut, 403: ErrorOut, 422: ErrorOut},
    auth=django_auth,
    summary="新增实施清单事项（生成编码并创建草稿）",
)
def create_item(request: HttpRequest, payload: CreateIn):
    _require(request, "catalog.add_itemversion")
    org = Organisation.objects.filter(credit_code=payload.organisation_credit_code).first()
    if org is None:
        return Status(422, {"code": "organisation-unknown", "message": "没有该统一社会信用代码的部门"})
    if not can_manage_organisation(request.user, org):
        raise HttpError(403, "无权为该部门新增事项")
    if payload.basic_code:
        item = BasicItem.objects.filter(code=payload.basic_code).first()
        if item is None:
            message = f"基本编码 {payload.basic_code} 不存在"
            return Status(422, {"code": "basic-item-unknown", "message": message})
    else:
        missing = [
            f
            for f in ("name", "item_type", "department_key", "legal_basis", "service_objects")
            if not getattr(payload, f)
        ]
        if missing:
            message = "新建基本事项缺少：" + "、".join(missing)
            return Status(422, {"code": "missing-field", "message": message})
        item = services.create_basic_item(
            name=payload.name,
            item_type=payload.item_type,
            department_key=payload.department_key,
            legal_basis=payload.legal_basis,
            service_objects=payload.service_objects,
            actor=request.user,
        )
    impl = services.create_implementation(item, org, actor=request.user)
    return Status(201, _version_out(impl.versions.get()))


@router.get(
    "/manage/items/{code}/versions",
    response={200: list[VersionOut], 403: ErrorOut},
    auth=django_auth,
    summary="版本历史（含变更差异）",
)
def versions(request: HttpRequest, code: str):
    _require(request, "catalog.view_itemversion")
    return [
        _version_out(v)
        for v in _impl(request, code).versions.select_related(
            "created_by", "updated_by", "submitted_by", "reviewed_by", "published_by"
        )
    ]


@router.post(
    "/manage/items/{code}/drafts",
    response={201: VersionOut, 403: ErrorOut, 422: ErrorOut},
    auth=django_auth,
    summary="创建新草稿（复制现行版本）",
)
def create_draft(request: HttpRequest, code: str, payload: DraftIn):
    _require(request, "catalog.change_itemversion")
    draft = services.new_draft(
        _impl(request, code),
        actor=request.user,
        change_summary=payload.change_summary,
        change_requested_on=payload.change_requested_on,
    )
    return Status(201, _version_out(draft))


def _open(request: HttpRequest, code: str, status: str) -> ItemVersion:
    version = _impl(request, code).versions.filter(status=status).first()
    if version is None:
        raise ValidationError(
            "该事项没有%(s)s的版本", code="no-such-version", params={"s": ItemVersion.Status(status).label}
        )
    return version


@router.patch(
    "/manage/items/{code}/draft",
    response={200: VersionOut, 403: ErrorOut, 422: ErrorOut},
    auth=django_auth,
    summary="修改草稿的办事指南要素",
    description="请求体为要素字段的部分更新；materials、steps、fees、situations 为列表时整体替换。",
)
def update_draft(request: HttpRequest, code: str, payload: Body[dict[str, Any]]):
    _require(request, "catalog.change_itemversion")
    version = services.update_draft(
        _open(request, code, ItemVersion.Status.DRAFT), payload, actor=request.user
    )
    return _version_out(version)


@router.post(
    "/manage/items/{code}/submit",
    response={200: VersionOut, 403: ErrorOut, 422: ErrorOut},
    auth=django_auth,
    summary="提交审核（运行发布校验）",
)
def submit(request: HttpRequest, code: str):
    _require(request, "catalog.change_itemversion")
    try:
        return _version_out(
            services.submit_for_review(_open(request, code, ItemVersion.Status.DRAFT), actor=request.user)
        )
    except ValidationError as exc:
        return _rule_errors(exc)


@router.post(
    "/manage/items/{code}/review",
    response={200: VersionOut, 403: ErrorOut, 422: ErrorOut},
    auth=django_auth,
    summary="审核（通过或退回；审核人不能是编辑人）",
)
def review(request: HttpRequest, code: str, payload: ReviewIn):
    _require(request, "catalog.review_itemversion")
    version = services.review(
        _open(request, code, ItemVersion.Status.IN_REVIEW),
        actor=request.user,
        approve=payload.approve,
        comment=payload.comment,
    )
    return _version_out(version)


@router.post(
    "/manage/items/{code}/publish",
    response={200: VersionOut, 403: ErrorOut, 422: ErrorOut},
    auth=django_auth,
    summary="发布（即时生效于门户、大厅和接口）",
)
def publish(request: HttpRequest, code: str, payload: PublishIn):
    _require(request, "catalog.publish_itemversion")
    try:
        version = services.publish(
            _open(request, code, ItemVersion.Status.APPROVED),
            actor=request.user,
            effective_from=payload.effective_from,
        )
    except ValidationError as exc:
        return _rule_errors(exc)
    return _version_out(version)


@router.post(
    "/manage/import",
    response={200: ImportOut, 403: ErrorOut, 422: ErrorOut},
    auth=django_auth,
    summary="导入事项（JSON，全部校验通过才导入）",
)
def import_items(request: HttpRequest, payload: Body[list[dict[str, Any]]]):
    _require(request, "catalog.add_itemversion")
    try:
        result = importexport.import_records(payload, actor=request.user)
    except importexport.ImportFailed as exc:
        return Status(
            422,
            {
                "code": "import-failed",
                "message": f"发现 {len(exc.problems)} 个问题，未导入任何数据",
                "errors": exc.problems,
            },
        )
    return {"created": result.created}


@router.get(
    "/manage/report",
    response={200: list[VersionOut], 403: ErrorOut},
    auth=django_auth,
    summary="变更发布时效报告（1 个工作日规则）",
)
def report(request: HttpRequest, start: dt.date, end: dt.date):
    _require(request, "catalog.view_itemversion")
    return [_version_out(v) for v in services.publication_report(start, end)]
