"""URLconf for browser tests: the real site plus the component gallery in both layouts."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import include, path

from tongban.urls import handler400, handler403, handler404, handler500  # noqa: F401


def _gallery(template: str):
    def view(request):
        context = {
            "demo_steps": ["选择事项", "填写申请", "上传材料", "确认提交"],
            "demo_crumbs": [("办事服务", "/services/"), ("组件示例", "")],
            "demo_page": Paginator(list(range(200)), 10).page(3),
        }
        return render(request, template, context)

    return view


urlpatterns = [
    path("__design__/portal/", _gallery("design/portal.html")),
    path("__design__/workbench/", _gallery("design/workbench.html")),
    path("", include("tongban.urls")),
]
