"""电子监察 pages: thin views over queries/stats/services. Scope comes from ``access``."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tongban.accounts.models import StaffProfile
from tongban.cases.models import Application, Channel, Status
from tongban.catalog.models import ItemImplementation
from tongban.core.models import Organisation, Region, Window
from tongban.core.pages import errors_to_messages
from tongban.supervision import access, charts, exports, queries, services, stats
from tongban.supervision.forms import ComplaintForm
from tongban.supervision.models import Alert, Complaint, ComplaintStatus, NoticeStatus
from tongban.workflow.lights import Light
from tongban.workflow.models import TaskStatus

PAGE_SIZE = 50


def _guard(check, message: str):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


supervise_required = _guard(access.can_supervise, "您没有电子监察权限。")
staff_required = _guard(lambda u: access.scope_for(u).user_id is not None, "只有工作人员可以使用工作台。")
complaints_required = _guard(
    lambda u: access.is_supervisor(u) or access.is_department_staff(u), "您没有投诉处理权限。"
)


def _nav(request: HttpRequest, current: str) -> dict:
    user = request.user
    return {
        "nav": current,
        "nav_supervise": access.can_supervise(user),
        "nav_supervisor": access.is_supervisor(user),
        "nav_complaints": access.is_supervisor(user) or access.is_department_staff(user),
        "nav_alerts": Alert.objects.filter(recipient=user, acknowledged_at__isnull=True).count(),
    }


def _filter_choices(user) -> dict:
    """Options of the filter form: only departments, regions and items inside the scope."""
    scope = access.scope_for(user)
    departments = scope.filter(Organisation.objects.all(), region_field="region", department_field=None)
    if scope.sees_department and not scope.sees_region_all_departments and not scope.sees_everything:
        departments = Organisation.objects.filter(pk=scope.department_id)
    regions = Region.objects.all()
    if not scope.sees_everything and scope.region_path:
        regions = regions.filter(path__startswith=scope.region_path)
    items = ItemImplementation.objects.filter(organisation__in=departments)
    return {
        "departments": departments.order_by("name").values_list("pk", "name")[:300],
        "regions": regions.filter(level__lte=4).order_by("path").values_list("pk", "name")[:300],
        "items": items.order_by("basic_item__name").values_list("pk", "basic_item__name")[:500],
        "channels": Channel.choices,
        "statuses": [(s.value, s.label) for s in Status if s != Status.DRAFT],
        "lights": Light.CHOICES,
    }


def _department_of_scope(user) -> Organisation | None:
    scope = access.scope_for(user)
    if scope.sees_everything or scope.sees_region_all_departments:
        return None
    return Organisation.objects.filter(pk=scope.department_id).first()


# --------------------------------------------------------------------------- dashboard


def _period(params) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    start = queries._date(params.get("start")) or today.replace(day=1)
    end = queries._date(params.get("end")) or today
    if end < start:
        start, end = end, start
    if (end - start).days > 3 * 366:
        start = end - dt.timedelta(days=3 * 366)
    return start, end


def _stat_filters(params) -> stats.Filters:
    f = queries.ListFilters.from_params(params)
    return stats.Filters(
        region_id=f.region, department_id=f.department, implementation_id=f.item, channel=f.channel
    )


@supervise_required
def dashboard(request: HttpRequest) -> HttpResponse:
    start, end = _period(request.GET)
    scope = access.scope_for(request.user)
    by_department, total = stats.compute(scope, start, end, group_by="department")
    by_day, _ = stats.compute(
        scope, max(start, end - dt.timedelta(days=30)), end, group_by="day", histogram=False
    )
    counts = queries.light_counts(request.user)
    context = {
        **_nav(request, "dashboard"),
        "start": start,
        "end": end,
        "total": total,
        "counts": counts,
        "by_department": by_department,
        "chart_data": charts.dashboard(by_department, by_day, counts),
        "refreshed": stats.last_refreshed(),
        "open_notices": access.notices_for(request.user).filter(responded_at__isnull=True).count(),
        "open_complaints": access.complaints_for(request.user)
        .exclude(status__in=[ComplaintStatus.ANSWERED, ComplaintStatus.CLOSED])
        .count(),
    }
    return render(request, "supervision/dashboard.html", context)


# --------------------------------------------------------------------------- lists


@supervise_required
def case_list(request: HttpRequest) -> HttpResponse:
    filters = queries.ListFilters.from_params(request.GET)
    qs = queries.cases(request.user, filters)
    if request.GET.get("format") == "csv":
        return exports.cases_csv(qs[:100_000])
    parts = queries.case_parts(request.user, filters)
    page = queries.BoundedPaginator(qs, PAGE_SIZE, parts=parts).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/cases.html",
        {
            **_nav(request, "cases"),
            **_filter_choices(request.user),
            "filters": filters,
            "page": page,
            "query": _query(filters),
        },
    )


@supervise_required
def task_list(request: HttpRequest) -> HttpResponse:
    filters = queries.ListFilters.from_params(request.GET)
    page = queries.BoundedPaginator(queries.tasks(request.user, filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "supervision/tasks.html",
        {
            **_nav(request, "tasks"),
            **_filter_choices(request.user),
            "task_statuses": TaskStatus.choices,
            "filters": filters,
            "page": page,
            "query": _query(filters),
        },
    )


def _query(filters: queries.ListFilters) -> str:
    from urllib.parse import urlencode

    return urlencode(filters.as_params())


# --------------------------------------------------------------------------- one case


def _verification(app: Application) -> dict:
    """The ledger's verification of the case history (``ledger/_verification.html``)."""
    try:
        from tongban.ledger.views import verification_context
    except ImportError:  # pragma: no cover - the ledger is part of the platform
        return {}
    return {"ledger_available": True, **verification_context(app)}


