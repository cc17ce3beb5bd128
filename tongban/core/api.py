"""Core API: regions, halls and the working-day calendar; shared error handling."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tongban.core.models import Region, ServiceHall

router = Router(tags=["基础数据"])


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[dict] | None = None


class RegionOut(Schema):
    code: str
    name: str
    level: int
    parent_code: str | None


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


@router.get("/regions", response=list[RegionOut], summary="行政区划列表")
def list_regions(request: HttpRequest, parent: str | None = None) -> list[dict]:
    """Top-level regions, or the children of ``parent`` (a region code)."""
    queryset = Region.objects.filter(is_active=True).select_related("parent")
    queryset = queryset.filter(parent__code=parent) if parent else queryset.filter(parent__isnull=True)
    return [
        {"code": r.code, "name": r.name, "level": r.level, "parent_code": r.parent.code if r.parent else None}
        for r in queryset
    ]


@router.get("/halls", response=list[HallOut], summary="服务大厅与站点")
def list_halls(request: HttpRequest, region: str | None = None) -> list[dict]:
    queryset = ServiceHall.objects.filter(is_active=True).select_related("region")
    if region:
        queryset = queryset.filter(region__path__contains=f"{region}/")
    return [
        {
            "id": h.id,
            "name": h.name,
            "kind": h.kind,
            "region_code": h.region.code,
            "address": h.address,
            "longitude": float(h.longitude) if h.longitude is not None else None,
            "latitude": float(h.latitude) if h.latitude is not None else None,
            "opening_hours": h.opening_hours_text,
            "phone": h.phone,
        }
        for h in queryset
    ]


_FIELD_LOCATIONS = {"body", "query", "path", "form", "file", "header", "cookie"}


def _describe_validation_error(error: dict) -> dict:
    loc = [str(part) for part in error.get("loc", []) if str(part) not in _FIELD_LOCATIONS]
    message = str(error.get("msg", "格式不正确"))
    # pydantic prefixes custom errors with "Value error, "; our validators already speak Chinese.
    message = message.removeprefix("Value error, ")
    if error.get("type") == "missing":
        message = "此项为必填项"
    return {"field": ".".join(loc), "message": message}


def install_error_handlers(api: NinjaAPI) -> None:
    """Every API error answers {"code", "message"} in Chinese; never a stack trace."""

    @api.exception_handler(NinjaValidationError)
    def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [_describe_validation_error(e) for e in exc.errors]
        summary = "；".join(f"{e['field']}：{e['message']}" if e["field"] else e["message"] for e in errors)
        return api.create_response(
            request, {"code": "invalid-input", "message": f"提交的内容有误：{summary}", "errors": errors}, status=422
        )

    @api.exception_handler(DjangoValidationError)
    def on_django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        code = getattr(exc, "code", None) or "invalid-input"
        return api.create_response(request, {"code": code, "message": "；".join(exc.messages)}, status=422)

    @api.exception_handler(AuthenticationError)
    def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(request, {"code": "not-authenticated", "message": "请先登录。"}, status=401)

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return api.create_response(request, {"code": f"http-{exc.status_code}", "message": str(exc)}, status=exc.status_code)
