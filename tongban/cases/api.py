"""办件受理 API — for the mobile channel and department systems.

Applicants manage their own applications; staff act on applications in their data scope. Errors
are ``{"code","message"}`` with HTTP 422 (rule broken), 403 (no permission) or 404.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, File, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from tongban.accounts.api import AUTH
from tongban.accounts.delegation import require_delegation
from tongban.accounts.models import DelegationScope, Enterprise, Person
from tongban.cases import access, codes, services
from tongban.cases.models import Application, Channel
from tongban.catalog.models import ItemImplementation
from tongban.core.api import forbidden_as_403
from tongban.core.audit import client_ip
from tongban.core.identifiers import mask_name
from tongban.core.schemas import ResidentId

router = Router(tags=["办件受理"])


class EventOut(Schema):
    action: str
    to_status: str
    reason: str
    at: dt.datetime


class NoticeOut(Schema):
    round: int
    items: list[dict]
    note: str
    issued_at: dt.datetime
    answered_at: dt.datetime | None


class FileOut(Schema):
    material_id: int
    material: str
    content_type: str
    size: int
    sha256: str
    by_commitment: bool


class ApplicationOut(Schema):
    id: int
    reference: str = Field(description="办件编号（受理后）或申请编号")
    case_number: str | None = Field(description="办件编号：实施编码 + YYYYMMDD + 6 位日序号")
    item_code: str
    item_name: str
    status: str
    status_name: str
    exchange_status: str | None = Field(description="GB/T 39046 办件状态代码")
    case_type: str = Field(description="GB/T 39046 办件类型：1 即办件 / 2 承诺件")
    channel: str
    window: str | None = Field(None, description="登记窗口（窗口登记时）")
    applicant: str = Field(description="申请人（脱敏）")
    answers: dict
    form_data: dict
    received_date: dt.date | None
    deadline: dt.date | None
    deadline_provisional: bool
    deemed_accepted: bool
    gaps: list[dict]
    gaps_due_date: dt.date | None
    refusal_reason: str
    files: list[FileOut]
    notices: list[NoticeOut]
    events: list[EventOut]


class QueueItemOut(Schema):
    """One row of a queue: enough to pick a case; its detail is ``GET /applications/{id}``."""

    id: int
    reference: str = Field(description="办件编号（受理后）或申请编号")
    case_number: str | None
    item_code: str
    item_name: str
    status: str
    status_name: str
    channel: str
    window: str | None = Field(None, description="登记窗口（窗口登记时）")
    applicant: str = Field(description="申请人（脱敏）")
    received_date: dt.date | None
    gaps_due_date: dt.date | None


def _queue_item(app: Application) -> dict:
    return {
        "id": app.pk,
        "reference": app.reference,
        "case_number": app.case_number,
        "item_code": app.implementation.code,
        "item_name": app.implementation.basic_item.name,
        "status": app.status,
        "status_name": app.get_status_display(),
        "channel": app.channel,
        "window": str(app.window) if app.window_id else None,
        "applicant": mask_name(app.applicant_name),
        "received_date": app.received_date,
        "gaps_due_date": app.gaps_due_date,
    }


def _out(app: Application) -> dict:
    code = codes.status_code(app.status)
    return {
        **_queue_item(app),
        "exchange_status": code[0] if code else None,
        "case_type": codes.case_type_code(app.version.handling_kind),
        "answers": app.answers,
        "form_data": services.masked_form_data(app),
        "deadline": app.deadline,
        "deadline_provisional": app.deadline_provisional,
        "deemed_accepted": app.deemed_accepted,
        "gaps": app.gaps,
        "refusal_reason": app.refusal_reason,
        # Columns, not model instances: building them was a fifth of an acceptance's answer.
        "files": [
            {
                "material_id": f["material_id"],
                "material": f["material__name"],
                "content_type": f["content_type"],
                "size": f["size"],
                "sha256": f["sha256"],
                "by_commitment": f["by_commitment"],
            }
            for f in app.files.filter(superseded=False).values(
                "material_id", "material__name", "content_type", "size", "sha256", "by_commitment"
            )
        ],
        "notices": list(app.notices.values("round", "items", "note", "issued_at", "answered_at")),
        "events": list(app.events.values("action", "to_status", "reason", at=F("created_at"))),
    }


def _get(request: HttpRequest, pk: int, *, edit: bool = False, for_change: bool = False) -> Application:
    """``for_change``: for a service that locks the case and reads it whole (a narrow read here)."""
    try:
        if for_change:
            app = access.locate_for_change(request.user, pk, edit=edit)
        else:
            app = access.get_for(request.user, pk, edit=edit)
    except Http404 as exc:
        raise HttpError(404, "办件不存在。") from exc
    return services.apply_deemed_acceptance(app)


class StartIn(Schema):
    item_code: str = Field(description="实施编码")
    answers: dict[str, str] = {}
    form_data: dict = {}
    idempotency_key: str = Field("", max_length=64, description="重试时使用同一值，只会创建一个申请")
    as_enterprise: bool = Field(False, description="以当前办事企业身份申请")


def online_applicant(request: HttpRequest, as_enterprise: bool) -> tuple[Person, Enterprise | None]:
    """Who applies online: the signed-in person, and the enterprise they act for when asked
    (also used by the bundles API)."""
    person = Person.objects.filter(user=request.user).first()
    if person is None:
        raise HttpError(403, "只有注册群众或企业经办人可以网上申请。")
    enterprise = services.acting_enterprise(person) if as_enterprise else None
    if as_enterprise and enterprise is None:
        raise HttpError(403, "您当前没有可代表的企业，请先切换办事身份。")
    return person, enterprise


@router.post("/applications", response={201: ApplicationOut}, auth=AUTH, summary="创建申请（草稿）")
def start(request: HttpRequest, payload: StartIn):
    impl = get_object_or_404(
        ItemImplementation.objects.select_related("basic_item", "published_version"), code=payload.item_code
    )
    person, enterprise = online_applicant(request, payload.as_enterprise)
    key = request.headers.get("Idempotency-Key", "") or payload.idempotency_key
    app = services.start_application(
        implementation=impl,
        owner=request.user,
        person=person,
        enterprise=enterprise,
        channel=Channel.MOBILE if request.headers.get("Authorization") else Channel.ONLINE,
        idempotency_key=key[:64],
        request=request,
        answers=payload.answers or None,
        form_data=payload.form_data or None,
    )
    return Status(201, _out(app))


@router.get("/applications", response=list[ApplicationOut], auth=AUTH, summary="我的办件")
def mine(request: HttpRequest):
    return [
        _out(a)
        for a in Application.objects.filter(owner=request.user).select_related(
            "implementation__basic_item", "version"
        )
    ]


@router.get("/applications/{pk}", response=ApplicationOut, auth=AUTH, summary="办件详情与过程")
def detail(request: HttpRequest, pk: int):
    return _out(_get(request, pk))


class DraftIn(Schema):
    answers: dict[str, str] | None = None
    form_data: dict | None = None


@router.patch("/applications/{pk}", response=ApplicationOut, auth=AUTH, summary="保存草稿")
def save(request: HttpRequest, pk: int, payload: DraftIn):
    return _out(
        services.save_draft(
            _get(request, pk, edit=True), answers=payload.answers, form_data=payload.form_data
        )
    )


@router.post(
    "/applications/{pk}/materials/{material_id}",
    response=FileOut,
    auth=AUTH,
    summary="上传材料（PDF/JPG/PNG/OFD，≤20 MB）",
)
def upload(request: HttpRequest, pk: int, material_id: int, file: File[UploadedFile]):
    record = services.upload_material(
        _get(request, pk, edit=True, for_change=True), material_id, file, by=request.user
    )
    return {
        "material_id": record.material_id,
        "material": record.material.name,
        "content_type": record.content_type,
        "size": record.size,
        "sha256": record.sha256,
        "by_commitment": False,
    }


@router.post(
    "/applications/{pk}/materials/{material_id}/commitment",
    response=FileOut,
    auth=AUTH,
    summary="告知承诺替代材料",
)
def commit(request: HttpRequest, pk: int, material_id: int):
    record = services.commit_material(
        _get(request, pk, edit=True, for_change=True), material_id, by=request.user
    )
    return {
        "material_id": record.material_id,
        "material": record.material.name,
        "content_type": "",
        "size": 0,
        "sha256": "",
        "by_commitment": True,
    }


@router.post("/applications/{pk}/submit", response=ApplicationOut, auth=AUTH, summary="提交申请（幂等）")
def submit(request: HttpRequest, pk: int):
    return _out(
        services.submit(_get(request, pk, edit=True, for_change=True), actor=request.user, request=request)
    )


@router.post("/applications/{pk}/resubmit", response=ApplicationOut, auth=AUTH, summary="补正后重新提交")
def resubmit(request: HttpRequest, pk: int):
    return _out(
        services.resubmit(_get(request, pk, edit=True, for_change=True), actor=request.user, request=request)
    )


@router.get("/applications/{pk}/refusal-notice", auth=AUTH, summary="下载不予受理决定书（PDF）")
def refusal_notice(request: HttpRequest, pk: int):
    app = _get(request, pk)
    if not app.refusal_notice:
        raise HttpError(404, "该办件没有不予受理决定书。")
    response = HttpResponse(app.refusal_notice.read(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="refusal-{app.pk}.pdf"'
    return response


# ------------------------------------------------------------------ staff


def _staff(request: HttpRequest, pk: int) -> Application:
    """The case for a clerk's state change (the service locks and reads it whole)."""
    app = _get(request, pk, for_change=True)
    if not request.user.has_perm("cases.accept_application"):
        raise HttpError(403, "您没有办件受理权限。")
    return app


