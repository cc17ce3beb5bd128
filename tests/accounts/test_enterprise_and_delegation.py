"""Enterprise agents (scope, expiry, revocation), identity switch, delegation consent, masking."""

from __future__ import annotations

import io
import logging
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.accounts.conftest import verified_login
from tests.accounts.helpers import make_citizen, make_staff, resident_id
from tests.core.factories import OrganisationFactory
from tongban.accounts import delegation, services
from tongban.accounts.crypto import blind_index
from tongban.accounts.models import Delegation, Enterprise, EnterpriseAgent, Role, SmsMessage
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(next_phone):
    return make_citizen(name="陈法人", phone=next_phone(), id_number=resident_id(11), level=2)


@pytest.fixture
def enterprise(rep):
    return Enterprise.objects.create(
        name="示例商贸有限公司",
        credit_code="91341500MA2N000002",
        legal_rep_name="陈法人",
        legal_rep_id_index=blind_index(resident_id(11), "resident-id"),
    )


@pytest.fixture
def agent(next_phone):
    return make_citizen(name="刘经办", phone=next_phone(), id_number=resident_id(12), level=2)


def test_legal_rep_is_recognised_only_at_l2(rep, enterprise):
    assert [r.enterprise for r in services.enterprises_for(rep)] == [enterprise]
    rep.level = 1
    assert services.enterprises_for(rep) == []


def test_agent_scope_expiry_and_revocation(rep, enterprise, agent):
    grant = services.grant_agent(
        legal_rep=rep,
        enterprise=enterprise,
        agent_phone=agent.phone,
        scopes=["apply", "view"],
        valid_until=timezone.now() + timedelta(days=30),
    )
    assert services.check_enterprise_permission(agent, enterprise, "apply")
    with pytest.raises(ValidationError) as exc:
        services.check_enterprise_permission(agent, enterprise, "pay")
    assert exc.value.code == "agent-scope" and "缴费" in exc.value.messages[0]
    EnterpriseAgent.objects.filter(pk=grant.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ValidationError) as exc:
        services.check_enterprise_permission(agent, enterprise, "apply")
    assert exc.value.code == "agent-expired" and "过期" in exc.value.messages[0]
    EnterpriseAgent.objects.filter(pk=grant.pk).update(valid_until=timezone.now() + timedelta(days=1))
    services.revoke_agent(legal_rep=rep, grant=EnterpriseAgent.objects.get(pk=grant.pk))
    with pytest.raises(ValidationError) as exc:
        services.check_enterprise_permission(agent, enterprise, "apply")
    assert exc.value.code == "agent-revoked"
    refusals = AuditEvent.objects.filter(action="accounts.enterprise_refused")
    assert refusals.count() == 3 and {e.data["code"] for e in refusals} == {
        "agent-scope",
        "agent-expired",
        "agent-revoked",
    }


def test_only_legal_rep_grants_and_agent_must_be_verified(rep, enterprise, agent, next_phone):
    with pytest.raises(ValidationError) as exc:
        services.grant_agent(
            legal_rep=agent,
            enterprise=enterprise,
            agent_phone=rep.phone,
            scopes=["apply"],
            valid_until=timezone.now() + timedelta(days=1),
        )
    assert exc.value.code == "not-legal-rep"
    weak = make_citizen(name="周一", phone=next_phone(), id_number=resident_id(13), level=1)
    with pytest.raises(ValidationError) as exc:
        services.grant_agent(
            legal_rep=rep,
            enterprise=enterprise,
            agent_phone=weak.phone,
            scopes=["apply"],
            valid_until=timezone.now() + timedelta(days=1),
        )
    assert exc.value.code == "agent-not-verified"
    assert not EnterpriseAgent.objects.exists()


def test_switch_identity_falls_back_when_authorisation_ends(client, rep, enterprise, agent):
    grant = services.grant_agent(
        legal_rep=rep,
        enterprise=enterprise,
        agent_phone=agent.phone,
        scopes=["apply"],
        valid_until=timezone.now() + timedelta(days=30),
    )
    client.force_login(agent.user, backend="tongban.accounts.backends.PhoneOrUsernameBackend")
    client.post("/accounts/me/switch/", {"enterprise": enterprise.pk})
    assert "当前办事身份：<strong>示例商贸有限公司" in client.get("/accounts/me/").content.decode()
    EnterpriseAgent.objects.filter(pk=grant.pk).update(revoked_at=timezone.now())
    agent.refresh_from_db()
    assert services.current_enterprise(agent) is None
    assert "当前办事身份：个人" in client.get("/accounts/me/").content.decode()


