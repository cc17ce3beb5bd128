"""审批流程 definitions API (mounted at /api/workflow/definitions/): the same services as the staff
pages. Session (CSRF for writes) or personal access token; out-of-scope definitions answer 404.

An invalid graph answers 422 ``{"code": "graph-invalid", "message": ..., "errors": [{"code",
"message", "node"}, ...]}`` with every problem, and nothing is saved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from tongban.accounts.api import AUTH
from tongban.catalog.models import ItemImplementation
from tongban.core.api import NotFoundError
from tongban.core.models import Organisation, Region
from tongban.workflow import definitions as svc
from tongban.workflow.graph import Problem
from tongban.workflow.models import ProcessDefinition, ProcessVersion

router = Router(tags=["审批流程定义"], auth=AUTH)


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[dict] | None = None


class ProblemOut(Schema):
    code: str = Field(description="稳定的问题代码，例如 unreachable、branch-not-joined、shares-sum")
    message: str = Field(description="中文说明")
    node: str = Field(description="所涉环节的标识（与某一环节无关时为空）")


class ChangeOut(Schema):
    kind: str = Field(description="added 新增 / removed 删除 / changed 修改 / start 开始环节")
    node: str
    summary: str


class VersionOut(Schema):
    number: int
    status: str = Field(description="draft 草稿 / published 已发布 / retired 已停用")
    status_name: str
    note: str
    graph: dict[str, Any] = Field(description="流程图，节点格式见 docs/workflow-definitions.md")
    problems: list[ProblemOut] = Field(description="校验问题（已保存的草稿和已发布版本通常为空）")
    changes: list[ChangeOut] = Field(description="与上一版本相比的环节变更")
    created_by: str | None
    created_at: dt.datetime
    published_by: str | None
    published_at: dt.datetime | None


class DefinitionOut(Schema):
    key: str
    name: str
    region_code: str | None = Field(description="所属区划；空为所有区划共用的默认流程")
    department: str | None = Field(description="牵头部门名称")
    department_credit_code: str | None
    description: str
    published_number: int | None = Field(description="现行发布版本号")
    draft_number: int | None = Field(description="草稿版本号")
    editable: bool = Field(description="当前用户能否编辑")
    implementations: list[str] = Field(description="使用本流程的实施清单事项编码")


class DefinitionDetailOut(DefinitionOut):
    versions: list[VersionOut] = Field(description="全部版本，新的在前")


class CreateIn(Schema):
    key: str = Field(description="流程标识：小写字母、数字、连字符")
    name: str
    region_code: str
    department_credit_code: str | None = None
    description: str = ""
    graph: dict[str, Any] | None = Field(
        None, description="初始流程图；不填为默认的审查 → 审核 → 决定 → 送达"
    )


class NoteIn(Schema):
    note: str = ""


class DraftIn(Schema):
    graph: dict[str, Any]
    note: str | None = None


class GraphIn(Schema):
    graph: dict[str, Any]


class BindIn(Schema):
    implementation_code: str = Field(description="实施编码")


class BindOut(Schema):
    implementation_code: str
    definition_key: str | None


def _require_view(request: HttpRequest) -> None:
    if not svc.can_view_definitions(request.user):
        raise HttpError(403, "您没有查看审批流程的权限。")


def _definition(request: HttpRequest, key: str, *, write: bool = False) -> ProcessDefinition:
    _require_view(request)
    definition = (
        svc.definitions_for(request.user, write=write)
        .select_related("region", "department")
        .filter(key=key)
        .first()
    )
    if definition is None:
        if write and svc.definitions_for(request.user).filter(key=key).exists():
            raise HttpError(403, "您无权编辑该审批流程。")
        raise NotFoundError("definition-unknown", f"审批流程“{key}”不存在。")
    return definition


def _problems(problems: list[Problem]) -> list[dict[str, str]]:
    return [{"code": p.code, "message": p.message, "node": p.node} for p in problems]


def _invalid(definition: ProcessDefinition, graph: Any) -> Status | None:
    found = svc.problems_of(definition, graph)
    if not found:
        return None
    return Status(
        422,
        {
            "code": "graph-invalid",
            "message": f"流程图有{len(found)}个问题：" + "；".join(p.message for p in found),
            "errors": _problems(found),
        },
    )


def _error(exc: ValidationError | PermissionDenied) -> Status:
    if isinstance(exc, PermissionDenied):
        return Status(403, {"code": "forbidden", "message": str(exc) or "没有权限执行此操作。"})
    errors = [
        {"code": e.code or "invalid", "message": m, "node": ""} for e in exc.error_list for m in e.messages
    ]
    return Status(
        422,
        {
            "code": errors[0]["code"] if len(errors) == 1 else "graph-invalid",
            "message": "；".join(exc.messages),
            "errors": errors,
        },
    )


def _version_out(
    definition: ProcessDefinition, version: ProcessVersion, previous: ProcessVersion | None
) -> dict:
    return {
        "number": version.number,
        "status": version.status,
        "status_name": version.get_status_display(),
        "note": version.note,
        "graph": version.graph,
        "problems": _problems(svc.problems_of(definition, version.graph))
        if version.status == "draft"
        else [],
        "changes": [c.as_dict() for c in svc.diff_graphs(previous.graph, version.graph)] if previous else [],
        "created_by": str(version.created_by) if version.created_by_id else None,
        "created_at": version.created_at,
        "published_by": str(version.published_by) if version.published_by_id else None,
        "published_at": version.published_at,
    }


def _definition_out(request: HttpRequest, definition: ProcessDefinition, *, versions: bool = False) -> dict:
    all_versions = list(definition.versions.select_related("created_by", "published_by").order_by("number"))
    published = [v for v in all_versions if v.status == ProcessVersion.State.PUBLISHED]
    drafts = [v for v in all_versions if v.status == ProcessVersion.State.DRAFT]
    out = {
        "key": definition.key,
        "name": definition.name,
        "region_code": definition.region.code if definition.region_id else None,
        "department": definition.department.name if definition.department_id else None,
        "department_credit_code": definition.department.credit_code if definition.department_id else None,
        "description": definition.description,
        "published_number": published[-1].number if published else None,
        "draft_number": drafts[-1].number if drafts else None,
        "editable": svc.definitions_for(request.user, write=True).filter(pk=definition.pk).exists(),
        "implementations": list(
            ItemImplementation.objects.filter(process=definition)
            .order_by("code")
            .values_list("code", flat=True)
        ),
    }
    if versions:
        out["versions"] = [
            _version_out(definition, v, all_versions[i - 1] if i else None)
            for i, v in enumerate(all_versions)
        ][::-1]
    return out


@router.get("", response={200: list[DefinitionOut], 403: ErrorOut}, summary="我管辖范围内的审批流程")
def list_definitions(request: HttpRequest):
    _require_view(request)
    queryset = svc.definitions_for(request.user).select_related("region", "department").order_by("key")
    return [_definition_out(request, d) for d in queryset[:500]]


@router.post(
    "/validate",
    response={200: list[ProblemOut], 403: ErrorOut},
    summary="校验流程图（不保存）：返回全部问题，空列表为通过",
)
def validate_graph(request: HttpRequest, payload: GraphIn, definition: str | None = None):
    _require_view(request)
    target = _definition(request, definition) if definition else ProcessDefinition(key="-", name="-")
    return _problems(svc.problems_of(target, payload.graph))


@router.post(
    "",
    response={201: DefinitionDetailOut, 403: ErrorOut, 422: ErrorOut},
    summary="新建审批流程（草稿第1版）",
)
def create_definition(request: HttpRequest, payload: CreateIn):
    _require_view(request)
    region = Region.objects.filter(code=payload.region_code).first()
    if region is None:
        return Status(422, {"code": "region-unknown", "message": f"区划“{payload.region_code}”不存在。"})
    department = None
    if payload.department_credit_code:
        department = Organisation.objects.filter(credit_code=payload.department_credit_code).first()
        if department is None:
            return Status(422, {"code": "organisation-unknown", "message": "没有该统一社会信用代码的部门。"})
    try:
        definition = svc.create_definition(
            actor=request.user,
            key=payload.key,
            name=payload.name,
            region=region,
            department=department,
            description=payload.description,
            graph=payload.graph,
            request=request,
        )
    except (ValidationError, PermissionDenied) as exc:
        return _error(exc)
    return Status(201, _definition_out(request, definition, versions=True))


@router.get(
    "/{key}",
    response={200: DefinitionDetailOut, 403: ErrorOut, 404: ErrorOut},
    summary="审批流程及其全部版本",
)
def get_definition(request: HttpRequest, key: str):
    return _definition_out(request, _definition(request, key), versions=True)


@router.get(
    "/{key}/versions/{number}",
    response={200: VersionOut, 403: ErrorOut, 404: ErrorOut},
    summary="某一版本（含校验问题和与上一版本的差异）",
)
def get_version(request: HttpRequest, key: str, number: int):
    definition = _definition(request, key)
    version = definition.versions.filter(number=number).first()
    if version is None:
        raise NotFoundError("version-unknown", f"第{number}版不存在。")
    return _version_out(definition, version, svc.previous_version(version))


@router.post(
    "/{key}/draft",
    response={201: VersionOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="新建草稿（复制最新版本）",
)
def create_draft(request: HttpRequest, key: str, payload: NoteIn):
    definition = _definition(request, key, write=True)
    try:
        version = svc.new_draft(definition, actor=request.user, note=payload.note, request=request)
    except (ValidationError, PermissionDenied) as exc:
        return _error(exc)
    return Status(201, _version_out(definition, version, svc.previous_version(version)))


def _draft(definition: ProcessDefinition) -> ProcessVersion:
    draft = svc.draft_of(definition)
    if draft is None:
        raise NotFoundError("draft-missing", "该流程没有草稿，请先新建草稿。")
    return draft


@router.put(
    "/{key}/draft",
    response={200: VersionOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="保存草稿：流程图有问题时返回 422 和全部问题，不保存",
)
def save_draft(request: HttpRequest, key: str, payload: DraftIn):
    definition = _definition(request, key, write=True)
    draft = _draft(definition)
    invalid = _invalid(definition, payload.graph)
    if invalid:
        return invalid
    try:
        version = svc.save_draft(draft, payload.graph, actor=request.user, note=payload.note, request=request)
    except (ValidationError, PermissionDenied) as exc:
        return _error(exc)
    return _version_out(definition, version, svc.previous_version(version))


@router.post(
    "/{key}/draft/publish",
    response={200: VersionOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="发布草稿（再次校验；现行版本停用；在办案件不受影响）",
)
def publish_draft(request: HttpRequest, key: str):
    definition = _definition(request, key, write=True)
    draft = _draft(definition)
    invalid = _invalid(definition, draft.graph)
    if invalid:
        return invalid
    try:
        version = svc.publish(draft, actor=request.user, request=request)
    except (ValidationError, PermissionDenied) as exc:
        return _error(exc)
    return _version_out(definition, version, svc.previous_version(version))


@router.post(
    "/{key}/implementations",
    response={200: BindOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="为实施清单事项指定本流程",
)
def bind(request: HttpRequest, key: str, payload: BindIn):
    definition = _definition(request, key, write=True)
    impl = ItemImplementation.objects.filter(code=payload.implementation_code).first()
    if impl is None:
        raise NotFoundError("implementation-unknown", "实施清单事项不存在。")
    try:
        svc.bind_implementation(impl, definition, actor=request.user, request=request)
    except (ValidationError, PermissionDenied) as exc:
        return _error(exc)
    return {"implementation_code": impl.code, "definition_key": definition.key}


@router.delete(
    "/{key}/implementations/{code}",
    response={200: BindOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="事项不再使用本流程（改用默认流程）",
)
def unbind(request: HttpRequest, key: str, code: str):
    definition = _definition(request, key, write=True)
    impl = ItemImplementation.objects.filter(code=code, process=definition).first()
    if impl is None:
        raise NotFoundError("implementation-unknown", "该事项没有使用本流程。")
    try:
        svc.unbind_implementation(impl, actor=request.user, request=request)
    except (ValidationError, PermissionDenied) as exc:
        return _error(exc)
    return {"implementation_code": impl.code, "definition_key": None}
