"""Demo identities (idempotent). DEMO ONLY: the passwords and TOTP secrets below are public.

``manage.py load_demo`` prints them so a person can sign in with an authenticator app (or by
computing the code from the printed secret); see docs/identity.md.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import TextIO

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import get_application_model

from tongban.accounts import services
from tongban.accounts.crypto import blind_index
from tongban.accounts.models import (
    Enterprise,
    EnterpriseAgent,
    LegalEntityRecord,
    Person,
    PopulationRecord,
    RealNameLevel,
    Role,
    SocialSecurityCardRecord,
    User,
)
from tongban.core.demo import department
from tongban.core.identifiers import credit_code_check_char, resident_id_check_char
from tongban.core.models import Region

CITIZEN_PASSWORD = "Demo-2025-citizen"
STAFF_PASSWORD = "Demo-2025-staff"
OIDC_CLIENT_ID = "demo-department-system"
OIDC_CLIENT_SECRET = "demo-department-system-secret-not-for-production"
OIDC_REDIRECT = "http://localhost:8001/callback"


def resident_id(region: str, birth: str, serial: str) -> str:
    first17 = f"{region}{birth}{serial}"
    return first17 + resident_id_check_char(first17)


def enterprise_code(region: str, serial: str) -> str:
    first17 = f"91{region}{serial}"
    return first17 + credit_code_check_char(first17)


# (phone, name, ID number, registered?) — registered ones get accounts; the others are only in the
# local population source so that a visitor can register them and reach L2.
PEOPLE = [
    ("13800000001", "王小明", resident_id("341502", "19850312", "123"), True),
    ("13800000002", "陈建国", resident_id("341500", "19700506", "051"), True),
    ("13800000003", "赵秀英", resident_id("341523", "19520808", "062"), False),
    ("13800000004", "孙丽", resident_id("341503", "19950120", "044"), False),
]
ENTERPRISE = ("六安皖西茶业有限公司", enterprise_code("341500", "MA2N0C8X1"))
# In the local legal-entity registry but not yet on the platform: 陈建国 adds it himself from the
# personal centre (统一社会信用代码 + 名称 + 法定代表人).
ENTERPRISE_TO_ADD = ("六安市大别山山货商贸有限公司", enterprise_code("341502", "MA2P7K3Y5"))
# Local social-security card source: (card number, name, ID number). 周桂兰 is NOT in the
# population source: she registers at L1 and reaches L2 with her social-security card.
SS_ONLY_PERSON = ("13800000005", "周桂兰", resident_id("341522", "19580317", "086"))
SS_CARDS = [
    ("LA0012345", PEOPLE[2][1], PEOPLE[2][2]),
    ("LA0023456", PEOPLE[3][1], PEOPLE[3][2]),
    ("LA0034567", SS_ONLY_PERSON[1], SS_ONLY_PERSON[2]),
]

# (username, name, region code, department key, serving region code, roles)
STAFF = [
    ("la-clerk", "周窗口", "341500", "data", "341500", [Role.WINDOW_CLERK]),
    ("la-approver", "吴审批", "341500", "market", "341500", [Role.APPROVER]),
    ("la-head", "郑局长", "341500", "market", "341500", [Role.DEPARTMENT_HEAD, Role.APPROVER]),
    ("la-supervisor", "冯监察", "341500", "data", "341500", [Role.SUPERVISOR]),
    ("la-catalogue", "何事项", "341500", "data", "341500", [Role.CATALOGUE_ADMIN]),
    # A department's own catalogue editor: 何事项 (政务服务管理) reviews what 林事项 drafts (four eyes).
    ("la-market-items", "林事项", "341500", "market", "341500", [Role.CATALOGUE_ADMIN]),
    ("ja-helper", "马帮办", "341502", "data", "341502109000", [Role.VILLAGE_HELPER]),
    ("la-admin", "钱管理", "341500", "data", "341500", [Role.SYSTEM_ADMIN]),
    # 金安区 公共场所卫生许可 runs in parallel: 卫健 leads, 住建 (消防) and 市场监管 review at once.
    ("ja-health-clerk", "许窗口", "341502", "health", "341502", [Role.WINDOW_CLERK]),
    ("ja-health-approver", "孙审查", "341502", "health", "341502", [Role.APPROVER]),
    ("ja-health-head", "陈主任", "341502", "health", "341502", [Role.DEPARTMENT_HEAD, Role.APPROVER]),
    ("ja-housing-approver", "赵消防", "341502", "housing", "341502", [Role.APPROVER]),
    ("ja-market-approver", "韩市监", "341502", "market", "341502", [Role.APPROVER]),
]


def totp_key(username: str) -> str:
    """Deterministic 20-byte TOTP key per demo account (hex, as django-otp stores it)."""
    return hashlib.sha1(f"tongban-demo-totp:{username}".encode()).hexdigest()


def totp_secret_base32(username: str) -> str:
    return base64.b32encode(bytes.fromhex(totp_key(username))).decode().rstrip("=")


def _person(phone: str, name: str, number: str, username: str) -> Person:
    user, _ = User.objects.get_or_create(username=username, defaults={"display_name": name})
    user.display_name = name
    user.set_password(CITIZEN_PASSWORD)
    user.save()
    person = Person.objects.filter(user=user).first() or Person(user=user)
    person.name = name
    person.set_phone(phone)
    person.set_id_number(number)
    person.level = RealNameLevel.L2
    person.verified_at = person.verified_at or timezone.now()
    person.verification_method = "人口库比对（演示）"
    person.save()
    return person


def load(stdout: TextIO | None = None) -> None:
    for _phone, name, number, _registered in PEOPLE:
        PopulationRecord.objects.update_or_create(
            id_index=blind_index(number, "resident-id"), defaults={"name": name}
        )
    for card, name, number in SS_CARDS:
        SocialSecurityCardRecord.objects.update_or_create(
            card_index=blind_index(card, "ss-card"),
            defaults={"name": name, "id_index": blind_index(number, "resident-id"), "is_valid": True},
        )
    citizen = _person(*PEOPLE[0][:3], username="demo-citizen")
    rep = _person(*PEOPLE[1][:3], username="demo-legal-rep")
    for ent_name, code, region_code in (
        (*ENTERPRISE, "341500"),
        (*ENTERPRISE_TO_ADD, "341502"),
    ):
        LegalEntityRecord.objects.update_or_create(
            credit_code=code,
            defaults={
                "name": ent_name,
                "legal_rep_name": rep.name,
                "legal_rep_id_index": rep.id_index,
                "region": Region.objects.get(code=region_code),
                "status": "active",
            },
        )
    enterprise, _ = Enterprise.objects.update_or_create(
        credit_code=ENTERPRISE[1],
        defaults={
            "name": ENTERPRISE[0],
            "legal_rep_name": rep.name,
            "legal_rep_id_index": rep.id_index,
            "region": Region.objects.get(code="341500"),
        },
    )
    agency = EnterpriseAgent.objects.filter(
        enterprise=enterprise, person=citizen, revoked_at__isnull=True
    ).first()
    if agency is None or not agency.is_current():
        EnterpriseAgent.objects.create(
            enterprise=enterprise,
            person=citizen,
            scopes=["apply", "view"],
            valid_until=timezone.now() + timedelta(days=365),
            granted_by=rep.user,
        )

    lines = []
    for username, name, region_code, key, serving, roles in STAFF:
        dept = department(region_code, key)
        region = Region.objects.get(code=serving)
        profile = services.create_staff(
            username=username,
            name=name,
            department=dept,
            region=region,
            roles=roles,
            password=STAFF_PASSWORD,
            title="演示账号",
        )
        if Role.SYSTEM_ADMIN in roles:
            User.objects.filter(pk=profile.user_id).update(is_staff=True, is_superuser=True)
        TOTPDevice.objects.update_or_create(
            user=profile.user, name="演示令牌", defaults={"key": totp_key(username), "confirmed": True}
        )
        role_names = "、".join(Role(r).label for r in roles)
        lines.append(
            f"  {username:<14} {name} · {dept.name}（{region.name}）· {role_names} · "
            f"TOTP 密钥 {totp_secret_base32(username)}"
        )

    Application = get_application_model()
    app = Application.objects.filter(client_id=OIDC_CLIENT_ID).first() or Application(
        client_id=OIDC_CLIENT_ID
    )
    app.name = "示范部门业务系统"
    app.client_type = Application.CLIENT_CONFIDENTIAL
    app.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    app.redirect_uris = OIDC_REDIRECT
    app.post_logout_redirect_uris = "http://localhost:8001/"
    app.algorithm = Application.RS256_ALGORITHM
    app.skip_authorization = True
    app.client_secret = OIDC_CLIENT_SECRET
    app.save()

    if stdout is not None:
        stdout.write(
            "统一身份认证演示账号（仅供演示，密码与动态口令密钥公开）：\n"
            f"  群众 {PEOPLE[0][1]}：手机 {PEOPLE[0][0]}，密码 {CITIZEN_PASSWORD}"
            f"（L2，{ENTERPRISE[0]} 经办人）\n"
            f"  法定代表人 {PEOPLE[1][1]}：手机 {PEOPLE[1][0]}，密码 {CITIZEN_PASSWORD}（{ENTERPRISE[0]}）\n"
            f"  可注册并通过 L2 核验的人口库演示居民：{PEOPLE[2][1]} {PEOPLE[2][2]}、"
            f"{PEOPLE[3][1]} {PEOPLE[3][2]}（社保卡 {SS_CARDS[0][0]}、{SS_CARDS[1][0]}）\n"
            f"  只在社保卡库、不在人口库的居民（注册后 L1，用社保卡 {SS_CARDS[2][0]} 核验到 L2）："
            f"{SS_ONLY_PERSON[1]} {SS_ONLY_PERSON[2]}\n"
            f"  法人库中尚未上平台的企业（陈建国可在个人中心自助添加）：{ENTERPRISE_TO_ADD[0]} "
            f"{ENTERPRISE_TO_ADD[1]}\n"
            f"  工作人员（/accounts/staff/login/，密码 {STAFF_PASSWORD}，"
            "第二步输入身份验证器上的 6 位动态口令）：\n"
            + "\n".join(lines)
            + f"\n  单点登录示范客户端：client_id {OIDC_CLIENT_ID}，client_secret {OIDC_CLIENT_SECRET}，"
            f"回调 {OIDC_REDIRECT}\n  开发环境短信发件箱：/accounts/dev/sms-outbox/\n"
        )
