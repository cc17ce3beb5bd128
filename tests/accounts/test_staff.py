"""Staff: TOTP required, first-login enrolment, role maintenance audited, client registration."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import get_application_model

from tests.accounts.conftest import verified_login
from tests.accounts.helpers import make_staff
from tests.core.factories import OrganisationFactory
from tongban.accounts.models import Role, RoleAssignment
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def dept():
    return OrganisationFactory()


def code_for(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_staff_login_requires_totp_and_enrols_on_first_login(client, dept):
    make_staff(username="clerk1", department=dept, roles=[Role.WINDOW_CLERK])
    response = client.post("/accounts/staff/login/", {"username": "clerk1", "password": "Staff-pass-2024"})
    assert response["Location"] == "/accounts/staff/otp/"
    # Password alone opens nothing: every page sends the member of staff back to the TOTP step.
    for path in ("/accounts/workbench/", "/accounts/me/", "/admin/"):
        assert client.get(path)["Location"] == "/accounts/staff/otp/"
    assert client.get("/api/accounts/me").status_code in (401, 403)
    page = client.get("/accounts/staff/otp/").content.decode()
    assert "绑定手机令牌" in page and 'src="data:image/svg+xml' in page
    device = TOTPDevice.objects.get(user__username="clerk1", confirmed=False)
    wrong = client.post(
        "/accounts/staff/otp/", {"token": "000000" if code_for(device) != "000000" else "111111"}
    )
    assert "动态口令不正确" in wrong.content.decode()
    # django-otp throttles after a failure (1 s, doubling); a person would simply wait a moment.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    response = client.post("/accounts/staff/otp/", {"token": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/accounts/workbench/").status_code == 200
    assert AuditEvent.objects.filter(action="accounts.totp_enrol").exists()


def test_staff_using_the_citizen_login_is_also_sent_to_totp(client, dept):
    make_staff(username="clerk2", department=dept, roles=[Role.WINDOW_CLERK])
    response = client.post(
        "/accounts/login/", {"tab": "password", "username": "clerk2", "password": "Staff-pass-2024"}
    )
    assert response["Location"] == "/accounts/staff/otp/"
    assert client.get("/accounts/workbench/")["Location"] == "/accounts/staff/otp/"


def test_citizen_cannot_open_workbench(client, citizen):
    client.force_login(citizen.user, backend="tongban.accounts.backends.PhoneOrUsernameBackend")
    assert client.get("/accounts/workbench/").status_code == 403


def test_role_assignment_by_system_admin_is_audited(client, dept):
    admin = make_staff(username="admin1", department=dept, roles=[Role.SYSTEM_ADMIN])
    clerk = make_staff(username="clerk3", department=dept, roles=[Role.WINDOW_CLERK])
    verified_login(client, admin)
    profile = clerk.staff_profile
    response = client.post(
        f"/accounts/workbench/staff/{profile.pk}/",
        {"role": Role.APPROVER, "reason": "六政办〔2025〕1号", "action": "grant"},
    )
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(user=clerk, role=Role.APPROVER, revoked_at__isnull=True).exists()
    assert clerk.groups.filter(name="审批人员").exists()
    event = AuditEvent.objects.get(action="accounts.role_grant", actor=admin)
    assert event.data["role"] == Role.APPROVER and event.data["reason"] == "六政办〔2025〕1号"
    client.post(
        f"/accounts/workbench/staff/{profile.pk}/",
        {"role": Role.APPROVER, "reason": "调岗", "action": "revoke"},
    )
    assignment = RoleAssignment.objects.get(user=clerk, role=Role.APPROVER)
    assert assignment.revoked_at is not None and assignment.revoked_by == admin
    assert (
        not clerk.groups.filter(name="审批人员").exists() and Group.objects.filter(name="审批人员").exists()
    )
    assert AuditEvent.objects.filter(action="accounts.role_revoke", actor=admin).exists()
    page = client.get(f"/accounts/workbench/staff/{profile.pk}/").content.decode()
    assert "角色变更记录" in page and "调岗" in page


def test_non_admin_cannot_change_roles(client, dept):
    clerk = make_staff(username="clerk4", department=dept, roles=[Role.WINDOW_CLERK])
    verified_login(client, clerk)
    assert client.get("/accounts/workbench/staff/").status_code == 403
    from django.core.exceptions import ValidationError

    from tongban.accounts import services

    with pytest.raises(ValidationError) as exc:
        services.assign_role(actor=clerk, user=clerk, role=Role.SYSTEM_ADMIN)
    assert exc.value.code == "not-system-admin"
    assert not RoleAssignment.objects.filter(user=clerk, role=Role.SYSTEM_ADMIN).exists()


def test_admin_registers_department_system_as_oidc_client(client, dept):
    admin = make_staff(username="admin2", department=dept, roles=[Role.SYSTEM_ADMIN])
    verified_login(client, admin)
    response = client.post(
        "/accounts/workbench/clients/",
        {"name": "公积金业务系统", "redirect_uris": "https://gjj.example.cn/oidc/callback"},
    )
    body = response.content.decode()
    app = get_application_model().objects.get(name="公积金业务系统")
    assert app.client_id in body and "只显示这一次" in body
    assert app.algorithm == "RS256"
    assert AuditEvent.objects.filter(action="accounts.oidc_client_create").exists()
