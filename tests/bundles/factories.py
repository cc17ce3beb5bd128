"""Builders for the bundle tests: a three-item bundle in 六安市 across three departments."""

from __future__ import annotations

import copy

from django.db import transaction

from tests.cases import factories as cf
from tests.catalog.factories import department, liuan, published_item
from tongban.bundles.models import Bundle, BundleItem
from tongban.cases.hooks import application_completed
from tongban.cases.models import Application, Decision, Status
from tongban.catalog.demo import load_reference_data

AGENT = {
    "key": "agent",
    "text": "是否委托他人办理",
    "options": [{"key": "no", "label": "本人办理"}, {"key": "yes", "label": "委托他人办理"}],
}


def _guide(result: str, materials: list[dict], *, fields: str = "applicant", spot: bool = False) -> dict:
    guide = copy.deepcopy(cf.COMPLETE_GUIDE)
    guide.update(
        {
            "result_name": result,
            "form_field_sets": fields,
            "materials": materials,
            "situations": [AGENT],
            "online_depth": 4,
            "visits": 0,
        }
    )
    if spot:
        guide.update({"handling_kind": "spot", "promised_limit_days": 0})
    return guide


def bundle(*, optional_third: bool = True) -> Bundle:
    """设立 (市场监管) + 涉税 (税务) + 公积金 (公积金, optional).

    营业执照 comes from the licence library for all; 法定代表人身份证明 is shared by 税务 and
    公积金; 授权委托书 by all three when an agent applies."""
    load_reference_data()
    city = liuan()["city"]
    market = department(city)
    tax = department(city, "税务", "税务局")
    fund = department(city, "公积金", "住房公积金管理中心")
    a = published_item(
        market,
        name="企业设立登记",
        guide=_guide(
            "营业执照",
            [
                {"name": "公司登记（备案）申请书", "source": "applicant"},
                {"name": "营业执照", "source": "licence", "originals": 0},
                {"name": "授权委托书", "requirement": "situational", "applies_when": "agent=yes"},
            ],
            fields="applicant enterprise",
        ),
    )
    b = published_item(
        tax,
        name="新办纳税人涉税信息确认",
        guide=_guide(
            "涉税信息确认结果",
            [
                {"name": "法定代表人身份证明", "source": "applicant"},
                {"name": "营业执照", "source": "licence", "originals": 0},
                {"name": "授权委托书", "requirement": "situational", "applies_when": "agent=yes"},
            ],
            spot=True,
        ),
    )
    c = published_item(
        fund,
        name="单位住房公积金缴存登记",
        guide=_guide(
            "住房公积金缴存登记信息",
            [
                {"name": "法定代表人身份证明", "source": "applicant"},
                {"name": "单位住房公积金缴存登记表", "source": "applicant", "is_key": False},
                {"name": "授权委托书", "requirement": "situational", "applies_when": "agent=yes"},
            ],
        ),
    )
    bundle = Bundle.objects.create(
        code="qiye-kaiban-test",
        name="企业开办",
        region=city,
        enterprise_stage="start",
        description="测试用企业开办一件事",
        lead_department=market,
    )
    BundleItem.objects.create(bundle=bundle, implementation=a, order=1)
    BundleItem.objects.create(bundle=bundle, implementation=b, order=2)
    BundleItem.objects.create(
        bundle=bundle, implementation=c, order=3, optional=optional_third, option_label="需要开立公积金账户"
    )
    return bundle


ENTERPRISE_FORM = {
    "enterprise_name": "六安测试茶业有限公司",
    "enterprise_credit_code": "91341500MA2N0C8X1U",
    "legal_representative": "张小三",
}


def complete(app: Application, *, refused: bool = False) -> Application:
    """Stand-in for the back office finishing a child: 办结 and the completion signal, in one
    transaction (as workflow.services._finish does)."""
    with transaction.atomic():
        Application.objects.filter(pk=app.pk).update(
            status=Status.COMPLETED, decision=Decision.REFUSED if refused else Decision.APPROVED
        )
        app.refresh_from_db()
        application_completed.send(sender=Application, application=app)
    return app
