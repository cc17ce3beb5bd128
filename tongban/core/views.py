"""Home page, display preference, health checks and Chinese error pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from tongban.core import services
from tongban.core.middleware import ELDER_MODE_COOKIE


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """首页 — the platform's region, its county-level divisions, the halls and the entry points."""
    return render(request, "core/home.html", services.home_page_context())


@require_POST
def toggle_elder_mode(request: HttpRequest) -> HttpResponse:
    """Switch 适老化 mode; remembered in a cookie for this browser and on the account if signed in."""
    enabled = request.POST.get("enabled") == "1"
    if request.user.is_authenticated and request.user.elder_mode != enabled:
        request.user.elder_mode = enabled
        request.user.save(update_fields=["elder_mode"])
    target = request.POST.get("next") or "/"
    # Only same-site targets: the form is on every page, so an open redirect here would be everywhere.
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    messages.success(request, "已开启适老化模式：字号更大、对比更强。" if enabled else "已恢复标准模式。")
    response = redirect(target)
    response.set_cookie(ELDER_MODE_COOKIE, "1" if enabled else "0", max_age=365 * 24 * 3600, samesite="Lax")
    return response


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive. No dependencies are touched."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database answers and a background worker reported recently."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "数据库不可用"
    checks["worker"] = "ok" if services.worker_is_alive() else "后台任务进程无心跳"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": f"http-{status}", "message": message}, status=status)
    context = {
        "status": status,
        "title": title,
        "message": message,
        "request_id": getattr(request, "request_id", ""),
    }
    return render(request, "errors/error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "请求有误", "您提交的请求无法处理，请检查后重试。")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 403, "无权访问", "您没有访问此页面的权限。如需办理，请先登录或联系所在单位管理员。"
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "页面不存在", "您访问的页面不存在或已下线，请从首页重新查找。")


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request context on purpose: the failure may be in it.
    from django.template.loader import render_to_string

    if request.path.startswith("/api/"):
        return JsonResponse({"code": "http-500", "message": "系统繁忙，请稍后再试。"}, status=500)
    body = render_to_string(
        "errors/error.html",
        {
            "status": 500,
            "title": "系统繁忙",
            "message": "系统暂时无法处理您的请求，我们已记录此问题，请稍后再试。",
            "PLATFORM_NAME": settings.PLATFORM_NAME,
            "SERVICE_HOTLINE": settings.SERVICE_HOTLINE,
            "request_id": getattr(request, "request_id", ""),
        },
    )
    return HttpResponse(body, status=500)