def test_agent_management_page_for_legal_rep(client, rep, enterprise, agent):
    client.force_login(rep.user, backend="tongban.accounts.backends.PhoneOrUsernameBackend")
    until = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = client.post(
        f"/accounts/enterprises/{enterprise.pk}/agents/",
        {"agent_phone": agent.phone, "scopes": ["apply", "pay"], "valid_until": until},
    )
    assert response.status_code == 302
    page = client.get(f"/accounts/enterprises/{enterprise.pk}/agents/").content.decode()
    assert "刘*办" in page and agent.phone not in page and "申请办事、缴费" in page


def last_code(phone):
    text = SmsMessage.objects.filter(phone_index=blind_index(phone, "mobile")).order_by("-id").first().text
    return re.search(r"验证码 (\d{6})", text).group(1)


@pytest.fixture
def helper():
    return make_staff(username="helper1", department=OrganisationFactory(), roles=[Role.VILLAGE_HELPER])


def test_delegation_by_sms_consent_records_both_people(client, helper, citizen, rf):
    verified_login(client, helper)
    until = (timezone.localdate() + timedelta(days=7)).isoformat()
    response = client.post(
        "/accounts/workbench/delegations/",
        {"citizen_phone": citizen.phone, "scopes": ["apply"], "valid_until": until, "method": "sms"},
    )
    d = Delegation.objects.get()
    assert response["Location"] == f"/accounts/workbench/delegations/{d.pk}/confirm/"
    assert "帮办代办员" in SmsMessage.objects.latest("id").text
    wrong = "000000" if last_code(citizen.phone) != "000000" else "111111"
    assert "验证码不正确" in client.post(response["Location"], {"token": wrong}).content.decode()
    client.post(response["Location"], {"token": last_code(citizen.phone)})
    d.refresh_from_db()
    assert d.is_current()
    client.post(f"/accounts/workbench/delegations/{d.pk}/act/")
    request = rf.get("/")
    request.user, request.session = helper, client.session
    assert delegation.acting_for(request) == d
    assert delegation.require_delegation(request, "apply") == d
    with pytest.raises(ValidationError) as exc:
        delegation.require_delegation(request, "collect")
    assert exc.value.code == "delegation-scope"
    event = delegation.record_delegated_event(request, "cases.apply", "代为提交申请")
    assert event.actor == helper and event.on_behalf_of == citizen.user
    Delegation.objects.filter(pk=d.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    assert delegation.acting_for(request) is None


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 300


def test_paper_consent_checks_content_type_and_size(helper, citizen):
    until = timezone.now() + timedelta(days=3)
    fake = SimpleUploadedFile("consent.png", b"MZ this is an exe" * 20, content_type="image/png")
    with pytest.raises(ValidationError) as exc:
        delegation.record_paper_consent(
            helper=helper, citizen=citizen, scopes=["apply"], valid_until=until, scan=fake
        )
    assert exc.value.code == "scan-type"
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * (10 * 1024 * 1024), content_type="image/png")
    with pytest.raises(ValidationError) as exc:
        delegation.record_paper_consent(
            helper=helper, citizen=citizen, scopes=["apply"], valid_until=until, scan=big
        )
    assert exc.value.code == "scan-too-large"
    assert not Delegation.objects.exists()
    ok = SimpleUploadedFile("anything.bin", PNG, content_type="application/octet-stream")
    d = delegation.record_paper_consent(
        helper=helper, citizen=citizen, scopes=["apply"], valid_until=until, scan=ok
    )
    assert d.is_current() and d.consent_file.name.endswith(".png")


def test_delegation_limits(helper, citizen, next_phone):
    with pytest.raises(ValidationError) as exc:
        delegation.request_sms_consent(
            helper=helper, citizen=citizen, scopes=["apply"], valid_until=timezone.now() + timedelta(days=40)
        )
    assert exc.value.code == "delegation-until-too-long"
    nobody = make_citizen(name="吴二", phone=next_phone(), id_number=resident_id(14))
    with pytest.raises(ValidationError) as exc:
        delegation.request_sms_consent(
            helper=nobody.user,
            citizen=citizen,
            scopes=["apply"],
            valid_until=timezone.now() + timedelta(days=1),
        )
    assert exc.value.code == "not-helper"


def test_logs_and_audit_never_carry_clear_personal_data(citizen, caplog, next_phone):
    from tongban.core.logging import MaskPersonalDataFilter

    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(MaskPersonalDataFilter())
    logging.getLogger("tongban").addHandler(handler)
    try:
        with caplog.at_level(logging.INFO):
            from tongban.accounts import smscodes

            phone = next_phone()
            smscodes.request_code(phone, smscodes.Purpose.LOGIN)
            logging.getLogger("tongban.accounts").info("lookup of %s", resident_id(1))
    finally:
        logging.getLogger("tongban").removeHandler(handler)
    written = handler.stream.getvalue()
    assert phone not in written and resident_id(1) not in written and "****" in written
    summaries = " ".join(AuditEvent.objects.values_list("summary", flat=True))
    assert resident_id(1) not in summaries and citizen.phone not in summaries
