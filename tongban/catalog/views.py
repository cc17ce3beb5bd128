"""Public pages: browse, search, guide (办事指南), situation guidance (情形引导), department pages."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

import segno
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from tongban.catalog import queries, services
from tongban.catalog.codes import ItemType
from tongban.catalog.demo import CITY, COUNTIES
from tongban.catalog.forms_schema import compose_schema
from tongban.catalog.models import EnterpriseStage, ItemImplementation, ItemVersion, LifeEvent, Material
from tongban.catalog.search import search_items
from tongban.core.models import Organisation, Region

DEPARTMENTS = {
    "market": "市场监管",
    "police": "公安",
    "hrss": "人社",
    "civil": "民政",
    "health": "卫健",
    "resources": "自然资源",
    "housing": "住建",
    "tax": "税务",
    "fund": "公积金",
    "transport": "交通运输",
    "medicare": "医保",
    "disability": "残联",
}


LIST_PREVIEW = 9


def _regions() -> list[Region]:
    return list(Region.objects.filter(code__in=[CITY, *COUNTIES]).order_by("path"))


def _cache_public(response: HttpResponse) -> HttpResponse:
    # A publication shows within a minute even through shared caches.
    response["Cache-Control"] = "public, max-age=60"
    return response


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    region = request.GET.get("region") or None
    filters = {
        "department": request.GET.get("dept") or None,
        "life": request.GET.get("life") or None,
        "stage": request.GET.get("stage") or None,
    }
    lists = {"hf": "高频事项", "zero": "零跑动事项（全程网办）", "once": "“最多跑一次”事项"}
    chosen_list = request.GET.get("list") if request.GET.get("list") in lists else None
    context = {
        "regions": _regions(),
        "region": region,
        "departments": DEPARTMENTS.items(),
        "life_events": LifeEvent.choices,
        "stages": EnterpriseStage.choices,
        "filters": filters,
        "crumbs": [("办事服务", "")],
    }
    by_list = {
        "hf": {"high_frequency": True},
        "zero": {"max_visits": 0},
        "once": {"max_visits": 1},
    }
    if any(filters.values()) or chosen_list:
        extra = by_list[chosen_list] if chosen_list else {}
        context["results"] = queries.one_per_item(queries.filtered(region=region, **filters, **extra), region)
        context["result_title"] = " · ".join(
            filter(
                None,
                [
                    DEPARTMENTS.get(filters["department"] or ""),
                    dict(LifeEvent.choices).get(filters["life"]),
                    dict(EnterpriseStage.choices).get(filters["stage"]),
                    lists.get(chosen_list or ""),
                ],
            )
        )
    else:
        # Short lists on the landing page; "查看全部" opens the whole list.
        context["lists"] = [
            (key, title, items[:LIST_PREVIEW], len(items))
            for key, title in lists.items()
            for items in [queries.one_per_item(queries.filtered(region=region, **by_list[key]), region)]
        ]
    return _cache_public(render(request, "catalog/index.html", context))


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()[:100]
    region = request.GET.get("region") or None
    results = mark_safe("")
    if query:
        # The same query is asked again and again ("开饭店"): its rendered results are reused.
        results = _rendered_once(
            "search",
            hashlib.sha256(f"{query}\0{region or ''}".encode()).hexdigest(),
            "catalog/_search_results.html",
            lambda: {"query": query, "hits": search_items(query, region=region, limit=30)},
        )
    return _cache_public(
        render(
            request,
            "catalog/search.html",
            {
                "query": query,
                "results": results,
                "regions": _regions(),
                "region": region,
                "crumbs": [("办事服务", "/services/"), ("搜索", "")],
            },
        )
    )


def _rendered_once(kind: str, ident: str, template: str, context: Callable[[], dict]) -> SafeString:
    """A part of a public page that is the same for everyone, rendered once and reused until
    anything it shows is saved (``queries.PAGES``), for at most ``queries.PAGE_CACHE_SECONDS``."""
    key = f"catalog:{kind}:{queries.PAGES.current()}:{ident}"
    html = cache.get(key)
    if html is None:
        html = render_to_string(template, context())
        cache.set(key, html, queries.PAGE_CACHE_SECONDS)
    return mark_safe(html)  # our own template's output, escaped when it was rendered


def _published_or_404(code: str) -> ItemImplementation:
    """The published item (with its basic item, department, region and version), kept like the
    guide's body: its wide join cost a guide page half its time."""
    key = f"catalog:published-item:{queries.PAGES.current()}:{code}"
    return cache.get_or_set(
        key, lambda: get_object_or_404(queries.published(), code=code), queries.PAGE_CACHE_SECONDS
    )


def _qr_data_uri(request: HttpRequest, impl: ItemImplementation) -> str:
    url = request.build_absolute_uri(impl.get_absolute_url())
    return _qr_svg_for(url)


