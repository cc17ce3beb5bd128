"""Core API: regions, organisations, halls and windows; the shared Chinese error handling."""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tongban.core import services
from tongban.core.models import Organisation, Region, ServiceHall

router = Router(tags=["基础数据"])

# Unknown codes in paths and filters: a well-formed code that matches nothing answers 404
# {"code": "region-unknown"}; a malformed code answers 422 {"code": "region-code-format"}.
# Never an empty 200, so a typo in a filter is not mistaken for "there is nothing here".


class NotFoundError(Exception):
    """Answered as HTTP 404 {"code", "message"} by the handler in ``install_error_handlers``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class ErrorOut(Schema):
    code: str = Field(description="稳定的错误代码，例如 region-unknown")
    message: str = Field(description="中文错误说明")
    errors: list[dict] | None = None


class RegionOut(Schema):
    code: str = Field(
        description="区划代码：省、市、县级 6 位（GB/T 2260），乡、村级 12 位（统计用区划代码）"
    )
    name: str
    level: int = Field(description="层级：1 省级，2 市级，3 县级，4 乡级，5 村级")
    level_name: str
    parent_code: str | None


class RegionDetailOut(RegionOut):
    full_name: str = Field(description="从省级起的全称，例如 安徽省六安市金安区")
    ancestors: list[RegionOut] = Field(description="从省级到上一级的各级区划")
    children: list[RegionOut] = Field(description="直接下级区划")


class OrganisationOut(Schema):
    id: int
    name: str
    short_name: str
    credit_code: str = Field(description="统一社会信用代码（GB 32100）")
    kind: str
    region_code: str
    region_name: str
    parent_id: int | None
    phone: str
    address: str


class HallOut(Schema):
    id: int
    name: str
    kind: str
    region_code: str
    address: str
    longitude: float | None
    latitude: float | None
    opening_hours: str
    phone: str


class WindowOut(Schema):
    number: str
    name: str
    kind: str
    kind_name: str
    organisations: list[str] = Field(description="进驻部门名称（专项窗口）")


class HallDetailOut(HallOut):
    kind_name: str
    region_name: str
    operator: str | None = Field(description="管理机构名称")
    opening_periods: list[dict] = Field(
        description='办公时段，例如 [{"days": [1,2,3,4,5], "open": "09:00", "close": "12:00"}]'
    )
    hours_note: str
    windows: list[WindowOut]


def _region_from_code(code: str) -> Region:
    """Path or filter code → region: 422 when malformed, 404 when unknown."""
    code = services.normalise_code(code)
    if services.infer_region_level(code) is None:
        raise DjangoValidationError(
            f"区划代码“{code}”格式不正确：应为 6 位（省、市、县级）或 12 位（乡、村级）数字。",
            code="region-code-format",
        )
    try:
        return services.get_region(code)
    except DjangoValidationError as error:
        raise NotFoundError("region-unknown", "；".join(error.messages)) from None


def _region_out(region: Region) -> dict:
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "level_name": region.get_level_display(),
        "parent_code": region.parent.code if region.parent_id else None,
    }


def _hall_out(hall: ServiceHall) -> dict:
    return {
        "id": hall.id,
        "name": hall.name,
        "kind": hall.kind,
        "region_code": hall.region.code,
        "address": hall.address,
        "longitude": float(hall.longitude) if hall.longitude is not None else None,
        "latitude": float(hall.latitude) if hall.latitude is not None else None,
        "opening_hours": hall.opening_hours_text,
        "phone": hall.phone,
    }


@router.get(
    "/regions",
    response={200: list[RegionOut], 404: ErrorOut, 422: ErrorOut},
    summary="行政区划列表",
    description="不带 parent 时返回省级区划；parent 为区划代码时返回其直接下级。上级代码不存在时返回 404。",
)
def list_regions(request: HttpRequest, parent: str | None = None) -> list[dict]:
    queryset = Region.objects.filter(is_active=True).select_related("parent")
    if parent:
        queryset = queryset.filter(parent=_region_from_code(parent))
    else:
        queryset = queryset.filter(parent__isnull=True)
    return [_region_out(r) for r in queryset]


@router.get(
    "/regions/{code}",
    response={200: RegionDetailOut, 404: ErrorOut, 422: ErrorOut},
    summary="行政区划详情",
    description="按区划代码查询一个区划，附上各级上级和直接下级。代码不存在时返回 404。",
)
def region_detail(request: HttpRequest, code: str) -> dict:
    region = _region_from_code(code)
    ancestors = []
    node = region.parent
    while node is not None:
        ancestors.append(node)
        node = node.parent
    children = region.children.filter(is_active=True).select_related("parent")
    return {
        **_region_out(region),
        "full_name": region.full_name,
        "ancestors": [_region_out(r) for r in reversed(ancestors)],
        "children": [_region_out(r) for r in children],
    }


@router.get(
    "/organisations",
    response={200: list[OrganisationOut], 404: ErrorOut, 422: ErrorOut},
    summary="部门机构列表",
    description="region 为区划代码时只列该区划的机构；below=true（默认）时包括其下级区划的机构。"
    "q 按名称或简称筛选。区划代码不存在时返回 404。",
)
def list_organisations(
    request: HttpRequest, region: str | None = None, below: bool = True, q: str | None = None
) -> list[dict]:
    queryset = Organisation.objects.filter(is_active=True).select_related("region")
    if region:
        place = _region_from_code(region)
        queryset = (
            queryset.filter(region__path__startswith=place.path) if below else queryset.filter(region=place)
        )
    if q:
        queryset = queryset.filter(Q(name__contains=q.strip()) | Q(short_name__contains=q.strip()))
    return [
        {
            "id": o.id,
            "name": o.name,
            "short_name": o.short_name,
            "credit_code": o.credit_code,
            "kind": o.kind,
            "region_code": o.region.code,
            "region_name": o.region.name,
            "parent_id": o.parent_id,
            "phone": o.phone,
            "address": o.address,
        }
        for o in queryset
    ]


@router.get(
    "/halls",
    response={200: list[HallOut], 404: ErrorOut, 422: ErrorOut},
    summary="服务大厅与站点",
    description="region 为区划代码时列出该区划及其下级区划的大厅和站点。区划代码不存在时返回 404。",
)
def list_halls(request: HttpRequest, region: str | None = None) -> list[dict]:
    queryset = ServiceHall.objects.filter(is_active=True).select_related("region")
    if region:
        queryset = queryset.filter(region__path__startswith=_region_from_code(region).path)
    return [_hall_out(h) for h in queryset]


@router.get(
    "/halls/{hall_id}",
    response={200: HallDetailOut, 404: ErrorOut},
    summary="服务大厅详情",
    description="大厅或站点的地址、办公时间、电话和窗口（含专项窗口的进驻部门）。",
)
def hall_detail(request: HttpRequest, hall_id: int) -> dict:
    hall = ServiceHall.objects.filter(pk=hall_id, is_active=True).select_related("region", "operator").first()
    if hall is None:
        raise NotFoundError("hall-unknown", f"编号为 {hall_id} 的服务大厅不存在或已停用。")
    windows = hall.windows.filter(is_active=True).prefetch_related("organisations")
    return {
        **_hall_out(hall),
        "kind_name": hall.get_kind_display(),
        "region_name": hall.region.full_name,
        "operator": hall.operator.name if hall.operator_id else None,
        "opening_periods": hall.opening_hours or [],
        "hours_note": hall.hours_note,
        "windows": [
            {
                "number": w.number,
                "name": w.name,
                "kind": w.kind,
                "kind_name": w.get_kind_display(),
                "organisations": [o.name for o in w.organisations.all()],
            }
            for w in windows
        ],
    }


_FIELD_LOCATIONS = {"body", "query", "path", "form", "file", "header", "cookie"}


#: pydantic's error types in Chinese; ``{…}`` are filled from the error's context.
_PYDANTIC_MESSAGES = {
    "missing": "此项为必填项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_type": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为时间（YYYY-MM-DDTHH:MM:SS）",
    "datetime_from_date_parsing": "应为时间（YYYY-MM-DDTHH:MM:SS）",
    "datetime_type": "应为时间（YYYY-MM-DDTHH:MM:SS）",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "enum": "应为以下之一：{expected}",
    "literal_error": "应为以下之一：{expected}",
    "extra_forbidden": "不接受此项",
}


def _describe_validation_error(error: dict) -> dict:
    loc = [str(part) for part in error.get("loc", []) if str(part) not in _FIELD_LOCATIONS]
    kind = error.get("type")
    if kind == "value_error":
        # our validators already speak Chinese; pydantic prefixes them with "Value error, "
        message = str(error.get("msg", "格式不正确")).removeprefix("Value error, ")
    else:
        template = _PYDANTIC_MESSAGES.get(kind, "格式不正确")
        try:
            message = template.format(**(error.get("ctx") or {}))
        except (KeyError, IndexError, ValueError):
            message = template.split("{", 1)[0].rstrip("：") or "格式不正确"
    return {"field": ".".join(loc), "message": message}


@contextmanager
def forbidden_as_403():
    """Scope and permission refusals from services answer 403 with the {"code","message"} body."""
    try:
        yield
    except PermissionDenied as exc:
        raise HttpError(403, str(exc) or "没有权限。") from exc


def install_error_handlers(api: NinjaAPI) -> None:
    """Every API error answers {"code", "message"} in Chinese; never a stack trace."""

    @api.exception_handler(NinjaValidationError)
    def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [_describe_validation_error(e) for e in exc.errors]
        summary = "；".join(f"{e['field']}：{e['message']}" if e["field"] else e["message"] for e in errors)
        return api.create_response(
            request,
            {"code": "invalid-input", "message": f"提交的内容有误：{summary}", "errors": errors},
            status=422,
        )

    @api.exception_handler(DjangoValidationError)
    def on_django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        code = getattr(exc, "code", None) or "invalid-input"
        return api.create_response(request, {"code": code, "message": "；".join(exc.messages)}, status=422)

    @api.exception_handler(NotFoundError)
    def on_not_found(request: HttpRequest, exc: NotFoundError) -> HttpResponse:
        return api.create_response(request, {"code": exc.code, "message": exc.message}, status=404)

    @api.exception_handler(AuthenticationError)
    def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request, {"code": "not-authenticated", "message": "请先登录。"}, status=401
        )

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return api.create_response(
            request, {"code": f"http-{exc.status_code}", "message": str(exc)}, status=exc.status_code
        )