@router.get("/queue", response=list[QueueItemOut], auth=AUTH, summary="待预审队列（最早收件在前）")
def queue(
    request: HttpRequest,
    offset: int = Query(0, ge=0, description="跳过的条数"),
    limit: int = Query(200, ge=1, le=200, description="每次最多返回的条数（1–200）"),
):
    if not request.user.has_perm("cases.accept_application"):
        raise HttpError(403, "您没有办件受理权限。")
    # Rows only: one statement for 200 rows (the full case per row took 1 000 statements).
    apps = services.staff_queue(request.user).select_related("window__hall")[offset : offset + limit]
    return [_queue_item(a) for a in apps]


@router.post("/applications/{pk}/accept", response=ApplicationOut, auth=AUTH, summary="受理")
def accept(request: HttpRequest, pk: int):
    with forbidden_as_403():
        return _out(services.accept(_staff(request, pk), clerk=request.user, request=request))


class RefuseIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/applications/{pk}/refuse", response=ApplicationOut, auth=AUTH, summary="不予受理")
def refuse(request: HttpRequest, pk: int, payload: RefuseIn):
    with forbidden_as_403():
        return _out(
            services.refuse(_staff(request, pk), clerk=request.user, reason=payload.reason, request=request)
        )


class CorrectionItemIn(Schema):
    material_id: int | None = None
    field: str = ""
    problem: str = Field(min_length=1, max_length=300)