@supervise_required
@errors_to_messages(back_to_referer=False)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    app = access.get_case(request.user, pk)
    if request.method == "POST":
        respond_by = queries._date(request.POST.get("respond_by"))
        notice = services.issue_notice(
            app,
            supervisor=request.user,
            requirement=request.POST.get("requirement", ""),
            respond_by=respond_by,
            request=request,
        )
        messages.success(request, f"已发出{notice.number}。")
        return redirect("supervision:case", app.pk)
    return render(
        request,
        "supervision/case.html",
        {
            **_nav(request, "cases"),
            **queries.process(app),
            **_verification(app),
            "can_issue": access.is_supervisor(request.user),
            "default_respond_by": services.default_respond_by(),
        },
    )


# --------------------------------------------------------------------------- alerts


@staff_required
def alert_list(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("show") == "all"
    qs = Alert.objects.filter(recipient=request.user).select_related(
        "application__implementation__basic_item", "task"
    )
    if not show_all:
        qs = qs.filter(acknowledged_at__isnull=True)
    page = Paginator(qs.order_by("-created_at"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "supervision/alerts.html", {**_nav(request, "alerts"), "page": page, "show_all": show_all}
    )


@staff_required
@require_POST
def alert_ack(request: HttpRequest, pk: int) -> HttpResponse:
    alert = Alert.objects.filter(pk=pk, recipient=request.user).first()
    if alert is None:
        raise Http404("预警不存在")
    services.acknowledge(alert, request.user, request=request)
    messages.success(request, "已确认预警。")
    return redirect("supervision:alerts")


# --------------------------------------------------------------------------- 督办单


@supervise_required
def notice_list(request: HttpRequest) -> HttpResponse:
    qs = access.notices_for(request.user).select_related("application", "department", "issued_by")
    status = request.GET.get("status")
    today = timezone.localdate()
    if status == NoticeStatus.RESPONDED:
        qs = qs.filter(responded_at__isnull=False)
    elif status == NoticeStatus.OVERDUE:
        qs = qs.filter(responded_at__isnull=True, respond_by__lt=today)
    elif status == NoticeStatus.ISSUED:
        qs = qs.filter(responded_at__isnull=True, respond_by__gte=today)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/notices.html",
        {**_nav(request, "notices"), "page": page, "status": status, "statuses": NoticeStatus.choices},
    )


@supervise_required
@errors_to_messages(back_to_referer=False)
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = access.get_notice(request.user, pk)
    if request.method == "POST":
        services.respond_notice(
            notice, user=request.user, response=request.POST.get("response", ""), request=request
        )
        messages.success(request, "已提交书面回复。")
        return redirect("supervision:notice", notice.pk)
    can_respond = (
        notice.responded_at is None
        and access.is_head(request.user)
        and access.scope_for(request.user).can_change(
            notice, region_field="region", department_field="department"
        )
    )
    return render(
        request,
        "supervision/notice.html",
        {**_nav(request, "notices"), "notice": notice, "can_respond": can_respond},
    )


# --------------------------------------------------------------------------- statistics


@supervise_required
def statistics(request: HttpRequest) -> HttpResponse:
    start, end = _period(request.GET)
    group_by = (
        stats.ALIASES.get(request.GET.get("group_by") or "", request.GET.get("group_by")) or "department"
    )
    if group_by not in stats.GROUPS:
        group_by = "department"
    filters = _stat_filters(request.GET)
    rows, total = stats.compute(
        access.scope_for(request.user), start, end, group_by=group_by, filters=filters
    )
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return exports.statistics(rows, total, start=start, end=end, group_by=group_by, fmt=fmt)
    list_filters = queries.ListFilters.from_params(request.GET)
    params = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "group_by": group_by,
        **list_filters.as_params(),
    }
    from urllib.parse import urlencode

    return render(
        request,
        "supervision/statistics.html",
        {
            **_nav(request, "stats"),
            **_filter_choices(request.user),
            "filters": list_filters,
            "rows": rows,
            "total": total,
            "start": start,
            "end": end,
            "group_by": group_by,
            "group_label": stats.GROUPS[group_by],
            "groups": stats.GROUPS.items(),
            "query": urlencode(params),
            "chart_data": charts.statistics(rows, stats.GROUPS[group_by]),
            "refreshed": stats.last_refreshed(),
        },
    )


