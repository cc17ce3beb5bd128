"""Catalogue administration (编办 and departments): drafts, review, publishing, history, report.

Permissions (Django): catalog.view_itemversion to look, catalog.change_itemversion to edit and
submit, catalog.review_itemversion to approve/reject, catalog.publish_itemversion to publish.
Four-eyes is enforced in services, not here.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tongban.catalog import services
from tongban.catalog.forms import (
    FeeFormSet,
    ImportForm,
    MaterialFormSet,
    ReviewForm,
    StepFormSet,
    VersionForm,
    rows,
)
from tongban.catalog.models import ItemImplementation, ItemVersion
from tongban.catalog.scope import manageable
from tongban.catalog.serialize import MATERIAL_FIELDS
from tongban.core.models import ServiceHall

S = ItemVersion.Status


def _impl(request: HttpRequest, code: str) -> ItemImplementation:
    """The item, if this member of staff may manage it (404 otherwise: no hint that it exists)."""
    queryset = manageable(
        request.user, ItemImplementation.objects.select_related("basic_item", "organisation", "region")
    )
    return get_object_or_404(queryset, code=code)


def _fail(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
@permission_required("catalog.view_itemversion", raise_exception=True)
def manage_index(request: HttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()
    status = request.GET.get("status") or ""
    queryset = manageable(
        request.user,
        ItemImplementation.objects.select_related(
            "basic_item", "organisation", "region", "published_version"
        ),
    )
    if query:
        queryset = queryset.filter(
            Q(basic_item__name__icontains=query)
            | Q(code__icontains=query)
            | Q(organisation__name__icontains=query)
        )
    if status:
        queryset = queryset.filter(versions__status=status).distinct()
    page = Paginator(queryset.order_by("region__path", "basic_item__code"), 50).get_page(
        request.GET.get("page")
    )
    open_versions = {
        v.implementation_id: v
        for v in ItemVersion.objects.filter(
            implementation__in=[i.pk for i in page], status__in=[S.DRAFT, S.IN_REVIEW, S.APPROVED]
        )
    }
    for impl in page:
        impl.open_version = open_versions.get(impl.pk)
    return render(
        request,
        "catalog/manage/index.html",
        {
            "page": page,
            "query": query,
            "status": status,
            "statuses": [(s, label) for s, label in S.choices if s != S.SUPERSEDED],
        },
    )


@login_required
@permission_required("catalog.view_itemversion", raise_exception=True)
def manage_item(request: HttpRequest, code: str) -> HttpResponse:
    impl = _impl(request, code)
    versions = impl.versions.select_related(
        "created_by", "updated_by", "submitted_by", "reviewed_by", "published_by"
    )
    return render(
        request,
        "catalog/manage/item.html",
        {
            "impl": impl,
            "versions": versions,
            "open": services.open_version(impl),
            "review_form": ReviewForm(),
        },
    )


@login_required
@permission_required("catalog.change_itemversion", raise_exception=True)
@require_POST
def manage_new_draft(request: HttpRequest, code: str) -> HttpResponse:
    impl = _impl(request, code)
    try:
        services.new_draft(
            impl, actor=request.user, change_summary=request.POST.get("change_summary", "")[:300]
        )
    except ValidationError as exc:
        _fail(request, exc)
        return redirect("catalog:manage-item", code=code)
    messages.success(request, "已创建新的草稿版本，可以开始修改。")
    return redirect("catalog:manage-edit", code=code)


def _initial_rows(queryset, fields) -> list[dict]:
    result = []
    for row in queryset:
        data = {f: getattr(row, f) for f in fields}
        if "proof" in fields:
            data["proof"] = row.proof
        result.append(data)
    return result


def _material_initial(version: ItemVersion) -> list[dict]:
    materials = list(version.materials.select_related("proof", "blank_form_file", "example_file"))
    initial = _initial_rows(materials, [*MATERIAL_FIELDS, "proof"])
    for material, row in zip(materials, initial, strict=True):
        row["blank_form_file"] = material.blank_form_file.sha256 if material.blank_form_file_id else ""
        row["example_file"] = material.example_file.sha256 if material.example_file_id else ""
    return initial


@login_required
@permission_required("catalog.change_itemversion", raise_exception=True)
def manage_edit(request: HttpRequest, code: str) -> HttpResponse:
    impl = _impl(request, code)
    version = impl.versions.filter(status=S.DRAFT).first()
    if version is None:
        messages.error(request, "该事项没有可修改的草稿，请先创建草稿版本。")
        return redirect("catalog:manage-item", code=code)
    if request.method == "POST":
        form = VersionForm(request.POST, instance=version)
        materials = MaterialFormSet(request.POST, request.FILES, prefix="materials")
        steps = StepFormSet(request.POST, prefix="steps")
        fees = FeeFormSet(request.POST, prefix="fees")
        if all(f.is_valid() for f in (form, materials, steps, fees)):
            data = {name: form.cleaned_data[name] for name in form.Meta.fields if name != "hall"}
            data["hall_id"] = form.cleaned_data["hall"].pk if form.cleaned_data.get("hall") else None
            data.update(
                situations=form.cleaned_data["situations_text"],
                materials=rows(materials, actor=request.user),
                steps=rows(steps),
                fees=rows(fees),
            )
            try:
                services.update_draft(version, data, actor=request.user)
            except ValidationError as exc:
                _fail(request, exc)
            else:
                messages.success(request, "草稿已保存。")
                if "submit" in request.POST:
                    return manage_submit(request, code)
                return redirect("catalog:manage-edit", code=code)
    else:
        form = VersionForm(
            instance=version, initial={"situations_text": VersionForm.situations_as_text(version)}
        )
        materials = MaterialFormSet(
            prefix="materials",
            initial=_material_initial(version),
        )
        steps = StepFormSet(
            prefix="steps", initial=_initial_rows(version.steps.all(), ["name", "description", "days"])
        )
        fees = FeeFormSet(
            prefix="fees", initial=_initial_rows(version.fees.all(), ["name", "standard", "amount", "basis"])
        )
    # Only the halls where this item can be handled: its region and the levels above it.
    form.fields["hall"].queryset = ServiceHall.objects.filter(
        region__code__in=impl.region.path.strip("/").split("/"), is_active=True
    )
    return render(
        request,
        "catalog/manage/edit.html",
        {
            "impl": impl,
            "version": version,
            "form": form,
            "materials": materials,
            "steps": steps,
            "fees": fees,
        },
    )


@login_required
@permission_required("catalog.change_itemversion", raise_exception=True)
@require_POST
def manage_submit(request: HttpRequest, code: str) -> HttpResponse:
    impl = _impl(request, code)
    version = impl.versions.filter(status=S.DRAFT).first()
    if version is None:
        messages.error(request, "没有待提交的草稿。")
        return redirect("catalog:manage-item", code=code)
    try:
        services.submit_for_review(version, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "提交失败，请修改以下问题后重新提交：")
        _fail(request, exc)
        return redirect("catalog:manage-edit", code=code)
    messages.success(request, "已提交审核。")
    return redirect("catalog:manage-item", code=code)


@login_required
@permission_required("catalog.review_itemversion", raise_exception=True)
@require_POST
def manage_review(request: HttpRequest, code: str) -> HttpResponse:
    impl = _impl(request, code)
    version = get_object_or_404(impl.versions, status=S.IN_REVIEW)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review(
                version,
                actor=request.user,
                approve=form.cleaned_data["decision"] == "approve",
                comment=form.cleaned_data["comment"],
            )
            messages.success(request, "审核意见已保存。")
        except ValidationError as exc:
            _fail(request, exc)
    else:
        messages.error(request, "请选择审核结论。")
    return redirect("catalog:manage-item", code=code)


@login_required
@permission_required("catalog.publish_itemversion", raise_exception=True)
@require_POST
def manage_publish(request: HttpRequest, code: str) -> HttpResponse:
    impl = _impl(request, code)
    version = get_object_or_404(impl.versions, status=S.APPROVED)
    try:
        effective = (
            dt.date.fromisoformat(request.POST["effective_from"])
            if request.POST.get("effective_from")
            else None
        )
        version = services.publish(version, actor=request.user, effective_from=effective)
    except ValueError:
        messages.error(request, "生效日期格式不正确。")
    except ValidationError as exc:
        _fail(request, exc)
    else:
        if version.status == S.PUBLISHED:
            messages.success(request, "已发布，门户、大厅屏幕和接口即时生效。")
        else:
            messages.success(
                request, f"已定时发布：{version.scheduled_for:%Y年%m月%d日} 起施行，门户已显示预告。"
            )
    return redirect("catalog:manage-item", code=code)


@login_required
@permission_required("catalog.view_itemversion", raise_exception=True)
def manage_report(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        start = (
            dt.date.fromisoformat(request.GET.get("start") or "")
            if request.GET.get("start")
            else today - dt.timedelta(days=30)
        )
        end = dt.date.fromisoformat(request.GET.get("end") or "") if request.GET.get("end") else today
    except ValueError:
        messages.error(request, "日期格式不正确。")
        start, end = today - dt.timedelta(days=30), today
    rows_ = services.publication_report(start, end)
    late = [r for r in rows_ if (r.publication_working_days or 0) > services.PUBLICATION_LIMIT_WORKING_DAYS]
    return render(
        request,
        "catalog/manage/report.html",
        {
            "rows": rows_,
            "late": late,
            "start": start,
            "end": end,
            "limit": services.PUBLICATION_LIMIT_WORKING_DAYS,
        },
    )


@login_required
@permission_required("catalog.add_itemversion", raise_exception=True)
def manage_import(request: HttpRequest) -> HttpResponse:
    from tongban.catalog import importexport

    report = None
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = importexport.import_file(upload.name, upload.read(), actor=request.user)
        except importexport.ImportFailed as exc:
            report = exc.problems
            messages.error(request, f"导入失败：发现 {len(exc.problems)} 个问题，未导入任何数据。")
        else:
            messages.success(request, f"导入成功：新建草稿 {result.created} 项。请提交审核后发布。")
            return redirect("catalog:manage")
    return render(request, "catalog/manage/import.html", {"form": form, "report": report})