class CorrectionsIn(Schema):
    items: list[CorrectionItemIn]
    note: str = ""


@router.post("/applications/{pk}/corrections", response=ApplicationOut, auth=AUTH, summary="一次性告知补正")
def corrections(request: HttpRequest, pk: int, payload: CorrectionsIn):
    app = _staff(request, pk)
    with forbidden_as_403():
        services.request_corrections(
            app,
            clerk=request.user,
            items=[i.dict() for i in payload.items],
            note=payload.note,
            request=request,
        )
    return _out(Application.objects.get(pk=pk))


class GapsIn(Schema):
    missing: list[int]
    due_date: dt.date


@router.post("/applications/{pk}/accept-with-gaps", response=ApplicationOut, auth=AUTH, summary="容缺受理")
def accept_with_gaps(request: HttpRequest, pk: int, payload: GapsIn):
    app = _staff(request, pk)
    with forbidden_as_403():
        return _out(
            services.accept_with_gaps(
                app, clerk=request.user, missing=payload.missing, due_date=payload.due_date, request=request
            )
        )


@router.post("/applications/{pk}/complete", response=ApplicationOut, auth=AUTH, summary="即办件当场办结")
def complete(request: HttpRequest, pk: int):
    with forbidden_as_403():
        return _out(services.complete_on_the_spot(_staff(request, pk), clerk=request.user, request=request))


