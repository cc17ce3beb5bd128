"""Staff pages: password + TOTP login, workbench pages for system administrators (staff, roles,
OIDC clients) and for village helpers (delegation)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from tongban.accounts import delegation as delegations
from tongban.accounts import otp, personal_data, services, staffing
from tongban.accounts.forms import (
    ClientForm,
    DelegationForm,
    PasswordLoginForm,
    PersonLookupForm,
    RevealForm,
    RoleForm,
    StaffCreateForm,
    StaffEditForm,
    TotpForm,
)
from tongban.accounts.middleware import requires_otp
from tongban.accounts.models import Delegation, Person, Role, StaffProfile
from tongban.accounts.scope import has_role, roles_of
from tongban.core.audit import record_event

BACKEND = "tongban.accounts.backends.PhoneOrUsernameBackend"


def staff_required(*roles: str):
    """Signed in with a verified TOTP session and (when given) holding one of ``roles``.

    Superusers pass. Use on every workbench view; the IdentityMiddleware already stops
    unverified staff sessions, this also stops citizens."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect(f"/accounts/staff/login/?next={request.path}")
            if not requires_otp(user):
                raise PermissionDenied("仅限工作人员访问")
            if not user.is_verified():
                return redirect("accounts:staff_otp")
            if roles and not user.is_superuser and not (roles_of(user) & set(roles)):
                raise PermissionDenied("您没有访问该页面的角色")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def staff_login(request: HttpRequest) -> HttpResponse:
    form = PasswordLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if user is not None and requires_otp(user):
            request.login_method = "工作人员密码"
            login(request, user, backend=BACKEND)
            return redirect("accounts:staff_otp")
        form.add_error(None, "账号或密码不正确，或该账号不是工作人员账号。")
    return render(request, "accounts/staff_login.html", {"form": form})


def staff_otp(request: HttpRequest) -> HttpResponse:
    """Second step: verify the TOTP code; on the first login enrol a device first."""
    if not request.user.is_authenticated:
        return redirect("accounts:staff_login")
    if request.user.is_verified():
        return redirect("accounts:workbench")
    device = otp.confirmed_device(request.user)
    enrolling = device is None
    if enrolling:
        device = otp.pending_device(request.user)
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                record_event("accounts.totp_enrol", "绑定动态口令设备", actor=request.user, request=request)
            otp_login(request, device)
            return redirect(request.GET.get("next") or "accounts:workbench")
        record_event("accounts.totp_failed", "动态口令错误", actor=request.user, request=request)
        form.add_error("token", "动态口令不正确或已过期，请输入手机令牌上显示的最新 6 位数字。")
    context = {"form": form, "enrolling": enrolling}
    if enrolling:
        context.update(qr=otp.qr_data_uri(device), secret=otp.secret_base32(device))
    return render(request, "accounts/staff_otp.html", context)


@staff_required()
def workbench(request: HttpRequest) -> HttpResponse:
    profile = StaffProfile.objects.select_related("department", "region").filter(user=request.user).first()
    role_names = [Role(r).label for r in sorted(roles_of(request.user))]
    return render(request, "accounts/wb_home.html", {"profile": profile, "role_names": role_names})


@staff_required(Role.SYSTEM_ADMIN)
def staff_list(request: HttpRequest) -> HttpResponse:
    staff = StaffProfile.objects.select_related("user", "department", "region").prefetch_related(
        "user__role_assignments"
    )
    query = request.GET.get("q", "").strip()
    if query:
        staff = staff.filter(name__contains=query) | staff.filter(department__name__contains=query)
    return render(
        request,
        "accounts/wb_staff_list.html",
        {"staff": staff[:200], "q": query, "role_labels": dict(Role.choices)},
    )


