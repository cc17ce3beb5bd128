"""办件受理 pages: thin views over services.py (citizen, public progress, clerk workbench)."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tongban.accounts.delegation import acting_for, require_delegation
from tongban.accounts.models import DelegationScope, Person
from tongban.cases import access, services
from tongban.cases.models import Application, Channel, Message, Status
from tongban.catalog.forms_schema import compose_schema
from tongban.catalog.models import ItemImplementation
from tongban.core.audit import client_ip
from tongban.core.identifiers import mask_name
from tongban.core.pages import errors_to_messages

STEPS = ["情形选择", "填写申请", "上传材料", "确认提交"]
#: The window the clerk registered at last (pre-selected on the next registration).
WINDOW_SESSION_KEY = "cases_window_id"


def _published(code: str) -> ItemImplementation:
    impl = (
        ItemImplementation.objects.select_related("basic_item", "published_version").filter(code=code).first()
    )
    if impl is None or impl.published_version is None:
        raise Http404("事项不存在或未发布")
    return impl


def _fields(app: Application, *, masked: bool = True) -> list[dict]:
    """Form fields with their values; ID numbers and phones masked unless the page edits them."""
    schema = compose_schema(app.version)
    data = services.masked_form_data(app) if masked else app.form_data
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "title": prop.get("title", name),
            "value": data.get(name, ""),
            "required": name in required,
            "help": prop.get("x-help") or prop.get("description", ""),
            "choices": prop.get("enum", []),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _materials(app: Application) -> list[dict]:
    files = services.current_files(app)
    guidance = services.evaluate_situations(app.version, app.answers)
    return [
        {"material": m, "file": files.get(m.pk), "needs_upload": m.source == m.Source.APPLICANT}
        for m in guidance.materials
    ]


# ------------------------------------------------------------------ citizen


@login_required
@errors_to_messages
def start(request: HttpRequest, code: str) -> HttpResponse:
    impl = _published(code)
    if request.method == "POST":
        person = Person.objects.filter(user=request.user).first()
        if person is None:
            raise PermissionDenied("只有注册群众可以网上申请。")
        app = services.start_application(
            implementation=impl,
            owner=request.user,
            person=person,
            enterprise=services.acting_enterprise(person),
            idempotency_key=request.POST.get("idempotency_key", "")[:64],
            request=request,
        )
        return redirect("cases:situations", app.pk)
    drafts = Application.objects.filter(owner=request.user, implementation=impl, status=Status.DRAFT)
    person = Person.objects.filter(user=request.user).first()
    enterprise = services.acting_enterprise(person) if person else None
    return render(request, "cases/start.html", {"impl": impl, "drafts": drafts, "enterprise": enterprise})


@login_required
@errors_to_messages
def situations(request: HttpRequest, pk: int) -> HttpResponse:
    app = access.get_for(request.user, pk, edit=True)
    questions = list(app.version.questions.prefetch_related("options"))
    if request.method == "POST":
        answers = {q.key: request.POST[q.key] for q in questions if request.POST.get(q.key)}
        services.save_draft(app, answers=answers)
        return redirect("cases:form", app.pk)
    if not questions:
        return redirect("cases:form", app.pk)
    return render(
        request, "cases/situations.html", {"app": app, "questions": questions, "steps": STEPS, "current": 1}
    )


@login_required
@errors_to_messages
def form(request: HttpRequest, pk: int) -> HttpResponse:
    app = access.get_for(request.user, pk, edit=True)
    fields = _fields(app, masked=False)
    if request.method == "POST":
        services.save_draft(
            app, form_data={f["name"]: request.POST.get(f["name"], "").strip() for f in fields}
        )
        if "save" in request.POST:
            messages.success(request, "草稿已保存，可随时在“我的办件”中继续填写。")
            return redirect("cases:mine")
        return redirect("cases:materials", app.pk)
    if not fields:
        return redirect("cases:materials", app.pk)
    return render(request, "cases/form.html", {"app": app, "fields": fields, "steps": STEPS, "current": 2})


@login_required
@errors_to_messages
def materials(request: HttpRequest, pk: int) -> HttpResponse:
    app = access.get_for(request.user, pk, edit=True)
    notice = (
        app.notices.filter(round=app.round).first() if app.status == Status.CORRECTION_REQUESTED else None
    )
    return render(
        request,
        "cases/materials.html",
        {"app": app, "materials": _materials(app), "notice": notice, "steps": STEPS, "current": 3},
    )


@login_required
@require_POST
@errors_to_messages
def upload(request: HttpRequest, pk: int, material_id: int) -> HttpResponse:
    app = access.get_for(request.user, pk, edit=True)
    if request.POST.get("commit"):
        services.commit_material(app, material_id, by=request.user)
        messages.success(request, "已选择告知承诺。")
    else:
        upload_file = request.FILES.get("file")
        if upload_file is None:
            raise ValidationError("请选择文件。", code="file-missing")
        services.upload_material(app, material_id, upload_file, by=request.user)
        messages.success(request, "材料已上传。")
    return redirect("cases:materials", app.pk)


@login_required
@errors_to_messages
def check(request: HttpRequest, pk: int) -> HttpResponse:
    app = access.get_for(request.user, pk, edit=True)
    if request.method == "POST":
        if app.status == Status.CORRECTION_REQUESTED:
            services.resubmit(app, actor=request.user, request=request)
            messages.success(request, "补正材料已提交。")
        else:
            services.submit(app, actor=request.user, request=request)
            messages.success(request, "申请已提交，窗口将在5个工作日内完成预审。")
        return redirect("cases:detail", app.pk)
    questions = {q.key: q for q in app.version.questions.prefetch_related("options")}
    answers = []
    for key, value in app.answers.items():
        q = questions.get(key)
        if q is not None:
            label = next((o.label for o in q.options.all() if o.key == value), value)
            answers.append((q.text, label))
    return render(
        request,
        "cases/check.html",
        {
            "app": app,
            "answers": answers,
            "fields": _fields(app),
            "materials": _materials(app),
            "problems": services.check_complete(app),
            "steps": STEPS,
            "current": 4,
        },
    )


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    apps = Application.objects.filter(owner=request.user).select_related("implementation__basic_item")
    inbox = Message.objects.filter(recipient=request.user)[:20]
    return render(request, "cases/mine.html", {"apps": apps, "inbox": inbox})


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    app = services.apply_deemed_acceptance(access.get_for(request.user, pk))
    return render(
        request,
        "cases/detail.html",
        {
            "app": app,
            "events": app.events.select_related("actor"),
            "notices": app.notices.all(),
            "can_edit": access.can_edit(request.user, app) and app.status in services.TRANSITIONS["edit"],
        },
    )


@login_required
def refusal_notice(request: HttpRequest, pk: int) -> HttpResponse:
    app = access.get_for(request.user, pk)
    if not app.refusal_notice:
        raise Http404("没有不予受理决定书")
    return FileResponse(
        app.refusal_notice.open("rb"), as_attachment=True, filename=f"不予受理决定书-{app.pk}.pdf"
    )


def progress(request: HttpRequest) -> HttpResponse:
    context: dict = {}
    if request.method == "POST":
        try:
            access.throttle_progress(client_ip(request))
            app = services.public_lookup(
                request.POST.get("case_number", ""), request.POST.get("id_number", "")
            )
            if app is None:
                context["error"] = "未查到办件，请核对办件编号和身份证号码。"
            else:
                context["app"] = app
                context["applicant"] = mask_name(app.applicant_name)
                context["events"] = app.events.all()
        except ValidationError as exc:
            context["error"] = "；".join(exc.messages)
    return render(request, "cases/progress.html", context)


# ------------------------------------------------------------------ staff


def _staff_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not (
            request.user.has_perm("cases.accept_application")
            or request.user.has_perm("cases.register_application")
        ):
            raise PermissionDenied("您没有办件受理权限。")
        return view(request, *args, **kwargs)

    return wrapper


#: Rows per page of the pre-review queue, oldest first (a clerk works from the top).
QUEUE_PAGE_SIZE = 50


@_staff_required
def queue(request: HttpRequest) -> HttpResponse:
    apps = services.staff_queue(request.user, statuses=(Status.SUBMITTED, Status.CORRECTION_REQUESTED))
    page = Paginator(apps, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/queue.html", {"apps": page, "page": page, "acting": acting_for(request)})


@_staff_required
@errors_to_messages
def review(request: HttpRequest, pk: int) -> HttpResponse:
    app = services.apply_deemed_acceptance(access.get_for(request.user, pk))
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "accept":
            services.accept(app, clerk=request.user, request=request)
            messages.success(request, "已受理。")
        elif action == "refuse":
            services.refuse(app, clerk=request.user, reason=request.POST.get("reason", ""), request=request)
            messages.success(request, "已作出不予受理决定。")
        elif action == "complete":
            services.complete_on_the_spot(app, clerk=request.user, request=request)
            messages.success(request, "已当场办结。")
        elif action == "correct":
            items = [
                {"material_id": int(mid), "problem": request.POST.get(f"problem_{mid}", "")}
                for mid in request.POST.getlist("material")
            ]
            if request.POST.get("form_problem", "").strip():
                items.append({"field": "申请表", "problem": request.POST["form_problem"]})
            services.request_corrections(
                app, clerk=request.user, items=items, note=request.POST.get("note", ""), request=request
            )
            messages.success(request, "已出具一次性补正告知。")
        elif action == "gaps":
            due = dt.date.fromisoformat(request.POST.get("due_date") or "1900-01-01")
            services.accept_with_gaps(
                app,
                clerk=request.user,
                missing=[int(m) for m in request.POST.getlist("missing")],
                due_date=due,
                request=request,
            )
            messages.success(request, "已容缺受理。")
        return redirect("cases:review", app.pk)
    return render(
        request,
        "cases/review.html",
        {
            "app": app,
            "materials": _materials(app),
            "fields": _fields(app),
            "events": app.events.select_related("actor"),
            "correction_deadline": services.correction_deadline(app),
        },
    )


@_staff_required
@errors_to_messages
def register(request: HttpRequest) -> HttpResponse:
    """窗口登记: a clerk at any hall registers a walk-in applicant for any published item, at the
    window they work at (a hall in their region; remembered for the session)."""
    if not request.user.has_perm("cases.register_application"):
        raise PermissionDenied("您没有窗口登记权限。")
    if request.method == "POST":
        impl = _published(request.POST.get("item_code", "").strip())
        app = services.start_application(
            implementation=impl,
            channel=Channel.WINDOW,
            registered_by=request.user,
            window=request.POST.get("window") or None,
            walk_in={
                "name": request.POST.get("name", "").strip(),
                "id_number": request.POST.get("id_number", ""),
                "phone": request.POST.get("phone", "").strip(),
            },
            request=request,
        )
        request.session[WINDOW_SESSION_KEY] = app.window_id
        return redirect("cases:situations", app.pk)
    windows = list(services.clerk_windows(request.user))
    chosen = request.session.get(WINDOW_SESSION_KEY) or (windows[0].pk if len(windows) == 1 else None)
    return render(request, "cases/register.html", {"windows": windows, "chosen": chosen})


@_staff_required
@errors_to_messages
def helper_apply(request: HttpRequest) -> HttpResponse:
    """帮办代办: the helper applies for the villager whose consent is current."""
    delegation = acting_for(request)
    if request.method == "POST":
        delegation = require_delegation(request, DelegationScope.APPLY)
        impl = _published(request.POST.get("item_code", "").strip())
        app = services.start_application(
            implementation=impl,
            owner=delegation.citizen.user,
            person=delegation.citizen,
            channel=Channel.HELPER,
            registered_by=request.user,
            delegation=delegation,
            request=request,
        )
        return redirect("cases:situations", app.pk)
    return render(request, "cases/helper.html", {"delegation": delegation})
