"""一件事 pages: thin views over services.py (public guide, applicant flow, one-window workbench)."""

from __future__ import annotations

from contextlib import suppress
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tongban.accounts.models import Person
from tongban.bundles import access, merge, services
from tongban.bundles.models import Bundle, BundleCase, BundleStatus
from tongban.cases import services as cases
from tongban.core.pages import errors_to_messages

STEPS = ["选择事项和情形", "填写申请", "上传材料", "确认提交"]


def _fields(bc: BundleCase, *, masked: bool = True) -> list[dict]:
    schema = merge.merged_schema(merge.included_items(bc))
    data = services.masked_form_data(bc) if masked else bc.form_data
    required = set(schema["required"])
    fields = []
    for name, prop in schema["properties"].items():
        multi = prop.get("type") == "array" and prop.get("items", {}).get("enum")
        value = data.get(name, [] if multi else "")
        fields.append(
            {
                "name": name,
                "title": prop.get("title", name),
                "value": value,
                "display": "、".join(value) if isinstance(value, list) else value,
                "required": name in required,
                "help": prop.get("x-help") or prop.get("description", ""),
                "choices": prop.get("enum", []),
                "multi": multi or [],
                "number": prop.get("type") in ("number", "integer"),
            }
        )
    return fields


def _materials(bc: BundleCase) -> list[dict]:
    files = services.current_files(bc)
    return [
        {"material": m, "file": files.get(m.key)}
        for m in merge.merged_materials(merge.included_items(bc), bc.answers)
    ]


def _parse_form(request, fields: list[dict]) -> dict:
    data = {}
    for f in fields:
        if f["multi"]:
            data[f["name"]] = [v for v in request.POST.getlist(f["name"]) if v in f["multi"]]
            continue
        value = request.POST.get(f["name"], "").strip()
        if f["number"] and value:
            with suppress(ValueError):  # otherwise reported by the schema check as 格式不正确
                value = float(value) if "." in value else int(value)
        data[f["name"]] = value
    return data


# ------------------------------------------------------------------ public


def index(request: HttpRequest) -> HttpResponse:
    bundles = services.active_bundles().prefetch_related("items__implementation__basic_item")
    return render(request, "bundles/index.html", {"bundles": bundles})


def guide(request: HttpRequest, code: str) -> HttpResponse:
    bundle = get_object_or_404(
        Bundle.objects.select_related("region", "lead_department"), code=code, is_active=True
    )
    return render(request, "bundles/guide.html", {"bundle": bundle, **services.guide(bundle)})


# ------------------------------------------------------------------ applicant


@login_required
@errors_to_messages
def start(request: HttpRequest, code: str) -> HttpResponse:
    bundle = get_object_or_404(Bundle, code=code, is_active=True)
    person = Person.objects.filter(user=request.user).first()
    enterprise = cases.acting_enterprise(person) if person else None
    if request.method == "POST":
        if person is None:
            raise PermissionDenied("只有注册群众或企业经办人可以网上申请。")
        bc = services.start(
            bundle=bundle,
            owner=request.user,
            person=person,
            enterprise=enterprise,
            idempotency_key=request.POST.get("idempotency_key", "")[:64],
            request=request,
        )
        return redirect("bundles:choose", bc.pk)
    drafts = BundleCase.objects.filter(owner=request.user, bundle=bundle, status=BundleStatus.DRAFT)
    return render(
        request,
        "bundles/start.html",
        {"bundle": bundle, "drafts": drafts, "enterprise": enterprise, **services.guide(bundle)},
    )


@login_required
@errors_to_messages
def choose(request: HttpRequest, pk: int) -> HttpResponse:
    bc = access.get_for(request.user, pk, edit=True)
    optional = list(bc.bundle.items.filter(optional=True).select_related("implementation__basic_item"))
    if request.method == "POST":
        selected = [int(i) for i in request.POST.getlist("item") if i.isdigit()]
        if bc.status == BundleStatus.DRAFT:
            services.save_draft(bc, selected=selected)
            bc.refresh_from_db()
        questions = merge.merged_questions(merge.included_items(bc))
        answers = {q.key: request.POST[q.key] for q in questions if request.POST.get(q.key)}
        services.save_draft(bc, answers=answers)
        return redirect("bundles:form", bc.pk)
    context = {
        "bc": bc,
        "optional": optional,
        "chosen": {int(i) for i in bc.selected},
        "questions": merge.merged_questions(
            list(
                bc.bundle.items.select_related(
                    "implementation__published_version", "implementation__basic_item"
                )
            )
        ),
        "fixed": [i for i in merge.included_items(bc) if not i.optional],
        "steps": STEPS,
        "current": 1,
    }
    return render(request, "bundles/choose.html", context)


