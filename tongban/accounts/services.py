"""Business rules of the identity capability. One transaction per state change, with its audit
event; errors are ValidationError(Chinese message, code=stable-code)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from tongban.accounts import smscodes
from tongban.accounts.adapters import face_verifier, population_source
from tongban.accounts.crypto import blind_index, keyed_hash
from tongban.accounts.models import (
    AgentScope,
    Enterprise,
    EnterpriseAgent,
    Person,
    PersonalAccessToken,
    RealNameLevel,
    Role,
    RoleAssignment,
    StaffProfile,
    UserSession,
)
from tongban.core.audit import record_event
from tongban.core.identifiers import mask_name, validate_mobile, validate_resident_id

logger = logging.getLogger(__name__)
User = get_user_model()


# ---- Citizens ----------------------------------------------------------------------------------


def person_for_phone(phone: str) -> Person | None:
    return Person.objects.select_related("user").filter(phone_index=blind_index(phone, "mobile")).first()


def request_sms_code(phone: str, purpose: str, *, ip: str | None = None) -> str:
    """Validate the phone for the purpose and send a code. Returns the normalised phone."""
    phone = validate_mobile(phone)
    exists = person_for_phone(phone) is not None
    if purpose == smscodes.Purpose.REGISTER and exists:
        raise ValidationError("该手机号已注册，请直接登录。", code="phone-taken")
    if purpose in (smscodes.Purpose.LOGIN, smscodes.Purpose.RESET) and not exists:
        raise ValidationError("该手机号尚未注册。", code="phone-unknown")
    smscodes.request_code(phone, purpose, ip=ip)
    return phone


def register_citizen(
    *, phone: str, code: str, name: str, id_number: str, password: str, request: HttpRequest | None = None
) -> User:
    """注册: phone + SMS code + name + ID number + password → L1 (L2 when the population source
    matches). Everything is checked before the code is consumed and the rows are written in one
    transaction, so a failure leaves nothing behind."""
    phone = validate_mobile(phone)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationError("请填写与身份证一致的姓名。", code="name-required")
    id_check = validate_resident_id(id_number)
    if person_for_phone(phone) is not None:
        raise ValidationError("该手机号已注册，请直接登录。", code="phone-taken")
    if Person.objects.filter(id_index=blind_index(id_check.number, "resident-id")).exists():
        raise ValidationError("该身份证号码已注册账号，如非本人操作请联系 12345。", code="id-taken")
    validate_password(password)
    smscodes.verify_code(phone, smscodes.Purpose.REGISTER, code)
    matched = population_source().matches(name, id_check.number)
    now = timezone.now()
    try:
        with transaction.atomic():
            user = User(username=f"c{secrets.token_hex(6)}", display_name=name)
            user.set_password(password)
            user.save()
            person = Person(user=user, name=name)
            person.set_phone(phone)
            person.set_id_number(id_check.number)
            person.level = RealNameLevel.L2 if matched else RealNameLevel.L1
            person.verification_method = "人口库比对" if matched else "手机短信"
            person.verified_at = now
            person.save()
            record_event(
                "accounts.register",
                f"注册账号 {mask_name(name)}，实名等级 L{person.level}",
                actor=user,
                obj=person,
                request=request,
            )
    except IntegrityError as exc:  # two registrations racing for the same phone or ID
        raise ValidationError("该手机号或身份证号码已注册。", code="already-registered") from exc
    return user


def reset_password(*, phone: str, code: str, password: str, request: HttpRequest | None = None) -> User:
    phone = validate_mobile(phone)
    person = person_for_phone(phone)
    if person is None:
        raise ValidationError("该手机号尚未注册。", code="phone-unknown")
    validate_password(password, person.user)
    smscodes.verify_code(phone, smscodes.Purpose.RESET, code)
    with transaction.atomic():
        person.user.set_password(password)
        person.user.save(update_fields=["password"])
        end_all_sessions(person.user, request=request, reason="重置密码")
        record_event(
            "accounts.password_reset",
            "通过短信验证码重置密码",
            actor=person.user,
            obj=person,
            request=request,
        )
    return person.user


def sms_login_user(*, phone: str, code: str) -> User:
    """The user to sign in after a correct login code (the view then calls django login)."""
    phone = validate_mobile(phone)
    person = person_for_phone(phone)
    if person is None or not person.user.is_active:
        raise ValidationError("该手机号尚未注册。", code="phone-unknown")
    smscodes.verify_code(phone, smscodes.Purpose.LOGIN, code)
    return person.user


def raise_to_l2(person: Person, *, request: HttpRequest | None = None) -> Person:
    if person.level >= RealNameLevel.L2:
        return person
    if not person.id_number or not population_source().matches(person.name, person.id_number):
        record_event(
            "accounts.realname_failed", "人口库比对未通过", actor=person.user, obj=person, request=request
        )
        raise ValidationError(
            "姓名与身份证号码未能在人口库中核验通过，请核对或到窗口办理。", code="population-mismatch"
        )
    with transaction.atomic():
        person.level, person.verified_at, person.verification_method = (
            RealNameLevel.L2,
            timezone.now(),
            "人口库比对",
        )
        person.save(update_fields=["level", "verified_at", "verification_method"])
        record_event(
            "accounts.realname_l2",
            "实名等级提升至 L2（人口库比对）",
            actor=person.user,
            obj=person,
            request=request,
        )
    return person


def raise_to_l3(person: Person, token: str, *, request: HttpRequest | None = None) -> Person:
    if person.level < RealNameLevel.L2:
        raise ValidationError("请先完成身份信息核验（L2），再进行人脸识别。", code="realname-l2-required")
    result = face_verifier().verify(token, person.user_id)
    if not result.passed:
        record_event(
            "accounts.realname_failed", "人脸识别未通过", actor=person.user, obj=person, request=request
        )
        raise ValidationError("人脸识别未通过，请重新识别。", code="face-failed")
    with transaction.atomic():
        person.level, person.verified_at = RealNameLevel.L3, timezone.now()
        person.verification_method = f"人脸识别（{result.provider}）"
        person.save(update_fields=["level", "verified_at", "verification_method"])
        record_event(
            "accounts.realname_l3",
            "实名等级提升至 L3（人脸识别）",
            actor=person.user,
            obj=person,
            request=request,
            data={"provider": result.provider, "score": result.score},
        )
    return person


# ---- Sessions ---------------------------------------------------------------------------------


def record_login(request: HttpRequest, user, method: str) -> None:
    """Called on every login: remember the session as a device and its session version."""
    request.session["session_version"] = user.session_version
    if not request.session.session_key:
        request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "ip_address": request.META.get("REMOTE_ADDR") or None,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
            "method": method,
            "ended_at": None,
        },
    )


def end_session(user, session_key: str, *, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        Session.objects.filter(session_key=session_key).delete()
        UserSession.objects.filter(user=user, session_key=session_key).update(ended_at=timezone.now())
        record_event("accounts.session_end", "结束一个登录设备", actor=user, request=request)


def end_all_sessions(user, *, request: HttpRequest | None = None, reason: str = "退出所有设备") -> int:
    """退出所有设备: bump the session version (checked by IdentityMiddleware) and delete the
    recorded sessions, so even a session we failed to record stops working."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(session_version=user.session_version + 1)
        user.session_version += 1
        keys = list(
            UserSession.objects.filter(user=user, ended_at__isnull=True).values_list("session_key", flat=True)
        )
        Session.objects.filter(session_key__in=keys).delete()
        UserSession.objects.filter(session_key__in=keys).update(ended_at=timezone.now())
        record_event(
            "accounts.logout_everywhere", reason, actor=user, request=request, data={"sessions": len(keys)}
        )
    return len(keys)