@staff_required(Role.SYSTEM_ADMIN)
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(StaffProfile.objects.select_related("user", "department", "region"), pk=pk)
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action")
        try:
            if action == "revoke":
                services.revoke_role(
                    actor=request.user,
                    user=profile.user,
                    role=form.cleaned_data["role"],
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
                messages.success(request, "已撤销角色。")
            else:
                services.assign_role(
                    actor=request.user,
                    user=profile.user,
                    role=form.cleaned_data["role"],
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
                messages.success(request, "已授予角色。")
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            return redirect("accounts:wb_staff_detail", pk=pk)
    return _staff_detail_page(request, profile, form=form)


def _staff_detail_page(request, profile, *, form=None, edit_form=None, new_password=None, status=200):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    history = profile.user.role_assignments.select_related("granted_by", "revoked_by")
    edit_form = edit_form or StaffEditForm(
        initial={"department": profile.department_id, "region": profile.region_id, "title": profile.title}
    )
    context = {
        "profile": profile,
        "form": form or RoleForm(),
        "edit_form": edit_form,
        "history": history,
        "active": profile.roles,
        "has_device": TOTPDevice.objects.filter(user=profile.user, confirmed=True).exists(),
        "new_password": new_password,
    }
    return render(request, "accounts/wb_staff_detail.html", context, status=status)


@staff_required(Role.SYSTEM_ADMIN)
def staff_new(request: HttpRequest) -> HttpResponse:
    """新建工作人员账号: the one-time password is shown on the response page only, never stored."""
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            profile, password = staffing.create_staff_account(
                actor=request.user,
                username=data["username"],
                name=data["name"],
                phone=data["phone"],
                department=data["department"],
                region=data["region"],
                roles=data["roles"],
                title=data["title"],
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(request, f"已新建工作人员账号 {profile.user.username}。")
            return _staff_detail_page(request, profile, new_password=password)
    return render(request, "accounts/wb_staff_new.html", {"form": form})


@staff_required(Role.SYSTEM_ADMIN)
@require_POST
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(StaffProfile.objects.select_related("user", "department", "region"), pk=pk)
    form = StaffEditForm(request.POST)
    if form.is_valid():
        try:
            staffing.update_staff(
                actor=request.user,
                profile=profile,
                department=form.cleaned_data["department"],
                region=form.cleaned_data["region"],
                title=form.cleaned_data["title"],
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(request, "已保存部门、区划和职务。")
            return redirect("accounts:wb_staff_detail", pk=pk)
    profile.refresh_from_db()
    return _staff_detail_page(request, profile, edit_form=form, status=422)


@staff_required(Role.SYSTEM_ADMIN)
@require_POST
def staff_account(request: HttpRequest, pk: int) -> HttpResponse:
    """停用 / 启用 / 重置动态口令 / 重置密码."""
    profile = get_object_or_404(StaffProfile.objects.select_related("user", "department", "region"), pk=pk)
    action = request.POST.get("action")
    try:
        if action in ("deactivate", "reactivate"):
            staffing.set_staff_active(
                actor=request.user,
                profile=profile,
                active=action == "reactivate",
                reason=request.POST.get("reason", "")[:200],
                request=request,
            )
            messages.success(
                request, "账号已启用。" if action == "reactivate" else "账号已停用，已退出所有设备。"
            )
        elif action == "reset_totp":
            staffing.reset_staff_totp(actor=request.user, profile=profile, request=request)
            messages.success(request, "动态口令设备已重置，该工作人员下次登录时需重新绑定手机令牌。")
        elif action == "reset_password":
            password = staffing.reset_staff_password(actor=request.user, profile=profile, request=request)
            messages.success(request, "密码已重置，已退出该账号的所有设备。")
            return _staff_detail_page(request, profile, new_password=password)
        else:
            raise ValidationError("未知操作。", code="unknown-action")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("accounts:wb_staff_detail", pk=pk)


@staff_required(Role.SYSTEM_ADMIN)
def client_list(request: HttpRequest) -> HttpResponse:
    Application = get_application_model()
    form = ClientForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        secret = generate_client_secret()
        app = Application(
            name=form.cleaned_data["name"],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(form.cleaned_data["redirect_uris"].split()),
            post_logout_redirect_uris=" ".join(form.cleaned_data["post_logout_redirect_uris"].split()),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
            client_secret=secret,
            user=request.user,
        )
        try:
            app.full_clean()
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            app.save()
            record_event(
                "accounts.oidc_client_create",
                f"登记单点登录部门系统：{app.name}",
                actor=request.user,
                obj=app,
                request=request,
            )
            created = {"app": app, "secret": secret}
    apps = Application.objects.order_by("name")
    return render(request, "accounts/wb_clients.html", {"form": form, "apps": apps, "created": created})


@staff_required(Role.VILLAGE_HELPER, Role.WINDOW_CLERK)
def delegation_list(request: HttpRequest) -> HttpResponse:
    form = DelegationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            citizen = delegations.find_citizen(data["citizen_phone"])
            if data["method"] == "paper":
                if not data.get("scan"):
                    raise ValidationError("请上传签字的纸质授权书扫描件。", code="scan-required")
                delegations.record_paper_consent(
                    helper=request.user,
                    citizen=citizen,
                    scopes=data["scopes"],
                    valid_until=data["valid_until"],
                    scan=data["scan"],
                    request=request,
                )
                messages.success(request, "纸质授权书已登记，授权生效。")
            else:
                d = delegations.request_sms_consent(
                    helper=request.user,
                    citizen=citizen,
                    scopes=data["scopes"],
                    valid_until=data["valid_until"],
                    request=request,
                )
                messages.success(request, "确认短信已发送给群众，请输入群众告知的验证码。")
                return redirect("accounts:wb_delegation_confirm", pk=d.pk)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            return redirect("accounts:wb_delegations")
    items = Delegation.objects.filter(helper=request.user).select_related("citizen")[:100]
    return render(
        request,
        "accounts/wb_delegations.html",
        {"form": form, "items": items, "acting": delegations.acting_for(request)},
    )


@staff_required(Role.VILLAGE_HELPER, Role.WINDOW_CLERK)
def delegation_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    delegation = get_object_or_404(Delegation, pk=pk, helper=request.user)
    form = TotpForm(request.POST or None)
    form.fields["token"].label = "群众收到的短信验证码"
    if request.method == "POST" and form.is_valid():
        try:
            delegations.confirm_sms_consent(
                helper=request.user, delegation=delegation, code=form.cleaned_data["token"], request=request
            )
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(request, "群众已确认，代办授权生效。")
            return redirect("accounts:wb_delegations")
    return render(request, "accounts/wb_delegation_confirm.html", {"delegation": delegation, "form": form})


@staff_required(Role.VILLAGE_HELPER, Role.WINDOW_CLERK)
@require_POST
def delegation_act(request: HttpRequest, pk: int) -> HttpResponse:
    delegation = get_object_or_404(Delegation, pk=pk, helper=request.user)
    try:
        if request.POST.get("stop"):
            delegations.stop_acting(request)
            messages.success(request, "已结束代办。")
        else:
            delegations.start_acting(request, delegation)
            messages.success(request, f"正在代 {delegation.citizen.masked_name} 办理。")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("accounts:wb_delegations")


def is_system_admin(user) -> bool:
    return user.is_superuser or has_role(user, Role.SYSTEM_ADMIN)


@staff_required(*personal_data.PERSON_ROLES)
def person_lookup(request: HttpRequest) -> HttpResponse:
    """窗口查询群众: exact phone or ID number; the result is masked, the full number is revealed
    field by field with a purpose (person_reveal)."""
    # POST, not GET: a phone or ID number in the query string would end up in access logs,
    # browser history and the "next" links of the page.
    form = PersonLookupForm(request.POST or None)
    person = None
    searched = False
    if request.method == "POST" and form.is_valid():
        searched = True
        try:
            person = personal_data.find_person(form.cleaned_data["q"])
        except ValidationError as exc:
            form.add_error("q", " ".join(exc.messages))
        else:
            record_event(
                "accounts.person_lookup",
                "窗口查询群众" + ("（找到）" if person else "（未找到）"),
                actor=request.user,
                obj=person,
                request=request,
            )
            form = PersonLookupForm()  # do not echo the number back into the page
    return _person_page(request, form, person, searched)


def _person_page(request, form, person, searched, *, reveal_form=None, revealed=None, status=200):
    context = {
        "form": form,
        "person": person,
        "searched": searched,
        "reveal_form": reveal_form or RevealForm(),
        "revealed": revealed,
        "in_scope": person is not None and personal_data.covers(request.user, person),
    }
    return render(request, "accounts/wb_persons.html", context, status=status)


@staff_required(*personal_data.PERSON_ROLES)
@require_POST
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person.objects.select_related("user"), pk=pk)
    reveal_form = RevealForm(request.POST)
    revealed = None
    status = 200
    if reveal_form.is_valid():
        field = reveal_form.cleaned_data["field"]
        try:
            value = personal_data.reveal_personal_data(
                request.user, person, field, reveal_form.cleaned_data["purpose"], request=request
            )
        except ValidationError as exc:
            reveal_form.add_error(None, " ".join(exc.messages))
            status = 403 if exc.code == "reveal-out-of-scope" else 422
        else:
            revealed = {"label": personal_data.FIELDS[field], "value": value}
    else:
        status = 422
    return _person_page(
        request, PersonLookupForm(), person, True, reveal_form=reveal_form, revealed=revealed, status=status
    )
