"""一件事 API — public list and guide; the applicant's start/save/upload/submit (idempotent) and
status; the one-window clerk's queue, accept-all and combined correction notice.

Errors are ``{"code","message"}`` in Chinese: 422 (rule broken or bad input), 403, 404.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from tongban.accounts.api import AUTH
from tongban.bundles import access, merge, services
from tongban.bundles.models import Bundle, BundleCase
from tongban.cases.api import online_applicant
from tongban.core.api import forbidden_as_403
from tongban.core.identifiers import mask_name

router = Router(tags=["一件事一次办"])


class BundleItemOut(Schema):
    id: int
    item_code: str = Field(description="实施编码")
    item_name: str
    department: str
    result_name: str
    optional: bool = Field(description="按申请人选择办理（如持有的许可证）")
    option_label: str


class MaterialOut(Schema):
    key: str = Field(description="合并材料标识（上传时使用）")
    name: str
    needs_upload: bool = Field(description="false：部门通过电子证照/数据共享获取")
    is_key: bool
    commitment_allowed: bool
    items: list[str] = Field(description="需要该材料的事项")


class QuestionOut(Schema):
    key: str
    text: str
    options: list[list[str]] = Field(description="[[选项标识, 选项]]")
    items: list[str]


class BundleOut(Schema):
    code: str
    name: str
    region: str
    region_code: str
    lead_department: str
    enterprise_stage: str
    life_event: str
    description: str


class GuideOut(BundleOut):
    items: list[BundleItemOut]
    departments: list[str]
    materials: list[MaterialOut]
    questions: list[QuestionOut]
    visits: int = Field(description="到现场次数：0 或 1")
    promised_days: int


def _bundle_out(b: Bundle) -> dict:
    return {
        "code": b.code,
        "name": b.name,
        "region": b.region.name,
        "region_code": b.region.code,
        "lead_department": b.lead_department.name,
        "enterprise_stage": b.enterprise_stage,
        "life_event": b.life_event,
        "description": b.description,
    }


def _material_out(m: merge.MergedMaterial) -> dict:
    return {
        "key": m.key,
        "name": m.name,
        "needs_upload": m.needs_upload,
        "is_key": m.is_key,
        "commitment_allowed": m.commitment_allowed,
        "items": m.items,
    }


@router.get("/bundles", response=list[BundleOut], summary="一件事列表")
def index(request: HttpRequest, region: str = ""):
    from tongban.core.models import Region

    path = Region.objects.filter(code=region).values_list("path", flat=True).first() if region else None
    if region and path is None:
        raise HttpError(404, "区划不存在。")
    return [_bundle_out(b) for b in services.active_bundles(path)]


@router.get("/bundles/{code}", response=GuideOut, summary="一件事办事指南（事项、部门、合并材料、跑动次数）")
def guide(request: HttpRequest, code: str):
    bundle = get_object_or_404(
        Bundle.objects.select_related("region", "lead_department"), code=code, is_active=True
    )
    g = services.guide(bundle)
    return {
        **_bundle_out(bundle),
        "items": [
            {
                "id": i.pk,
                "item_code": i.implementation.code,
                "item_name": i.implementation.basic_item.name,
                "department": i.implementation.organisation.name,
                "result_name": i.implementation.published_version.result_name,
                "optional": i.optional,
                "option_label": i.option_label,
            }
            for i in g["items"]
        ],
        "departments": g["departments"],
        "materials": [_material_out(m) for m in g["materials"]],
        "questions": [
            {"key": q.key, "text": q.text, "options": [list(o) for o in q.options], "items": q.items}
            for q in g["questions"]
        ],
        "visits": g["visits"],
        "promised_days": g["promised_days"],
    }


# ------------------------------------------------------------------ applicant


class ChildOut(Schema):
    id: int
    item_name: str
    department: str
    reference: str
    case_number: str | None
    status: str
    status_name: str
    deadline: dt.date | None


class FileOut(Schema):
    key: str
    name: str
    original_name: str
    sha256: str
    by_commitment: bool


class BundleCaseOut(Schema):
    id: int
    bundle: str
    bundle_name: str
    reference: str | None = Field(description="一件事编号（提交后）")
    status: str
    status_name: str
    applicant: str = Field(description="申请人（脱敏）")
    selected: list[int]
    answers: dict
    form_data: dict = Field(description="合并申请表（身份证号、手机号脱敏）")
    files: list[FileOut]
    materials: list[MaterialOut] = Field(description="按当前选择和情形合并后的材料")
    problems: list[dict] = Field(description="提交前还需完成的内容")
    children: list[ChildOut]
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    completed_at: dt.datetime | None
    result_number: str


def _out(bc: BundleCase) -> dict:
    items = merge.included_items(bc)
    return {
        "id": bc.pk,
        "bundle": bc.bundle.code,
        "bundle_name": bc.bundle.name,
        "reference": bc.reference,
        "status": bc.status,
        "status_name": bc.get_status_display(),
        "applicant": mask_name(bc.applicant_name),
        "selected": bc.selected,
        "answers": bc.answers,
        "form_data": services.masked_form_data(bc),
        "files": [
            {
                "key": f.key,
                "name": f.name,
                "original_name": f.original_name,
                "sha256": f.sha256,
                "by_commitment": f.by_commitment,
            }
            for f in services.current_files(bc).values()
        ],
        "materials": [_material_out(m) for m in merge.merged_materials(items, bc.answers)],
        "problems": services.check_complete(bc) if bc.status in services.EDITABLE else [],
        "children": [
            {
                "id": a.pk,
                "item_name": a.implementation.basic_item.name,
                "department": a.department.name,
                "reference": a.reference,
                "case_number": a.case_number,
                "status": a.status,
                "status_name": a.get_status_display(),
                "deadline": a.promised_deadline or a.deadline,
            }
            for a in services.children(bc)
        ],
        "submitted_at": bc.submitted_at,
        "accepted_at": bc.accepted_at,
        "completed_at": bc.completed_at,
        "result_number": bc.result_number,
    }


def _get(request: HttpRequest, pk: int, *, edit: bool = False) -> BundleCase:
    try:
        return access.get_for(request.user, pk, edit=edit)
    except Http404 as exc:
        raise HttpError(404, "一件事申请不存在。") from exc


class StartIn(Schema):
    bundle: str = Field(description="一件事标识，如 qiye-kaiban")
    selected: list[int] = Field([], description="选择办理的可选事项 id")
    answers: dict[str, str] = {}
    form_data: dict = {}
    idempotency_key: str = Field("", max_length=64, description="重试时使用同一值，只会创建一个申请")
    as_enterprise: bool = Field(False, description="以当前办事企业身份申请")


@router.post("/cases", response={201: BundleCaseOut}, auth=AUTH, summary="创建一件事申请（草稿）")
def start(request: HttpRequest, payload: StartIn):
    bundle = get_object_or_404(Bundle, code=payload.bundle, is_active=True)
    person, enterprise = online_applicant(request, payload.as_enterprise)
    key = request.headers.get("Idempotency-Key", "") or payload.idempotency_key
    bc = services.start(
        bundle=bundle,
        owner=request.user,
        person=person,
        enterprise=enterprise,
        idempotency_key=key[:64],
        request=request,
    )
    if bc.status == "draft" and (payload.selected or payload.answers or payload.form_data):
        services.save_draft(
            bc,
            selected=payload.selected or None,
            answers=payload.answers or None,
            form_data=payload.form_data or None,
        )
    bc.refresh_from_db()
    return Status(201, _out(bc))


@router.get("/cases", response=list[BundleCaseOut], auth=AUTH, summary="我的一件事")
def mine(request: HttpRequest):
    return [_out(bc) for bc in BundleCase.objects.filter(owner=request.user).select_related("bundle")]


@router.get("/cases/{pk}", response=BundleCaseOut, auth=AUTH, summary="一件事状态与各事项进度")
def detail(request: HttpRequest, pk: int):
    return _out(_get(request, pk))


class DraftIn(Schema):
    selected: list[int] | None = None
    answers: dict[str, str] | None = None
    form_data: dict | None = None


@router.patch("/cases/{pk}", response=BundleCaseOut, auth=AUTH, summary="保存草稿")
def save(request: HttpRequest, pk: int, payload: DraftIn):
    bc = _get(request, pk, edit=True)
    return _out(
        services.save_draft(
            bc, selected=payload.selected, answers=payload.answers, form_data=payload.form_data
        )
    )


@router.post(
    "/cases/{pk}/materials/{key}",
    response=FileOut,
    auth=AUTH,
    summary="上传合并材料（一次上传，多个事项共用）",
)
def upload(request: HttpRequest, pk: int, key: str, file: File[UploadedFile]):
    record = services.upload_material(_get(request, pk, edit=True), key, file, by=request.user)
    return {
        "key": record.key,
        "name": record.name,
        "original_name": record.original_name,
        "sha256": record.sha256,
        "by_commitment": False,
    }


@router.post(
    "/cases/{pk}/materials/{key}/commitment", response=FileOut, auth=AUTH, summary="告知承诺替代合并材料"
)
def commit(request: HttpRequest, pk: int, key: str):
    record = services.commit_material(_get(request, pk, edit=True), key, by=request.user)
    return {"key": record.key, "name": record.name, "original_name": "", "sha256": "", "by_commitment": True}


@router.post(
    "/cases/{pk}/submit", response=BundleCaseOut, auth=AUTH, summary="提交一件事（幂等；一次生成全部子办件）"
)
def submit(request: HttpRequest, pk: int):
    return _out(services.submit(_get(request, pk, edit=True), actor=request.user, request=request))


@router.post("/cases/{pk}/resubmit", response=BundleCaseOut, auth=AUTH, summary="补正后重新提交")
def resubmit(request: HttpRequest, pk: int):
    return _out(services.resubmit(_get(request, pk, edit=True), actor=request.user, request=request))


# ------------------------------------------------------------------ one window


def _require_perm(request: HttpRequest) -> None:
    if not request.user.has_perm("cases.accept_application"):
        raise HttpError(403, "您没有办件受理权限。")


@router.get("/queue", response=list[BundleCaseOut], auth=AUTH, summary="一件事待受理队列（数据权限内）")
def queue(request: HttpRequest):
    _require_perm(request)
    return [_out(bc) for bc in services.queue(request.user)[:200]]


@router.post("/cases/{pk}/accept", response=BundleCaseOut, auth=AUTH, summary="一窗受理：一次受理全部子办件")
def accept(request: HttpRequest, pk: int):
    _require_perm(request)
    with forbidden_as_403():
        return _out(services.accept_all(_get(request, pk), clerk=request.user, request=request))


class CorrectionItemIn(Schema):
    material: str = Field("", description="合并材料标识；为空时指申请表")
    field: str = Field("", description="申请表字段名；为空时指整张申请表")
    problem: str = Field(min_length=1, max_length=300)


class CorrectionIn(Schema):
    items: list[CorrectionItemIn] = Field(min_length=1)
    note: str = Field("", max_length=2000)


@router.post(
    "/cases/{pk}/corrections", response=BundleCaseOut, auth=AUTH, summary="一次性告知补正（整件一份）"
)
def corrections(request: HttpRequest, pk: int, payload: CorrectionIn):
    _require_perm(request)
    with forbidden_as_403():
        bc = _get(request, pk)
        services.request_corrections(
            bc,
            clerk=request.user,
            items=[i.dict() for i in payload.items],
            note=payload.note,
            request=request,
        )
        bc.refresh_from_db()
        return _out(bc)