def active_sessions(user) -> list[UserSession]:
    live = set(Session.objects.filter(expire_date__gt=timezone.now()).values_list("session_key", flat=True))
    rows = UserSession.objects.filter(user=user, ended_at__isnull=True)
    return [row for row in rows if row.session_key in live]


# ---- Enterprises and agents ---------------------------------------------------------------------


@dataclass(frozen=True)
class EnterpriseRole:
    enterprise: Enterprise
    is_legal_rep: bool
    scopes: tuple[str, ...]
    valid_until: datetime | None


def enterprises_for(person: Person) -> list[EnterpriseRole]:
    """The enterprises this person may act for now: as legal representative (L2+ verified ID
    matches the registered representative) or as a current authorised agent."""
    roles: dict[int, EnterpriseRole] = {}
    if person.level >= RealNameLevel.L2 and person.id_index:
        for ent in Enterprise.objects.filter(legal_rep_id_index=person.id_index, is_active=True):
            roles[ent.pk] = EnterpriseRole(ent, True, tuple(AgentScope.values), None)
    now = timezone.now()
    agencies = EnterpriseAgent.objects.filter(
        person=person,
        revoked_at__isnull=True,
        valid_from__lte=now,
        valid_until__gt=now,
        enterprise__is_active=True,
    ).select_related("enterprise")
    for agent in agencies:
        if agent.enterprise_id not in roles:
            roles[agent.enterprise_id] = EnterpriseRole(
                agent.enterprise, False, tuple(agent.scopes), agent.valid_until
            )
    return sorted(roles.values(), key=lambda r: r.enterprise.name)