@login_required
@errors_to_messages
def form(request: HttpRequest, pk: int) -> HttpResponse:
    bc = access.get_for(request.user, pk, edit=True)
    fields = _fields(bc, masked=False)
    if request.method == "POST":
        services.save_draft(bc, form_data=_parse_form(request, fields))
        if "save" in request.POST:
            messages.success(request, "草稿已保存，可随时在“我的一件事”中继续填写。")
            return redirect("bundles:mine")
        return redirect("bundles:materials", bc.pk)
    return render(request, "bundles/form.html", {"bc": bc, "fields": fields, "steps": STEPS, "current": 2})


@login_required
@errors_to_messages
def materials(request: HttpRequest, pk: int) -> HttpResponse:
    bc = access.get_for(request.user, pk, edit=True)
    notice = (
        bc.corrections.filter(round=bc.round).first()
        if bc.status == BundleStatus.CORRECTION_REQUESTED
        else None
    )
    return render(
        request,
        "bundles/materials.html",
        {"bc": bc, "materials": _materials(bc), "notice": notice, "steps": STEPS, "current": 3},
    )


@login_required
@require_POST
@errors_to_messages
def upload(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    bc = access.get_for(request.user, pk, edit=True)
    if request.POST.get("commit"):
        services.commit_material(bc, key, by=request.user)
        messages.success(request, "已选择告知承诺。")
    else:
        upload_file = request.FILES.get("file")
        if upload_file is None:
            raise ValidationError("请选择文件。", code="file-missing")
        services.upload_material(bc, key, upload_file, by=request.user)
        messages.success(request, "材料已上传，将同时用于需要它的每个事项。")
    return redirect("bundles:materials", bc.pk)


@login_required
@errors_to_messages
def check(request: HttpRequest, pk: int) -> HttpResponse:
    bc = access.get_for(request.user, pk, edit=True)
    if request.method == "POST":
        if bc.status == BundleStatus.CORRECTION_REQUESTED:
            services.resubmit(bc, actor=request.user, request=request)
            messages.success(request, "补正材料已提交。")
        else:
            services.submit(bc, actor=request.user, request=request)
            messages.success(request, "一件事已提交，综合窗口将一次受理全部事项。")
        return redirect("bundles:detail", bc.pk)
    items = merge.included_items(bc)
    answers = []
    for q in merge.merged_questions(items):
        if q.key in bc.answers:
            answers.append((q.text, dict(q.options).get(bc.answers[q.key], bc.answers[q.key])))
    return render(
        request,
        "bundles/check.html",
        {
            "bc": bc,
            "items": items,
            "answers": answers,
            "fields": _fields(bc),
            "materials": _materials(bc),
            "problems": services.check_complete(bc) if bc.status in services.EDITABLE else [],
            "steps": STEPS,
            "current": 4,
        },
    )


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    rows = BundleCase.objects.filter(owner=request.user).select_related("bundle")
    return render(request, "bundles/mine.html", {"rows": rows})


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    bc = access.get_for(request.user, pk)
    return render(
        request,
        "bundles/detail.html",
        {
            "bc": bc,
            "children": services.children(bc),
            "items": merge.included_items(bc) if bc.status == BundleStatus.DRAFT else [],
            "notices": bc.corrections.all(),
            "can_edit": access.can_edit(request.user, bc) and bc.status in services.EDITABLE,
        },
    )


@login_required
def result(request: HttpRequest, pk: int) -> HttpResponse:
    bc = access.get_for(request.user, pk)
    if not bc.result_file:
        raise Http404("尚未办结")
    return FileResponse(
        bc.result_file.open("rb"), as_attachment=True, filename=f"一件事办理结果告知书-{bc.reference}.pdf"
    )


# ------------------------------------------------------------------ one window


def _clerk_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm("cases.accept_application"):
            raise PermissionDenied("您没有办件受理权限。")
        return view(request, *args, **kwargs)

    return wrapper


@_clerk_required
def queue(request: HttpRequest) -> HttpResponse:
    rows = services.queue(request.user)
    return render(request, "bundles/queue.html", {"rows": rows[:200]})


@_clerk_required
@errors_to_messages
def review(request: HttpRequest, pk: int) -> HttpResponse:
    bc = access.get_for(request.user, pk)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "accept":
            services.accept_all(bc, clerk=request.user, request=request)
            messages.success(request, "已一次受理全部事项，各部门并联办理。")
        elif action == "correct":
            items = [
                {"material": key, "problem": request.POST.get(f"problem_{key}", "")}
                for key in request.POST.getlist("material")
            ]
            if request.POST.get("form_problem", "").strip():
                items.append({"field": "", "problem": request.POST["form_problem"]})
            services.request_corrections(
                bc, clerk=request.user, items=items, note=request.POST.get("note", ""), request=request
            )
            messages.success(request, "已出具一次性补正告知。")
        return redirect("bundles:review", bc.pk)
    return render(
        request,
        "bundles/review.html",
        {
            "bc": bc,
            "children": services.children(bc),
            "fields": _fields(bc),
            "materials": _materials(bc),
            "can_act": bc.status == BundleStatus.SUBMITTED,
        },
    )