# --------------------------------------------------------------------------- big screen


@supervise_required
def screen(request: HttpRequest) -> HttpResponse:
    interval = queries._int(request.GET.get("interval")) or 60
    return render(
        request,
        "supervision/screen.html",
        {"data": screen_data(request.user), "interval": min(max(interval, 5), 600)},
    )


def screen_data(user) -> dict:
    today = timezone.localdate()
    scope = access.scope_for(user)
    rows, month = stats.compute(scope, today.replace(day=1), today, group_by="department")
    _, today_total = stats.compute(scope, today, today)
    counts = queries.light_counts(user)
    return {
        "today": today.isoformat(),
        "updated": timezone.localtime().strftime("%H:%M:%S"),
        "lights": counts,
        "today_received": today_total.counts["received"],
        "today_completed": today_total.counts["completed"],
        "month": month.as_dict(),
        "departments": [r.as_dict() for r in sorted(rows, key=lambda r: -r.counts["received"])[:10]],
        "open_cases": counts["green"] + counts["yellow"] + counts["red"],
    }


@supervise_required
def screen_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(screen_data(request.user), json_dumps_params={"ensure_ascii": False})


# --------------------------------------------------------------------------- complaints (staff)


@complaints_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    qs = access.complaints_for(request.user).select_related(
        "application", "window__hall", "assigned_department"
    )
    status = request.GET.get("status")
    if status in ComplaintStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/complaints.html",
        {
            **_nav(request, "complaints"),
            "page": page,
            "status": status,
            "statuses": ComplaintStatus.choices,
            "today": timezone.localdate(),
        },
    )


@complaints_required
@errors_to_messages(back_to_referer=False)
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = access.get_complaint(request.user, pk)
    user = request.user
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "assign":
            department = None
            if request.POST.get("department"):
                department = Organisation.objects.filter(pk=queries._int(request.POST["department"])).first()
            assignee = None
            if request.POST.get("assignee"):
                assignee = get_user_model().objects.filter(pk=queries._int(request.POST["assignee"])).first()
            services.assign_complaint(
                complaint, actor=user, department=department, assignee=assignee, request=request
            )
            messages.success(request, "已交办。")
        elif action == "answer":
            services.answer_complaint(
                complaint, actor=user, answer=request.POST.get("answer", ""), request=request
            )
            messages.success(request, "已答复。")
        elif action == "close":
            services.close_complaint(complaint, actor=user, request=request)
            messages.success(request, "已办结。")
        return redirect("supervision:complaint", complaint.pk)
    scope = access.scope_for(user)
    departments = []
    if access.is_supervisor(user):
        departments = scope.filter(Organisation.objects.all(), region_field="region", department_field=None)
    staff = []
    if complaint.assigned_department_id and (access.is_supervisor(user) or access.is_head(user)):
        staff = StaffProfile.objects.filter(department_id=complaint.assigned_department_id, is_active=True)
    return render(
        request,
        "supervision/complaint.html",
        {
            **_nav(request, "complaints"),
            "complaint": complaint,
            "departments": departments,
            "staff": staff,
            "can_answer": complaint.status == ComplaintStatus.ASSIGNED
            and scope.can_change(complaint, **access.COMPLAINT_FIELDS),
            "can_close": complaint.status == ComplaintStatus.ANSWERED and access.is_supervisor(user),
            "late": complaint.is_late(),
        },
    )


# --------------------------------------------------------------------------- complaints (citizens)


@login_required
def complain(request: HttpRequest) -> HttpResponse:
    """网上投诉: about one of the citizen's own cases, or a window of a service hall."""
    own = (
        Application.objects.filter(owner=request.user)
        .exclude(status=Status.DRAFT)
        .select_related("implementation__basic_item")
    )
    windows = Window.objects.filter(is_active=True).select_related("hall").order_by("hall__name", "number")
    form = ComplaintForm(
        request.POST or None,
        applications=own,
        windows=windows,
        initial={"application": request.GET.get("application")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.register_complaint(
                content=form.cleaned_data["content"],
                contact_name=form.cleaned_data["contact_name"],
                contact_phone=form.cleaned_data["contact_phone"],
                application=form.cleaned_data.get("application"),
                window=form.cleaned_data.get("window"),
                complainant=request.user,
                request=request,
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request, f"投诉已登记，编号 {complaint.number}，将在 {complaint.due_date} 前答复。"
            )
            return redirect("supervision:my_complaints")
    return render(request, "supervision/complain.html", {"form": form})


@login_required
def my_complaints(request: HttpRequest) -> HttpResponse:
    items = Complaint.objects.filter(complainant=request.user).select_related("application", "window__hall")
    return render(request, "supervision/my_complaints.html", {"complaints": items})