def check_enterprise_permission(
    person: Person, enterprise: Enterprise, scope: str, *, request=None
) -> EnterpriseRole:
    """Raise unless ``person`` may do ``scope`` for ``enterprise`` right now (logged when refused)."""
    for role in enterprises_for(person):
        if role.enterprise.pk == enterprise.pk:
            if scope in role.scopes:
                return role
            _refuse(person, enterprise, scope, "agent-scope", request)
    latest = (
        EnterpriseAgent.objects.filter(person=person, enterprise=enterprise).order_by("-created_at").first()
    )
    if latest is not None and latest.revoked_at is not None:
        _refuse(person, enterprise, scope, "agent-revoked", request)
    if latest is not None and latest.valid_until <= timezone.now():
        _refuse(person, enterprise, scope, "agent-expired", request)
    _refuse(person, enterprise, scope, "agent-not-authorised", request)
    raise AssertionError("unreachable")


_AGENT_MESSAGES = {
    "agent-scope": "您未获得该企业“{scope}”的授权，请联系法定代表人调整授权范围。",
    "agent-revoked": "您对该企业的经办授权已被撤销。",
    "agent-expired": "您对该企业的经办授权已过期，请联系法定代表人重新授权。",
    "agent-not-authorised": "您不是该企业的法定代表人或经办人。",
}


def _refuse(person, enterprise, scope, code, request) -> None:
    label = AgentScope(scope).label if scope in AgentScope.values else scope
    message = _AGENT_MESSAGES[code].format(scope=label)
    record_event(
        "accounts.enterprise_refused",
        f"拒绝代表 {enterprise.name} 办理：{message}",
        actor=person.user,
        obj=enterprise,
        request=request,
        data={"code": code, "scope": scope},
    )
    logger.warning("enterprise permission refused code=%s enterprise=%s", code, enterprise.pk)
    raise ValidationError(message, code=code)


def _require_legal_rep(person: Person, enterprise: Enterprise) -> None:
    if not (
        person.level >= RealNameLevel.L2
        and person.id_index
        and person.id_index == enterprise.legal_rep_id_index
    ):
        raise ValidationError("只有完成实名核验的法定代表人才能管理经办人授权。", code="not-legal-rep")


