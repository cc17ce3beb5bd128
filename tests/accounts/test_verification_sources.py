"""Verification by social-security card (L2) and enterprise self-service by credit code."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from tests.accounts.helpers import make_citizen, resident_id
from tests.core.factories import credit_code_for, region_chain
from tongban.accounts import demo, services, verification
from tongban.accounts.crypto import blind_index
from tongban.accounts.models import Enterprise, LegalEntityRecord, RealNameLevel, SocialSecurityCardRecord
from tongban.core import demo as core_demo
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db
LOGIN_BACKEND = "tongban.accounts.backends.PhoneOrUsernameBackend"


@pytest.fixture
def l1_person():
    person = make_citizen(name="周桂兰", phone="13966660001", id_number=resident_id(31), level=1)
    SocialSecurityCardRecord.objects.create(
        card_index=blind_index("LA0034567", "ss-card"), name="周桂兰", id_index=person.id_index
    )
    return person


def test_social_security_card_raises_to_l2(client, l1_person):
    client.force_login(l1_person.user, backend=LOGIN_BACKEND)
    page = client.get("/accounts/me/").content.decode()
    assert "社会保障卡核验（L2）" in page

    response = client.post("/accounts/me/level/ss-card/", {"card_number": " la003 4567 "}, follow=True)

    l1_person.refresh_from_db()
    assert l1_person.level == RealNameLevel.L2 and l1_person.verification_method == "社会保障卡核验"
    assert "社会保障卡核验通过" in response.content.decode()
    assert AuditEvent.objects.filter(action="accounts.realname_l2", actor=l1_person.user).exists()


@pytest.mark.parametrize(
    ("card", "code"),
    [("LA0099999", "ss-card-mismatch"), ("短", "ss-card-invalid"), ("LA-00", "ss-card-invalid")],
)
def test_social_security_card_mismatch_changes_nothing(l1_person, card, code):
    with pytest.raises(ValidationError) as excinfo:
        verification.raise_to_l2_by_social_security_card(l1_person, card)
    assert excinfo.value.code == code
    l1_person.refresh_from_db()
    assert l1_person.level == RealNameLevel.L1


def test_card_of_someone_else_or_reported_lost_does_not_verify(l1_person):
    other = make_citizen(name="周桂兰", phone="13966660002", id_number=resident_id(32), level=1)
    with pytest.raises(ValidationError, match="社会保障卡卡号与您的姓名、身份证号码不一致"):
        verification.raise_to_l2_by_social_security_card(other, "LA0034567")  # same name, other ID
    SocialSecurityCardRecord.objects.update(is_valid=False)
    with pytest.raises(ValidationError, match="挂失"):
        verification.raise_to_l2_by_social_security_card(l1_person, "LA0034567")
    assert AuditEvent.objects.filter(action="accounts.realname_failed").count() == 2


@pytest.fixture
def registry():
    _p, city, _county = region_chain()
    rep = make_citizen(name="陈建国", phone="13966660010", id_number=resident_id(40), level=2)
    code = credit_code_for(city, 777, prefix="91")
    LegalEntityRecord.objects.create(
        credit_code=code,
        name="六安市大别山山货商贸有限公司",
        legal_rep_name="陈建国",
        legal_rep_id_index=rep.id_index,
        region=city,
    )
    return {"rep": rep, "code": code, "city": city}


def test_legal_rep_adds_enterprise_from_personal_centre(client, registry):
    rep = registry["rep"]
    client.force_login(rep.user, backend=LOGIN_BACKEND)
    assert "/accounts/me/enterprises/add/" in client.get("/accounts/me/").content.decode()

    response = client.post(
        "/accounts/me/enterprises/add/",
        {"credit_code": registry["code"], "name": "六安市大别山山货商贸有限公司", "legal_rep_name": "陈建国"},
    )

    assert response.status_code == 302
    enterprise = Enterprise.objects.get(credit_code=registry["code"])
    assert enterprise.region == registry["city"]
    assert [r.enterprise for r in services.enterprises_for(rep)] == [enterprise]
    assert services.enterprises_for(rep)[0].is_legal_rep
    assert AuditEvent.objects.filter(action="accounts.enterprise_add", actor=rep.user).exists()
    again = client.post(
        "/accounts/me/enterprises/add/",
        {"credit_code": registry["code"], "name": "六安市大别山山货商贸有限公司", "legal_rep_name": "陈建国"},
    )
    assert "已关联到您的账号" in again.content.decode()
    assert Enterprise.objects.count() == 1


@pytest.mark.parametrize(
    ("over", "code", "message"),
    [
        ({"name": "六安市大别山商贸有限公司"}, "enterprise-name-mismatch", "企业名称与法人库登记不一致"),
        ({"legal_rep_name": "陈建华"}, "enterprise-rep-name-mismatch", "法定代表人姓名与法人库登记不一致"),
        ({"credit_code": "unknown"}, "enterprise-not-found", "法人库中没有该统一社会信用代码"),
    ],
)
def test_enterprise_mismatches_are_refused_and_create_nothing(registry, over, code, message):
    data = {
        "credit_code": registry["code"],
        "name": "六安市大别山山货商贸有限公司",
        "legal_rep_name": "陈建国",
    }
    if over.get("credit_code") == "unknown":
        over = {"credit_code": credit_code_for(registry["city"], 778, prefix="91")}
    data.update(over)
    with pytest.raises(ValidationError) as excinfo:
        verification.add_enterprise_as_legal_rep(registry["rep"], **data)
    assert excinfo.value.code == code and message in excinfo.value.messages[0]
    assert not Enterprise.objects.exists()
    assert AuditEvent.objects.get(action="accounts.enterprise_verify_failed").data["code"] == code


def test_someone_else_with_the_reps_name_cannot_add_it(registry):
    namesake = make_citizen(name="陈建国", phone="13966660011", id_number=resident_id(41), level=2)
    with pytest.raises(ValidationError, match="您不是该企业登记的法定代表人"):
        verification.add_enterprise_as_legal_rep(
            namesake,
            credit_code=registry["code"],
            name="六安市大别山山货商贸有限公司",
            legal_rep_name="陈建国",
        )
    assert not Enterprise.objects.exists()


def test_unverified_person_and_bad_code_and_dissolved_enterprise(registry):
    rep = registry["rep"]
    data = {
        "credit_code": registry["code"],
        "name": "六安市大别山山货商贸有限公司",
        "legal_rep_name": "陈建国",
    }
    LegalEntityRecord.objects.update(status="cancelled")
    with pytest.raises(ValidationError, match="已注销或被吊销"):
        verification.add_enterprise_as_legal_rep(rep, **data)
    with pytest.raises(ValidationError):
        verification.add_enterprise_as_legal_rep(rep, **{**data, "credit_code": "91341500MA2N0C8X1Z"})
    rep.level = RealNameLevel.L1
    with pytest.raises(ValidationError, match="请先完成身份信息核验"):
        verification.add_enterprise_as_legal_rep(rep, **data)
    assert not Enterprise.objects.exists()


def test_demo_seeds_card_and_registry_records():
    core_demo.load(None)
    out = io.StringIO()
    demo.load(out)
    demo.load(io.StringIO())
    assert SocialSecurityCardRecord.objects.count() == len(demo.SS_CARDS)
    assert LegalEntityRecord.objects.count() == 2
    rep = Enterprise.objects.get().agents.first().granted_by.person
    enterprise = verification.add_enterprise_as_legal_rep(
        rep, credit_code=demo.ENTERPRISE_TO_ADD[1], name=demo.ENTERPRISE_TO_ADD[0], legal_rep_name=rep.name
    )
    assert enterprise.region.code == "341502"
    assert demo.ENTERPRISE_TO_ADD[1] in out.getvalue()
