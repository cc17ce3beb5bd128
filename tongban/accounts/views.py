"""Citizen pages: register, log in (password / SMS), reset password, personal centre."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tongban.accounts import services, verification
from tongban.accounts.adapters import LocalFaceVerifier
from tongban.accounts.forms import (
    AgentGrantForm,
    EnterpriseAddForm,
    PasswordLoginForm,
    PasswordResetForm,
    RegisterForm,
    SmsLoginForm,
    SocialSecurityCardForm,
)
from tongban.accounts.models import Enterprise, EnterpriseAgent, RealNameLevel
from tongban.accounts.smscodes import Purpose
from tongban.core.audit import client_ip

logger = logging.getLogger(__name__)
BACKEND = "tongban.accounts.backends.PhoneOrUsernameBackend"


def _add_errors(form, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)


def _send_code(request: HttpRequest, form, purpose: str) -> bool:
    """Handle the "获取验证码" button: only the phone is needed."""
    phone = getattr(form, "cleaned_data", {}).get("phone")
    if not phone:
        return False
    try:
        services.request_sms_code(phone, purpose, ip=client_ip(request))
    except ValidationError as exc:
        _add_errors(form, exc)
        return False
    messages.success(request, "验证码已发送，5 分钟内有效。")
    return True


def _next_url(request: HttpRequest, default: str = "/accounts/me/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if target and ok else default


def _login(request: HttpRequest, user, method: str) -> None:
    request.login_method = method  # recorded by the user_logged_in handler (signals.py)
    login(request, user, backend=BACKEND)


def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST":
        if "send_code" in request.POST:
            form.is_valid()
            _send_code(request, form, Purpose.REGISTER)
        elif form.is_valid():
            data = form.cleaned_data
            missing = [f.label for n, f in form.fields.items() if n != "phone" and not data.get(n)]
            if missing:
                form.add_error(None, "请填写：" + "、".join(str(m) for m in missing))
            else:
                try:
                    user = services.register_citizen(
                        phone=data["phone"],
                        code=data["code"],
                        name=data["name"],
                        id_number=data["id_number"],
                        password=data["password"],
                        request=request,
                    )
                except ValidationError as exc:
                    _add_errors(form, exc)
                else:
                    _login(request, user, "注册")
                    messages.success(request, "注册成功。")
                    return redirect("accounts:me")
    return render(request, "accounts/register.html", {"form": form})


def login_view(request: HttpRequest) -> HttpResponse:
    tab = request.POST.get("tab") or request.GET.get("tab") or "password"
    password_form = PasswordLoginForm(
        request.POST if tab == "password" and request.method == "POST" else None
    )
    sms_form = SmsLoginForm(request.POST if tab == "sms" and request.method == "POST" else None)
    if request.method == "POST" and tab == "password" and password_form.is_valid():
        user = authenticate(
            request,
            username=password_form.cleaned_data["username"],
            password=password_form.cleaned_data["password"],
        )
        if user is not None:
            _login(request, user, "密码")
            if services_requires_otp(user):
                return redirect("accounts:staff_otp")
            return redirect(_next_url(request))
        password_form.add_error(None, "账号或密码不正确。连续输错 5 次将锁定 30 分钟。")
    elif request.method == "POST" and tab == "sms":
        if "send_code" in request.POST:
            sms_form.is_valid()
            _send_code(request, sms_form, Purpose.LOGIN)
        elif sms_form.is_valid():
            try:
                user = services.sms_login_user(
                    phone=sms_form.cleaned_data["phone"], code=sms_form.cleaned_data["code"]
                )
            except ValidationError as exc:
                _add_errors(sms_form, exc)
            else:
                _login(request, user, "短信验证码")
                if services_requires_otp(user):
                    return redirect("accounts:staff_otp")
                return redirect(_next_url(request))
    context = {
        "tab": tab,
        "password_form": password_form,
        "sms_form": sms_form,
        "next": _next_url(request, ""),
    }
    return render(request, "accounts/login.html", context)


def services_requires_otp(user) -> bool:
    from tongban.accounts.middleware import requires_otp

    return requires_otp(user)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.session.session_key:
        services.UserSession.objects.filter(session_key=request.session.session_key).update(
            ended_at=services.timezone.now()
        )
    logout(request)
    messages.success(request, "您已安全退出。")
    return redirect("/")


def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST":
        if "send_code" in request.POST:
            form.is_valid()
            _send_code(request, form, Purpose.RESET)
        elif form.is_valid():
            try:
                services.reset_password(
                    phone=form.cleaned_data["phone"],
                    code=form.cleaned_data["code"],
                    password=form.cleaned_data["password"],
                    request=request,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "密码已重置，所有设备已退出，请用新密码登录。")
                return redirect("accounts:login")
    return render(request, "accounts/password_reset.html", {"form": form})


@login_required
def me(request: HttpRequest) -> HttpResponse:
    person = getattr(request.user, "person", None)
    context = {
        "person": person,
        "levels": RealNameLevel,
        "enterprises": services.enterprises_for(person) if person else [],
        "current": services.current_enterprise(person),
        "my_agencies": person.agencies.select_related("enterprise") if person else [],
        "sessions": services.active_sessions(request.user),
        "this_session": request.session.session_key,
        "tokens": request.user.access_tokens.filter(revoked_at__isnull=True),
        "new_token": request.session.pop("new_token", None),
        "delegations": person.delegations.select_related("helper") if person else [],
    }
    return render(request, "accounts/me.html", context)


def _person_or_404(request):
    person = getattr(request.user, "person", None)
    if person is None:
        from django.http import Http404

        raise Http404("只有个人账号可以使用此功能")
    return person


@login_required
@require_POST
def raise_level(request: HttpRequest) -> HttpResponse:
    person = _person_or_404(request)
    try:
        if request.POST.get("level") == "3":
            services.raise_to_l3(person, request.POST.get("face_token", ""), request=request)
        else:
            services.raise_to_l2(person, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"实名等级已提升至 {person.get_level_display()}。")
    return redirect("accounts:me")


@login_required
def face_start(request: HttpRequest) -> HttpResponse:
    """L3 entry: with the local verifier this links to the development simulator."""
    person = _person_or_404(request)
    token = request.GET.get("face_token", "")
    return render(
        request,
        "accounts/face.html",
        {"person": person, "token": token, "local": isinstance(LocalFaceVerifier(), LocalFaceVerifier)},
    )


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    person = _person_or_404(request)
    value = request.POST.get("enterprise") or ""
    try:
        role = services.switch_identity(person, int(value) if value.isdigit() else None, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"已切换为：{role.enterprise.name}" if role else "已切换为个人身份。")
    return redirect(_next_url(request))


@login_required
@require_POST
def end_session(request: HttpRequest) -> HttpResponse:
    services.end_session(request.user, request.POST.get("session", ""), request=request)
    messages.success(request, "已退出该设备。")
    return redirect("accounts:me")


@login_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    services.end_all_sessions(request.user, request=request)
    logout(request)
    messages.success(request, "已退出所有设备，请重新登录。")
    return redirect("accounts:login")


@login_required
@require_POST
def elder_mode(request: HttpRequest) -> HttpResponse:
    request.user.elder_mode = request.POST.get("on") == "1"
    request.user.save(update_fields=["elder_mode"])
    return redirect(_next_url(request))


@login_required
@require_POST
def create_token(request: HttpRequest) -> HttpResponse:
    raw = services.create_access_token(request.user, request.POST.get("name", "API"), request=request)
    request.session["new_token"] = raw
    return redirect("accounts:me")


@login_required
def enterprise_agents(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person_or_404(request)
    enterprise = get_object_or_404(Enterprise, pk=pk)
    role = services.enterprise_role(person, enterprise.pk)
    if role is None or not role.is_legal_rep:
        messages.error(request, "只有完成实名核验的法定代表人才能管理经办人授权。")
        return redirect("accounts:me")
    form = AgentGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_agent(
                legal_rep=person,
                enterprise=enterprise,
                agent_phone=form.cleaned_data["agent_phone"],
                scopes=form.cleaned_data["scopes"],
                valid_until=form.cleaned_data["valid_until"],
                request=request,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "已授权经办人。")
            return redirect("accounts:enterprise_agents", pk=pk)
    agents = EnterpriseAgent.objects.filter(enterprise=enterprise).select_related("person")
    return render(
        request, "accounts/enterprise_agents.html", {"enterprise": enterprise, "agents": agents, "form": form}
    )


@login_required
@require_POST
def agent_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    person = _person_or_404(request)
    grant = get_object_or_404(EnterpriseAgent, pk=pk)
    try:
        services.revoke_agent(legal_rep=person, grant=grant, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "已撤销该经办人的授权。")
    return redirect("accounts:enterprise_agents", pk=grant.enterprise_id)


@login_required
@require_POST
def raise_level_ss_card(request: HttpRequest) -> HttpResponse:
    """社会保障卡核验 (L2) from the personal centre."""
    person = _person_or_404(request)
    form = SocialSecurityCardForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写社会保障卡卡号。")
        return redirect("accounts:me")
    try:
        verification.raise_to_l2_by_social_security_card(
            person, form.cleaned_data["card_number"], request=request
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "社会保障卡核验通过，实名等级已提升至 L2。")
    return redirect("accounts:me")


@login_required
def enterprise_add(request: HttpRequest) -> HttpResponse:
    """法定代表人添加企业 (credit code + name + legal representative, checked in the registry)."""
    person = _person_or_404(request)
    form = EnterpriseAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enterprise = verification.add_enterprise_as_legal_rep(
                person,
                credit_code=form.cleaned_data["credit_code"],
                name=form.cleaned_data["name"],
                legal_rep_name=form.cleaned_data["legal_rep_name"],
                request=request,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"已添加企业：{enterprise.name}。您可以切换为企业身份办事。")
            return redirect("accounts:me")
    return render(request, "accounts/enterprise_add.html", {"form": form, "person": person})
