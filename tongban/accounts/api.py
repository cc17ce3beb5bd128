"""统一身份认证 API. Programs authenticate with ``Authorization: Bearer <token>``: a personal
access token (``tbp_…``, created in the personal centre) or an OAuth2 access token issued by the
platform's OpenID Connect provider; browsers use their session (with CSRF).

Personal data in responses is masked: the API never returns a full ID number.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.security import HttpBearer, django_auth
from oauth2_provider.models import get_access_token_model

from tongban.accounts import services
from tongban.accounts.models import AgentScope, Enterprise, EnterpriseAgent, Person
from tongban.accounts.scope import scope_for
from tongban.core.audit import client_ip
from tongban.core.schemas import MobileNumber, ResidentId


class TokenAuth(HttpBearer):
    """Personal access token or OAuth2 access token (hashed lookups only)."""

    def authenticate(self, request: HttpRequest, token: str):
        if token.startswith(services.TOKEN_PREFIX):
            user = services.user_for_access_token(token)
        else:
            checksum = hashlib.sha256(token.encode()).hexdigest()
            access = (
                get_access_token_model()
                .objects.select_related("user")
                .filter(token_checksum=checksum, expires__gt=timezone.now())
                .first()
            )
            user = access.user if access is not None and access.user and access.user.is_active else None
        if user is not None:
            request.user = user
        return user


AUTH = [TokenAuth(), django_auth]
router = Router(tags=["统一身份认证"])


class SmsCodeIn(Schema):
    phone: MobileNumber
    purpose: str = Field(
        description="register 注册 / login 登录 / reset 重置密码", pattern="^(register|login|reset)$"
    )


class SentOut(Schema):
    sent: bool
    expires_in: int = Field(description="有效期（秒）")


class RegisterIn(Schema):
    phone: MobileNumber
    code: str = Field(min_length=6, max_length=6)
    name: str = Field(min_length=1, max_length=60)
    id_number: ResidentId
    password: str = Field(min_length=8, max_length=128)


class EnterpriseOut(Schema):
    id: int
    name: str
    credit_code: str
    role: str = Field(description="legal_representative 法定代表人 / agent 经办人")
    scopes: list[str]
    valid_until: datetime | None


class MeOut(Schema):
    id: int
    name: str = Field(description="姓名（脱敏）")
    id_number: str = Field(description="公民身份号码（脱敏）")
    phone: str = Field(description="手机号码（脱敏）")
    realname_level: int = Field(description="实名等级 0–3")
    realname_level_name: str
    acting_for: EnterpriseOut | None = Field(description="当前办事身份（企业）；个人身份时为 null")
    is_staff: bool


class SwitchIn(Schema):
    enterprise_id: int | None = Field(None, description="企业编号；null 表示切换为个人身份")


class AgentIn(Schema):
    agent_phone: MobileNumber
    scopes: list[str] = Field(description="apply 申请办事 / view 查看办件 / pay 缴费 / licences 证照使用")
    valid_until: datetime


class AgentOut(Schema):
    id: int
    agent_name: str = Field(description="经办人姓名（脱敏）")
    agent_phone: str = Field(description="经办人手机号码（脱敏）")
    scopes: list[str]
    valid_until: datetime
    current: bool


class ScopeOut(Schema):
    roles: list[str]
    region_path: str | None
    department_id: int | None
    sees_everything: bool
    read_only: bool
    can_approve_extensions: bool


def _enterprise_out(role) -> dict:
    return {
        "id": role.enterprise.pk,
        "name": role.enterprise.name,
        "credit_code": role.enterprise.credit_code,
        "role": "legal_representative" if role.is_legal_rep else "agent",
        "scopes": list(role.scopes),
        "valid_until": role.valid_until,
    }


def _person(request) -> Person:
    person = getattr(request.user, "person", None)
    if person is None:
        raise ValidationError("只有个人账号可以使用此接口。", code="not-a-person")
    return person


@router.post("/sms-codes", response={202: SentOut}, summary="获取短信验证码")
def request_code(request, payload: SmsCodeIn):
    from django.conf import settings

    services.request_sms_code(payload.phone, payload.purpose, ip=client_ip(request))
    return Status(202, {"sent": True, "expires_in": settings.SMS_CODE_TTL_SECONDS})


@router.post("/register", response={201: MeOut}, summary="注册个人账号")
def register(request, payload: RegisterIn):
    user = services.register_citizen(
        phone=payload.phone,
        code=payload.code,
        name=payload.name,
        id_number=payload.id_number,
        password=payload.password,
        request=request,
    )
    return Status(201, _me(user))


def _me(user) -> dict:
    person = getattr(user, "person", None)
    current = services.current_enterprise(person)
    return {
        "id": user.pk,
        "name": person.masked_name if person else str(user),
        "id_number": person.masked_id_number if person else "",
        "phone": person.masked_phone if person else "",
        "realname_level": int(person.level) if person else 0,
        "realname_level_name": person.get_level_display() if person else "",
        "acting_for": _enterprise_out(current) if current else None,
        "is_staff": hasattr(user, "staff_profile"),
    }


@router.get("/me", response=MeOut, auth=AUTH, summary="当前用户")
def me(request):
    return _me(request.user)


@router.get("/me/enterprises", response=list[EnterpriseOut], auth=AUTH, summary="我可代表办事的企业")
def my_enterprises(request):
    return [_enterprise_out(r) for r in services.enterprises_for(_person(request))]


@router.post("/me/identity", response=MeOut, auth=AUTH, summary="切换办事身份")
def switch_identity(request, payload: SwitchIn):
    services.switch_identity(_person(request), payload.enterprise_id, request=request)
    request.user.person.refresh_from_db()
    return _me(request.user)


def _legal_rep_enterprise(request, enterprise_id: int) -> tuple[Person, Enterprise]:
    person = _person(request)
    role = services.enterprise_role(person, enterprise_id)
    if role is None or not role.is_legal_rep:
        raise ValidationError("只有完成实名核验的法定代表人才能管理经办人授权。", code="not-legal-rep")
    return person, role.enterprise


def _agent_out(grant: EnterpriseAgent) -> dict:
    return {
        "id": grant.pk,
        "agent_name": grant.person.masked_name,
        "agent_phone": grant.person.masked_phone,
        "scopes": grant.scopes,
        "valid_until": grant.valid_until,
        "current": grant.is_current(),
    }


@router.get("/enterprises/{enterprise_id}/agents", response=list[AgentOut], auth=AUTH, summary="企业经办人")
def list_agents(request, enterprise_id: int):
    _, enterprise = _legal_rep_enterprise(request, enterprise_id)
    return [_agent_out(g) for g in enterprise.agents.select_related("person")]


@router.post("/enterprises/{enterprise_id}/agents", response={201: AgentOut}, auth=AUTH, summary="授权经办人")
def grant_agent(request, enterprise_id: int, payload: AgentIn):
    person, enterprise = _legal_rep_enterprise(request, enterprise_id)
    grant = services.grant_agent(
        legal_rep=person,
        enterprise=enterprise,
        agent_phone=payload.agent_phone,
        scopes=payload.scopes,
        valid_until=payload.valid_until,
        request=request,
    )
    return Status(201, _agent_out(grant))


@router.post(
    "/enterprises/{enterprise_id}/agents/{agent_id}/revoke",
    response=AgentOut,
    auth=AUTH,
    summary="撤销经办人授权",
)
def revoke_agent(request, enterprise_id: int, agent_id: int):
    person, enterprise = _legal_rep_enterprise(request, enterprise_id)
    grant = (
        EnterpriseAgent.objects.filter(pk=agent_id, enterprise=enterprise).select_related("person").first()
    )
    if grant is None:
        raise ValidationError("授权记录不存在。", code="agent-unknown")
    services.revoke_agent(legal_rep=person, grant=grant, request=request)
    return _agent_out(grant)


@router.get("/agent-scopes", response=list[dict], summary="经办人授权范围")
def agent_scopes(request):
    return [{"code": value, "name": label} for value, label in AgentScope.choices]


@router.get("/me/scope", response=ScopeOut, auth=AUTH, summary="我的数据权限（工作人员）")
def my_scope(request):
    scope = scope_for(request.user)
    return {
        "roles": sorted(scope.roles),
        "region_path": scope.region_path,
        "department_id": scope.department_id,
        "sees_everything": scope.sees_everything,
        "read_only": scope.read_only,
        "can_approve_extensions": scope.can_approve_extensions,
    }