@functools.lru_cache(maxsize=512)
def _qr_svg_for(url: str) -> str:
    """The QR code depends on the URL only, so rendering it (10-20 ms with segno) is memoised
    per process; a few KB per guide, bounded to the 512 most recently shown."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


@require_GET
def guide(request: HttpRequest, code: str) -> HttpResponse:
    impl = _published_or_404(code)
    version = impl.published_version
    # The body is the same for everyone (the layout around it is not): rendering it took most of
    # the page's time (materials, steps, fees, questions, the form's fields, history, other regions).
    article = _rendered_once(
        "guide",
        f"{version.pk}:{request.get_host()}",
        "catalog/_guide_article.html",
        lambda: _guide_context(request, impl, version),
    )
    return _cache_public(
        render(
            request,
            "catalog/guide.html",
            {
                "impl": impl,
                "item": impl.basic_item,
                "article": article,
                "crumbs": [
                    ("办事服务", "/services/"),
                    (impl.organisation.name, f"/services/departments/{impl.organisation_id}/"),
                    (impl.basic_item.name, ""),
                ],
            },
        )
    )


def _guide_context(request: HttpRequest, impl: ItemImplementation, version: ItemVersion) -> dict:
    try:
        schema = compose_schema(version)
        form_fields = [
            {
                "title": prop.get("title", name),
                "required": name in schema["required"],
                "prefill": prop.get("x-prefill"),
                "help": prop.get("x-help", ""),
            }
            for name, prop in schema["properties"].items()
        ]
    except ValidationError:
        form_fields = []
    others = (
        queries.published().filter(basic_item=impl.basic_item).exclude(pk=impl.pk).order_by("region__path")
    )
    return {
        "impl": impl,
        "item": impl.basic_item,
        "v": version,
        "materials": version.materials.select_related("proof", "blank_form_file", "example_file"),
        "steps": version.steps.all(),
        "fees": version.fees.all(),
        "questions": version.questions.prefetch_related("options"),
        "form_fields": form_fields,
        "qr": _qr_data_uri(request, impl),
        "page_url": request.build_absolute_uri(),
        "others": others,
        "upcoming": services.scheduled_change(impl),
        # Public change history: every version that was ever in force, newest first.
        "history": impl.versions.filter(
            status__in=[ItemVersion.Status.PUBLISHED, ItemVersion.Status.SUPERSEDED]
        ).order_by("-number"),
        "item_type": dict(ItemType.choices)[impl.basic_item.item_type],
    }


FILE_KINDS = {"blank": ("blank_form_file", "空白表格"), "example": ("example_file", "示例样本")}


@require_GET
def material_file(request: HttpRequest, code: str, material_id: int, kind: str) -> FileResponse:
    """Download a material's blank form or filled example, from a version that was published."""
    if kind not in FILE_KINDS:
        raise Http404
    field, label = FILE_KINDS[kind]
    material = get_object_or_404(
        Material.objects.select_related(field, "version__implementation"),
        pk=material_id,
        version__implementation__code=code,
        version__status__in=[ItemVersion.Status.PUBLISHED, ItemVersion.Status.SUPERSEDED],
    )
    stored = getattr(material, field)
    if stored is None:
        raise Http404
    response = FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=f"{material.name}（{label}）.{stored.extension}",
        content_type=stored.content_type,
    )
    # Content-addressed: a given URL may change file only when a new version is published.
    response["Cache-Control"] = "public, max-age=60"
    response["X-Content-SHA256"] = stored.sha256
    return response


@require_GET
def situation_guide(request: HttpRequest, code: str) -> HttpResponse:
    impl = _published_or_404(code)
    version = impl.published_version
    questions, _ = services.situation_parts(version)
    answers = {q.key: request.GET[q.key] for q in questions if request.GET.get(q.key)}
    error = None
    guidance = None
    if answers or not questions or request.GET.get("done"):
        try:
            guidance = services.evaluate_situations(version, answers)
        except ValidationError as exc:
            error = exc.messages[0]
    return _cache_public(
        render(
            request,
            "catalog/situation.html",
            {
                "impl": impl,
                "item": impl.basic_item,
                "v": version,
                "questions": questions,
                "answers": answers,
                "guidance": guidance,
                "error": error,
                "crumbs": [
                    ("办事服务", "/services/"),
                    (impl.basic_item.name, impl.get_absolute_url()),
                    ("情形引导", ""),
                ],
            },
        )
    )


@require_GET
def department(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(Organisation.objects.select_related("region"), pk=pk, is_active=True)
    items = queries.filtered(organisation=org.pk)
    return _cache_public(
        render(
            request,
            "catalog/department.html",
            {
                "org": org,
                "items": items,
                "crumbs": [("办事服务", "/services/"), (org.name, "")],
            },
        )
    )


@require_GET
def departments(request: HttpRequest) -> HttpResponse:
    region = request.GET.get("region") or CITY
    orgs = (
        Organisation.objects.filter(
            region__code=region, catalog_items__published_version__isnull=False, is_active=True
        )
        .distinct()
        .order_by("name")
    )
    return _cache_public(
        render(
            request,
            "catalog/departments.html",
            {
                "orgs": orgs,
                "regions": _regions(),
                "region": region,
                "crumbs": [("办事服务", "/services/"), ("部门旗舰店", "")],
            },
        )
    )