class WalkInIn(Schema):
    item_code: str
    name: str = Field(min_length=1, max_length=60)
    id_number: ResidentId
    phone: str = ""
    idempotency_key: str = ""
    window_id: int | None = Field(
        None, description="登记窗口（须属于本人所在区划的大厅；区划内只有一个窗口时可省略）"
    )


@router.post(
    "/window/applications", response={201: ApplicationOut}, auth=AUTH, summary="窗口登记（现场申请人）"
)
def window_register(request: HttpRequest, payload: WalkInIn):
    if not request.user.has_perm("cases.register_application"):
        raise HttpError(403, "您没有窗口登记权限。")
    impl = get_object_or_404(
        ItemImplementation.objects.select_related("basic_item", "published_version"), code=payload.item_code
    )
    app = services.start_application(
        implementation=impl,
        owner=None,
        channel=Channel.WINDOW,
        registered_by=request.user,
        window=payload.window_id,
        walk_in={"name": payload.name, "id_number": payload.id_number, "phone": payload.phone},
        request=request,
    )
    return Status(201, _out(app))


class HelperIn(Schema):
    item_code: str


@router.post(
    "/helper/applications", response={201: ApplicationOut}, auth=AUTH, summary="帮办代办：为群众申请"
)
def helper_apply(request: HttpRequest, payload: HelperIn):
    delegation = require_delegation(request, DelegationScope.APPLY)
    impl = get_object_or_404(
        ItemImplementation.objects.select_related("basic_item", "published_version"), code=payload.item_code
    )
    app = services.start_application(
        implementation=impl,
        owner=delegation.citizen.user,
        person=delegation.citizen,
        channel=Channel.HELPER,
        registered_by=request.user,
        delegation=delegation,
        request=request,
    )
    return Status(201, _out(app))


# ------------------------------------------------------------------ public progress


class ProgressIn(Schema):
    case_number: str = Field(max_length=50)
    id_number: str = Field(max_length=20, description="申请人身份证号码")


class ProgressOut(Schema):
    case_number: str
    item_name: str
    applicant: str
    status_name: str
    received_date: dt.date | None
    deadline: dt.date | None
    events: list[EventOut]


@router.post("/progress", response=ProgressOut, summary="办件进度查询（办件编号 + 身份证号）")
def progress(request: HttpRequest, payload: ProgressIn):
    access.throttle_progress(client_ip(request))
    app = services.public_lookup(payload.case_number, payload.id_number)
    if app is None:
        raise HttpError(404, "未查到办件，请核对办件编号和身份证号码。")
    return {
        "case_number": app.case_number,
        "item_name": app.implementation.basic_item.name,
        "applicant": mask_name(app.applicant_name),
        "status_name": app.get_status_display(),
        "received_date": app.received_date,
        "deadline": app.deadline,
        "events": [
            {"action": e.action, "to_status": e.to_status, "reason": "", "at": e.created_at}
            for e in app.events.all()
        ],
    }
