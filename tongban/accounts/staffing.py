"""工作人员账号管理 — what system administrators do to staff accounts from the workbench.

Each function is one transaction with its audit event; validation happens before anything is
written, so a refused request leaves nothing behind. Errors: ValidationError(Chinese, code=...).
"""

from __future__ import annotations

import re
import secrets

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from tongban.accounts.models import Role, RoleAssignment, StaffProfile, UserSession
from tongban.accounts.services import _require_system_admin, sync_role_groups
from tongban.core.audit import record_event
from tongban.core.identifiers import validate_mobile
from tongban.core.models import Organisation, Region

User = get_user_model()
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,29}$")


def one_time_password() -> str:
    """A random password shown once to the administrator; long enough for every validator."""
    return f"Tb-{secrets.token_urlsafe(12)}"


def _check_placement(department: Organisation | None, region: Region | None) -> tuple[Organisation, Region]:
    if department is None or not department.is_active:
        raise ValidationError("请选择有效的所在部门。", code="staff-department-invalid")
    region = region or department.region
    if not region.is_active:
        raise ValidationError("服务区划已停用。", code="staff-region-invalid")
    # Staff serve their department's region or a region below it (a county clerk cannot be
    # given the whole city; a town clerk of the county department can).
    if not region.path.startswith(department.region.path):
        raise ValidationError(
            f"服务区划必须是所在部门的区划（{department.region.name}）或其下级区划。",
            code="staff-region-outside-department",
        )
    return department, region


def _end_sessions(user) -> None:
    """Sign the account out everywhere (session version + recorded sessions)."""
    User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
    keys = list(
        UserSession.objects.filter(user=user, ended_at__isnull=True).values_list("session_key", flat=True)
    )
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).update(ended_at=timezone.now())


def create_staff_account(
    *,
    actor,
    username: str,
    name: str,
    phone: str,
    department: Organisation | None,
    region: Region | None,
    roles: list[str],
    title: str = "",
    request: HttpRequest | None = None,
) -> tuple[StaffProfile, str]:
    """新建工作人员账号. Returns the profile and the one-time password (show it once)."""
    _require_system_admin(actor)
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise ValidationError(
            "账号须为 3–30 位小写字母、数字或 . _ -，并以字母或数字开头。", code="staff-username-invalid"
        )
    if User.objects.filter(username=username).exists():
        raise ValidationError("该账号已被使用，请换一个。", code="staff-username-taken")
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationError("请填写工作人员姓名。", code="staff-name-required")
    phone = validate_mobile(phone)
    department, region = _check_placement(department, region)
    roles = sorted(set(roles or []))
    if not roles:
        raise ValidationError("请至少选择一个角色。", code="staff-roles-required")
    if any(r not in Role.values for r in roles):
        raise ValidationError("角色不存在。", code="role-unknown")
    password = one_time_password()
    with transaction.atomic():
        user = User(username=username, display_name=name)
        user.set_password(password)
        user.save()
        profile = StaffProfile(
            user=user, name=name, department=department, region=region, title=(title or "").strip()[:60]
        )
        profile.phone = phone
        profile.save()
        for role in roles:
            RoleAssignment.objects.create(user=user, role=role, granted_by=actor, reason="新建账号")
        sync_role_groups(user)
        record_event(
            "accounts.staff_create",
            f"新建工作人员账号 {username}（{name}，{department.name}，{region.name}）",
            actor=actor,
            obj=profile,
            request=request,
            data={"user": user.pk, "department": department.pk, "region": region.code, "roles": roles},
        )
    return profile, password


def update_staff(
    *,
    actor,
    profile: StaffProfile,
    department: Organisation | None,
    region: Region | None,
    title: str = "",
    request: HttpRequest | None = None,
) -> StaffProfile:
    """调整部门、服务区划、职务."""
    _require_system_admin(actor)
    department, region = _check_placement(department, region)
    title = (title or "").strip()[:60]
    before = {"department": profile.department_id, "region": profile.region.code, "title": profile.title}
    after = {"department": department.pk, "region": region.code, "title": title}
    if before == after:
        return profile
    with transaction.atomic():
        profile.department, profile.region, profile.title = department, region, title
        profile.save(update_fields=["department", "region", "title"])
        record_event(
            "accounts.staff_update",
            f"调整工作人员 {profile.user.username}：{department.name}，{region.name}，{title or '无职务'}",
            actor=actor,
            obj=profile,
            request=request,
            data={"before": before, "after": after},
        )
    return profile


def set_staff_active(
    *, actor, profile: StaffProfile, active: bool, reason: str = "", request: HttpRequest | None = None
) -> StaffProfile:
    """停用 / 启用. A deactivated account cannot log in and all its sessions end at once."""
    _require_system_admin(actor)
    if not active and profile.user_id == actor.pk:
        raise ValidationError("不能停用自己的账号。", code="staff-self-deactivate")
    if profile.is_active == active and profile.user.is_active == active:
        raise ValidationError(
            "该账号已是在岗状态。" if active else "该账号已停用。", code="staff-active-unchanged"
        )
    with transaction.atomic():
        profile.is_active = active
        profile.save(update_fields=["is_active"])
        User.objects.filter(pk=profile.user_id).update(is_active=active)
        profile.user.is_active = active
        if not active:
            _end_sessions(profile.user)
        record_event(
            "accounts.staff_reactivate" if active else "accounts.staff_deactivate",
            f"{'启用' if active else '停用'}工作人员账号 {profile.user.username}",
            actor=actor,
            obj=profile,
            request=request,
            data={"reason": reason},
        )
    return profile


def reset_staff_totp(*, actor, profile: StaffProfile, request: HttpRequest | None = None) -> int:
    """重置动态口令设备: removes the devices and signs the account out; the next login enrols a
    new device (the TOTP step shows a fresh QR code). Returns how many devices were removed."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _require_system_admin(actor)
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=profile.user).delete()
        _end_sessions(profile.user)
        record_event(
            "accounts.staff_totp_reset",
            f"重置工作人员 {profile.user.username} 的动态口令设备（下次登录重新绑定）",
            actor=actor,
            obj=profile,
            request=request,
            data={"devices_removed": removed},
        )
    return removed


def reset_staff_password(*, actor, profile: StaffProfile, request: HttpRequest | None = None) -> str:
    """重置密码: a new one-time password (returned once, never stored in clear) and sign-out."""
    _require_system_admin(actor)
    password = one_time_password()
    with transaction.atomic():
        profile.user.set_password(password)
        profile.user.save(update_fields=["password"])
        _end_sessions(profile.user)
        record_event(
            "accounts.staff_password_reset",
            f"重置工作人员 {profile.user.username} 的密码",
            actor=actor,
            obj=profile,
            request=request,
        )
    return password
