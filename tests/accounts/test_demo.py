"""Demo identities load twice without duplicates and the printed staff secrets work."""

from __future__ import annotations

import io

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tongban.accounts import demo
from tongban.accounts.models import Enterprise, Person, RoleAssignment, StaffProfile
from tongban.accounts.scope import scope_for
from tongban.core import demo as core_demo

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_staff_can_log_in_with_totp(client):
    core_demo.load(None)
    out = io.StringIO()
    demo.load(out)
    demo.load(io.StringIO())
    assert Person.objects.count() == 2 and Enterprise.objects.count() == 1
    assert StaffProfile.objects.count() == len(demo.STAFF)
    assert RoleAssignment.objects.filter(revoked_at__isnull=True).count() == sum(
        len(s[5]) for s in demo.STAFF
    )
    text = out.getvalue()
    assert "la-clerk" in text and demo.totp_secret_base32("la-clerk") in text
    assert demo.PEOPLE[0][2] not in text  # registered people's ID numbers are not printed
    response = client.post(
        "/accounts/staff/login/", {"username": "la-approver", "password": demo.STAFF_PASSWORD}
    )
    assert response["Location"] == "/accounts/staff/otp/"
    device = TOTPDevice.objects.get(user__username="la-approver")
    code = f"{totp(bytes.fromhex(demo.totp_key('la-approver'))):06d}"
    assert client.post("/accounts/staff/otp/", {"token": code}).status_code == 302
    assert device.user.staff_profile.department.name == "六安市市场监督管理局"
    assert "六安市市场监督管理局" in client.get("/accounts/workbench/").content.decode()
    helper = StaffProfile.objects.get(user__username="ja-helper")
    assert helper.region.name == "三十铺镇" and scope_for(helper.user).region_path.endswith("341502109000/")
