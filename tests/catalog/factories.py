"""Factories for catalogue tests: a small 安徽省 → 六安市 → 金安区/裕安区 tree with departments."""

from __future__ import annotations

import itertools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from tongban.catalog import services
from tongban.core.identifiers import credit_code_check_char
from tongban.core.models import Organisation, Region

_serial = itertools.count(1)


def credit_code(region_code: str) -> str:
    """A valid government-body credit code ("11" + region + 9-char id + check char)."""
    first17 = f"11{region_code[:6]}{next(_serial):08d}X"
    return first17 + credit_code_check_char(first17)


def region(code: str, name: str, level: int, parent: Region | None = None) -> Region:
    obj, _ = Region.objects.get_or_create(
        code=code, defaults={"name": name, "level": level, "parent": parent}
    )
    return obj


def liuan() -> dict[str, Region]:
    province = region("340000", "安徽省", 1)
    city = region("341500", "六安市", 2, province)
    return {
        "province": province,
        "city": city,
        "jinan": region("341502", "金安区", 3, city),
        "yuan": region("341503", "裕安区", 3, city),
    }


def department(reg: Region, short: str = "市场监管", name: str = "市场监督管理局") -> Organisation:
    org = Organisation.objects.filter(region=reg, short_name=short).first()
    return org or Organisation.objects.create(
        name=f"{reg.name}{name}", short_name=short, credit_code=credit_code(reg.code), region=reg
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True

    @factory.post_generation
    def perms(self, create, extracted, **kwargs):
        for codename in extracted or []:
            self.user_permissions.add(
                Permission.objects.get(codename=codename, content_type__app_label="catalog")
            )


EDITOR_PERMS = ["view_itemversion", "add_itemversion", "change_itemversion"]
REVIEWER_PERMS = ["view_itemversion", "review_itemversion", "publish_itemversion"]

COMPLETE_GUIDE = {
    "acceptance_conditions": "从事食品销售、餐饮服务的经营者，有与经营食品品种相适应的经营场所。",
    "handling_kind": "promised",
    "legal_limit_days": 20,
    "promised_limit_days": 5,
    "place": "六安市政务服务中心二楼综合窗口",
    "office_hours": "周一至周五 9:00-12:00，13:30-17:00（法定节假日除外）",
    "consult_phone": "0564-3379000",
    "complaint_phone": "12345",
    "result_name": "食品经营许可证",
    "visits": 1,
    "materials": [
        {"name": "食品经营许可申请书", "source": "applicant"},
        {"name": "营业执照", "source": "licence", "originals": 0},
        {"name": "授权委托书", "requirement": "situational", "applies_when": "agent=yes"},
        {"name": "受托人身份证", "requirement": "situational", "applies_when": "agent=yes", "is_key": False},
        {"name": "房屋租赁合同", "requirement": "situational", "applies_when": "premises=rented"},
    ],
    "situations": [
        {
            "key": "agent",
            "text": "是否委托他人办理",
            "options": [{"key": "no", "label": "本人办理"}, {"key": "yes", "label": "委托他人办理"}],
        },
        {
            "key": "premises",
            "text": "经营场所是否为自有房产",
            "options": [{"key": "own", "label": "自有房产"}, {"key": "rented", "label": "租赁房产"}],
        },
    ],
    "steps": [{"name": "受理", "days": 0}, {"name": "审查", "days": 3}, {"name": "决定", "days": 2}],
}


def basic_item(name: str = "食品经营许可", **kwargs):
    values = {
        "item_type": "01",
        "department_key": "market",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "service_objects": "1,2",
        "aliases": "开饭店 开餐馆",
    }
    values.update(kwargs)
    return services.create_basic_item(name=name, **values)


def published_item(
    org: Organisation | None = None, name: str = "食品经营许可", guide: dict | None = None, item=None
):
    org = org or department(liuan()["city"])
    item = item or basic_item(name)
    impl = services.create_implementation(item, org)
    version = impl.versions.get()
    services.update_draft(version, guide or COMPLETE_GUIDE)
    services.publish_directly(version)
    impl.refresh_from_db()
    return impl


DEPARTMENT_KEYS = {
    "market": ("市场监管", "市场监督管理局"),
    "police": ("公安", "公安局"),
    "hrss": ("人社", "人力资源和社会保障局"),
    "civil": ("民政", "民政局"),
    "health": ("卫健", "卫生健康委员会"),
    "resources": ("自然资源", "自然资源和规划局"),
    "housing": ("住建", "住房和城乡建设局"),
    "tax": ("税务", "税务局"),
    "fund": ("公积金", "住房公积金管理中心"),
    "transport": ("交通运输", "交通运输局"),
    "data": ("数据资源", "数据资源管理局"),
    "medicare": ("医保", "医疗保障局"),
    "disability": ("残联", "残疾人联合会"),
}


def demo_departments(region_codes=("341500", "341502")) -> None:
    """Departments as the reference-data helper's demo creates them (for the catalogue demo in tests)."""
    regions = liuan()
    by_code = {r.code: r for r in regions.values()}
    for code in region_codes:
        for short, name in DEPARTMENT_KEYS.values():
            department(by_code[code], short, name)


def login_staff(client, user) -> None:
    """Log a staff user in with a verified TOTP device, as the identity middleware requires."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="测试口令", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
