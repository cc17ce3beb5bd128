"""API: token authentication, registration through the API, masking, Chinese errors."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.accounts.helpers import resident_id
from tongban.accounts import services
from tongban.accounts.crypto import blind_index
from tongban.accounts.models import Enterprise, SmsMessage

pytestmark = pytest.mark.django_db


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_register_through_api_with_chinese_errors(client, population, next_phone):
    phone = next_phone()
    assert (
        client.post(
            "/api/accounts/sms-codes",
            {"phone": phone, "purpose": "register"},
            content_type="application/json",
        ).status_code
        == 202
    )
    again = client.post(
        "/api/accounts/sms-codes", {"phone": phone, "purpose": "register"}, content_type="application/json"
    )
    assert again.status_code == 422 and again.json()["code"] == "sms-too-frequent"
    code = re.search(r"验证码 (\d{6})", SmsMessage.objects.latest("id").text).group(1)
    bad = client.post(
        "/api/accounts/register",
        {
            "phone": phone,
            "code": code,
            "name": "李四",
            "id_number": "341502198001010000",
            "password": "Lisi-2024-pass",
        },
        content_type="application/json",
    )
    assert bad.status_code == 422 and "身份" in bad.json()["message"]
    ok = client.post(
        "/api/accounts/register",
        {
            "phone": phone,
            "code": code,
            "name": "李四",
            "id_number": resident_id(2),
            "password": "Lisi-2024-pass",
        },
        content_type="application/json",
    )
    assert ok.status_code == 201, ok.content
    body = ok.json()
    assert body["realname_level"] == 2 and body["id_number"] == "3415**********" + resident_id(2)[-4:]
    assert resident_id(2) not in ok.content.decode() and phone not in ok.content.decode()


def test_personal_access_token(client, citizen):
    raw = services.create_access_token(citizen.user, "对账脚本")
    response = client.get("/api/accounts/me", **bearer(raw))
    assert response.status_code == 200 and response.json()["name"] == "张*三"
    assert resident_id(1) not in response.content.decode()
    assert client.get("/api/accounts/me", **bearer("tbp_wrong")).status_code == 401
    assert client.get("/api/accounts/me").status_code == 401
    citizen.user.access_tokens.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/accounts/me", **bearer(raw)).status_code == 401


def test_enterprises_switch_and_agents_via_api(client, citizen, next_phone):
    enterprise = Enterprise.objects.create(
        name="张氏农业合作社",
        credit_code="93341500MA2N000003",
        legal_rep_name="张小三",
        legal_rep_id_index=blind_index(resident_id(1), "resident-id"),
    )
    from tests.accounts.helpers import make_citizen

    agent = make_citizen(name="孙经办", phone=next_phone(), id_number=resident_id(21), level=2)
    auth = bearer(services.create_access_token(citizen.user, "t"))
    assert client.get("/api/accounts/me/enterprises", **auth).json()[0]["role"] == "legal_representative"
    switched = client.post(
        "/api/accounts/me/identity", {"enterprise_id": enterprise.pk}, content_type="application/json", **auth
    )
    assert switched.json()["acting_for"]["credit_code"] == enterprise.credit_code
    until = (timezone.now() + timedelta(days=5)).isoformat()
    granted = client.post(
        f"/api/accounts/enterprises/{enterprise.pk}/agents",
        {"agent_phone": agent.phone, "scopes": ["view"], "valid_until": until},
        content_type="application/json",
        **auth,
    )
    assert granted.status_code == 201 and agent.phone not in granted.content.decode()
    agent_auth = bearer(services.create_access_token(agent.user, "t"))
    refused = client.get(f"/api/accounts/enterprises/{enterprise.pk}/agents", **agent_auth)
    assert refused.status_code == 422 and refused.json()["code"] == "not-legal-rep"
    wrong = client.post(
        "/api/accounts/me/identity",
        {"enterprise_id": enterprise.pk + 99},
        content_type="application/json",
        **agent_auth,
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "agent-not-authorised"


def test_admin_shows_personal_data_masked(client, citizen, django_user_model):
    from tests.core.factories import login_superuser

    login_superuser(client, django_user_model)
    page = client.get("/admin/accounts/person/").content.decode()
    assert "3415**********" in page and resident_id(1) not in page and citizen.phone not in page
    detail = client.get(f"/admin/accounts/person/{citizen.pk}/change/").content.decode()
    assert resident_id(1) not in detail and citizen.phone not in detail