def grant_agent(
    *,
    legal_rep: Person,
    enterprise: Enterprise,
    agent_phone: str,
    scopes: list[str],
    valid_until: datetime,
    request: HttpRequest | None = None,
) -> EnterpriseAgent:
    _require_legal_rep(legal_rep, enterprise)
    scopes = sorted(set(scopes))
    if not scopes or any(s not in AgentScope.values for s in scopes):
        raise ValidationError("请选择有效的授权范围。", code="agent-scopes-invalid")
    if valid_until <= timezone.now():
        raise ValidationError("授权截止时间必须晚于现在。", code="agent-until-past")
    if valid_until > timezone.now() + timedelta(days=366 * 3):
        raise ValidationError("单次授权期限最长三年。", code="agent-until-too-long")
    agent = person_for_phone(validate_mobile(agent_phone))
    if agent is None:
        raise ValidationError("经办人尚未注册，请其先注册账号。", code="agent-unknown")
    if agent.level < RealNameLevel.L2:
        raise ValidationError("经办人须完成实名核验（L2 及以上）后才能被授权。", code="agent-not-verified")
    with transaction.atomic():
        EnterpriseAgent.objects.filter(enterprise=enterprise, person=agent, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        grant = EnterpriseAgent.objects.create(
            enterprise=enterprise,
            person=agent,
            scopes=scopes,
            valid_until=valid_until,
            granted_by=legal_rep.user,
        )
        record_event(
            "accounts.agent_grant",
            f"{enterprise.name} 授权经办人 {agent.masked_name}",
            actor=legal_rep.user,
            obj=grant,
            request=request,
            data={"scopes": scopes, "valid_until": valid_until.isoformat()},
        )
    return grant


def revoke_agent(*, legal_rep: Person, grant: EnterpriseAgent, request: HttpRequest | None = None) -> None:
    _require_legal_rep(legal_rep, grant.enterprise)
    with transaction.atomic():
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        record_event(
            "accounts.agent_revoke",
            f"{grant.enterprise.name} 撤销经办人 {grant.person.masked_name}",
            actor=legal_rep.user,
            obj=grant,
            request=request,
        )


def enterprise_role(person: Person | None, enterprise_id: int | None) -> EnterpriseRole | None:
    if person is None or not enterprise_id:
        return None
    for role in enterprises_for(person):
        if role.enterprise.pk == enterprise_id:
            return role
    return None


def switch_identity(
    person: Person, enterprise_id: int | None, *, request: HttpRequest | None = None
) -> EnterpriseRole | None:
    """切换身份: act as yourself (None) or for an enterprise you are currently authorised for."""
    role = enterprise_role(person, enterprise_id)
    if enterprise_id is not None and role is None:
        raise ValidationError("您没有代表该企业办事的有效授权。", code="agent-not-authorised")
    with transaction.atomic():
        person.acting_enterprise_id = enterprise_id
        person.save(update_fields=["acting_enterprise"])
        summary = f"切换为企业身份：{role.enterprise.name}" if role else "切换为个人身份"
        record_event(
            "accounts.switch_identity",
            summary,
            actor=person.user,
            obj=role.enterprise if role else person,
            request=request,
        )
    return role


def current_enterprise(person: Person | None) -> EnterpriseRole | None:
    """The enterprise the person is acting for, re-checked on every call: an agent whose
    authorisation expired or was revoked falls back to their own identity."""
    if person is None or not person.acting_enterprise_id:
        return None
    return enterprise_role(person, person.acting_enterprise_id)


# ---- Staff and roles ----------------------------------------------------------------------------


# Model permissions each role's group carries ("app_label.codename"). Capability apps check these
# with user.has_perm(); data scope (accounts.scope) then narrows which rows the permission covers.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    # 事项管理员: departments' and 编办's catalogue staff edit drafts; another one reviews and publishes.
    Role.CATALOGUE_ADMIN: [
        "catalog.view_itemversion",
        "catalog.add_itemversion",
        "catalog.change_itemversion",
        "catalog.review_itemversion",
        "catalog.publish_itemversion",
        # 审批流程: edits and publishes the process definitions of its scope (workflow.definitions).
        "workflow.view_processdefinition",
        "workflow.manage_process",
    ],
    # 部门负责人 may prepare changes to their department's guides; review stays with 事项管理员.
    Role.DEPARTMENT_HEAD: [
        "catalog.view_itemversion",
        "catalog.add_itemversion",
        "catalog.change_itemversion",
        "workflow.view_processdefinition",
    ],
    Role.SYSTEM_ADMIN: ["workflow.view_processdefinition", "workflow.manage_process"],
    Role.SUPERVISOR: ["catalog.view_itemversion", "cases.view_application"],
    # 综合窗口: registers walk-in applications for any item and pre-reviews its own scope's queue.
    Role.WINDOW_CLERK: ["cases.view_application", "cases.accept_application", "cases.register_application"],
    Role.VILLAGE_HELPER: ["cases.register_application"],
}


def role_group(role: str) -> Group:
    """The Django group of a role, with exactly the permissions of ROLE_PERMISSIONS."""
    from django.contrib.auth.models import Permission

    group, _ = Group.objects.get_or_create(name=Role(role).label)
    wanted = []
    for dotted in ROLE_PERMISSIONS.get(role, []):
        app_label, codename = dotted.split(".")
        wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
    if set(group.permissions.all()) != set(wanted):
        group.permissions.set(wanted)
    return group


def sync_role_groups(user) -> None:
    """Django groups mirror active role assignments, so permissions can hang off groups."""
    active = set(user.role_assignments.filter(revoked_at__isnull=True).values_list("role", flat=True))
    wanted = {role_group(role) for role in active}
    role_labels = set(Role.labels)
    current = set(user.groups.filter(name__in=role_labels))
    user.groups.remove(*(current - wanted))
    user.groups.add(*(wanted - current))


def _require_system_admin(actor) -> None:
    from tongban.accounts.scope import has_role

    if not (actor.is_superuser or has_role(actor, Role.SYSTEM_ADMIN)):
        raise ValidationError("只有系统管理员可以调整工作人员角色。", code="not-system-admin")


def assign_role(
    *, actor, user, role: str, reason: str = "", request: HttpRequest | None = None
) -> RoleAssignment:
    _require_system_admin(actor)
    if role not in Role.values:
        raise ValidationError("角色不存在。", code="role-unknown")
    if not StaffProfile.objects.filter(user=user).exists():
        raise ValidationError("该账号不是工作人员，不能授予角色。", code="not-staff")
    with transaction.atomic():
        existing = (
            RoleAssignment.objects.select_for_update()
            .filter(user=user, role=role, revoked_at__isnull=True)
            .first()
        )
        if existing:
            return existing
        assignment = RoleAssignment.objects.create(user=user, role=role, granted_by=actor, reason=reason)
        sync_role_groups(user)
        record_event(
            "accounts.role_grant",
            f"授予 {user} 角色“{Role(role).label}”",
            actor=actor,
            obj=assignment,
            request=request,
            data={"user": user.pk, "role": role, "reason": reason},
        )
    return assignment


def revoke_role(*, actor, user, role: str, reason: str = "", request: HttpRequest | None = None) -> None:
    _require_system_admin(actor)
    with transaction.atomic():
        assignment = (
            RoleAssignment.objects.select_for_update()
            .filter(user=user, role=role, revoked_at__isnull=True)
            .first()
        )
        if assignment is None:
            raise ValidationError("该工作人员没有这个角色。", code="role-not-held")
        if role == Role.SYSTEM_ADMIN and user.pk == actor.pk:
            raise ValidationError("不能撤销自己的系统管理员角色。", code="role-self-revoke")
        assignment.revoked_at, assignment.revoked_by = timezone.now(), actor
        assignment.reason = reason or assignment.reason
        assignment.save(update_fields=["revoked_at", "revoked_by", "reason"])
        sync_role_groups(user)
        record_event(
            "accounts.role_revoke",
            f"撤销 {user} 角色“{Role(role).label}”",
            actor=actor,
            obj=assignment,
            request=request,
            data={"user": user.pk, "role": role, "reason": reason},
        )


def create_staff(
    *,
    username: str,
    name: str,
    department,
    region=None,
    roles: list[str] = (),
    password: str | None = None,
    actor=None,
    title: str = "",
) -> StaffProfile:
    """Create (or update) a staff account. Used by demo data and the admin pages."""
    with transaction.atomic():
        user, _ = User.objects.get_or_create(username=username, defaults={"display_name": name})
        user.display_name = name
        if password:
            user.set_password(password)
        user.save()
        profile, _ = StaffProfile.objects.update_or_create(
            user=user,
            defaults={
                "name": name,
                "department": department,
                "region": region or department.region,
                "title": title,
                "is_active": True,
            },
        )
        for role in roles:
            if not RoleAssignment.objects.filter(user=user, role=role, revoked_at__isnull=True).exists():
                assignment = RoleAssignment.objects.create(
                    user=user, role=role, granted_by=actor, reason="初始化"
                )
                record_event(
                    "accounts.role_grant",
                    f"授予 {user} 角色“{Role(role).label}”",
                    actor=actor,
                    obj=assignment,
                    data={"user": user.pk, "role": role},
                )
        sync_role_groups(user)
    return profile


# ---- Personal access tokens ------------------------------------------------------------------------


TOKEN_PREFIX = "tbp_"


def create_access_token(user, name: str, days: int = 90, *, request: HttpRequest | None = None) -> str:
    """Returns the token once; only its keyed hash is stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = PersonalAccessToken.objects.create(
            user=user,
            name=name[:60] or "API",
            prefix=raw[:12],
            token_hash=keyed_hash(raw),
            expires_at=timezone.now() + timedelta(days=max(1, min(days, 365))),
        )
        record_event(
            "accounts.token_create", f"创建访问令牌 {token.name}", actor=user, obj=token, request=request
        )
    return raw


def user_for_access_token(raw: str):
    now = timezone.now()
    token = (
        PersonalAccessToken.objects.select_related("user")
        .filter(token_hash=keyed_hash(raw), revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def staff_queryset():
    return StaffProfile.objects.select_related("user", "department", "region").filter(Q(is_active=True))
