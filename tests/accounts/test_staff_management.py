"""Staff management in the workbench: create, edit, deactivate, reset TOTP / password — all by
system administrators, each audited, nothing half-written on a refusal."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.conftest import verified_login
from tests.accounts.helpers import make_staff
from tests.core.factories import CountyFactory, OrganisationFactory, TownFactory, region_chain
from tongban.accounts import staffing
from tongban.accounts.models import Role, RoleAssignment, StaffProfile
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def world():
    _province, city, county = region_chain()
    town = TownFactory(parent=county)
    other_county = CountyFactory(parent=city)
    city_dept = OrganisationFactory(region=city)
    county_dept = OrganisationFactory(region=county)
    admin = make_staff(username="sysadmin", department=city_dept, roles=[Role.SYSTEM_ADMIN])
    return {
        "city": city,
        "county": county,
        "town": town,
        "other_county": other_county,
        "city_dept": city_dept,
        "county_dept": county_dept,
        "admin": admin,
    }


def create_payload(world, **over):
    data = {
        "name": "刘新人",
        "username": "la-liu",
        "phone": "13912345678",
        "department": world["county_dept"].pk,
        "region": world["town"].pk,
        "title": "科员",
        "roles": [Role.WINDOW_CLERK, Role.APPROVER],
    }
    data.update(over)
    return data


def test_admin_creates_staff_account_and_sees_one_time_password_once(client, world):
    verified_login(client, world["admin"])
    listing = client.get("/accounts/workbench/staff/").content.decode()
    assert "/accounts/workbench/staff/new/" in listing

    response = client.post("/accounts/workbench/staff/new/", create_payload(world))

    assert response.status_code == 200
    page = response.content.decode()
    assert "只显示这一次" in page
    profile = StaffProfile.objects.get(user__username="la-liu")
    assert profile.region == world["town"] and profile.department == world["county_dept"]
    assert profile.phone == "13912345678"
    assert profile.roles == {Role.WINDOW_CLERK, Role.APPROVER}
    password = page.split("<code>")[1].split("</code>")[0]
    assert profile.user.check_password(password)
    event = AuditEvent.objects.get(action="accounts.staff_create")
    assert event.actor == world["admin"] and event.data["roles"] == [Role.APPROVER, Role.WINDOW_CLERK]
    # The password is not kept anywhere: reloading the page does not show it again.
    assert "只显示这一次" not in client.get(f"/accounts/workbench/staff/{profile.pk}/").content.decode()


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"region": "other_county"}, "服务区划必须是所在部门的区划"),
        ({"region": "city"}, "服务区划必须是所在部门的区划"),
        ({"username": "sysadmin"}, "该账号已被使用"),
        ({"username": "刘"}, "账号须为 3–30 位"),
        ({"phone": "12345"}, "手机"),
    ],
)
def test_create_refusals_are_chinese_and_write_nothing(client, world, over, message):
    verified_login(client, world["admin"])
    if over.get("region") in ("other_county", "city"):
        over = {"region": world[over["region"]].pk}
    users_before = User.objects.count()

    response = client.post("/accounts/workbench/staff/new/", create_payload(world, **over))

    assert message in response.content.decode()
    assert User.objects.count() == users_before
    assert not AuditEvent.objects.filter(action="accounts.staff_create").exists()
    assert not RoleAssignment.objects.filter(user__username="la-liu").exists()


def test_only_system_admins_manage_staff(client, world):
    clerk = make_staff(username="clerk", department=world["county_dept"], roles=[Role.WINDOW_CLERK])
    verified_login(client, clerk)
    assert client.get("/accounts/workbench/staff/new/").status_code == 403
    profile = clerk.staff_profile
    assert (
        client.post(
            f"/accounts/workbench/staff/{profile.pk}/account/", {"action": "reset_password"}
        ).status_code
        == 403
    )
    with pytest.raises(Exception, match="只有系统管理员"):
        staffing.reset_staff_password(actor=clerk, profile=profile)


def test_unverified_admin_session_is_sent_to_totp(client, world):
    client.force_login(world["admin"], backend="tongban.accounts.backends.PhoneOrUsernameBackend")
    assert client.get("/accounts/workbench/staff/new/")["Location"] == "/accounts/staff/otp/"


def test_edit_department_region_title_is_audited_and_checked(client, world):
    clerk = make_staff(username="clerk", department=world["county_dept"], roles=[Role.WINDOW_CLERK])
    profile = clerk.staff_profile
    verified_login(client, world["admin"])
    url = f"/accounts/workbench/staff/{profile.pk}/edit/"

    refused = client.post(
        url, {"department": world["county_dept"].pk, "region": world["city"].pk, "title": "x"}
    )
    assert refused.status_code == 422 and "服务区划必须是所在部门的区划" in refused.content.decode()
    profile.refresh_from_db()
    assert profile.region == world["county"] and profile.title == ""

    ok = client.post(
        url, {"department": world["county_dept"].pk, "region": world["town"].pk, "title": "副主任"}
    )
    assert ok.status_code == 302
    profile.refresh_from_db()
    assert (profile.region, profile.title) == (world["town"], "副主任")
    event = AuditEvent.objects.get(action="accounts.staff_update")
    assert event.data["before"]["region"] == world["county"].code
    assert event.data["after"]["region"] == world["town"].code


def test_deactivate_ends_sessions_and_blocks_login_then_reactivate(client, world):
    from django.test import Client

    clerk = make_staff(username="clerk", department=world["county_dept"], roles=[Role.WINDOW_CLERK])
    clerk_client = Client()
    verified_login(clerk_client, clerk)
    assert clerk_client.get("/accounts/workbench/").status_code == 200
    verified_login(client, world["admin"])
    url = f"/accounts/workbench/staff/{clerk.staff_profile.pk}/account/"

    assert client.post(url, {"action": "deactivate"}).status_code == 302

    clerk.refresh_from_db()
    assert not clerk.is_active and not clerk.staff_profile.is_active
    assert clerk_client.get("/accounts/workbench/").status_code in (302, 403)
    login = Client().post("/accounts/staff/login/", {"username": "clerk", "password": "Staff-pass-2024"})
    assert login.status_code == 200 and "账号或密码不正确" in login.content.decode()
    assert AuditEvent.objects.filter(action="accounts.staff_deactivate", actor=world["admin"]).exists()

    client.post(url, {"action": "reactivate"})
    clerk.refresh_from_db()
    assert clerk.is_active and clerk.staff_profile.is_active
    assert AuditEvent.objects.filter(action="accounts.staff_reactivate").exists()


def test_admin_cannot_deactivate_themself(client, world):
    verified_login(client, world["admin"])
    response = client.post(
        f"/accounts/workbench/staff/{world['admin'].staff_profile.pk}/account/",
        {"action": "deactivate"},
        follow=True,
    )
    assert "不能停用自己的账号" in response.content.decode()
    world["admin"].refresh_from_db()
    assert world["admin"].is_active


def test_reset_totp_forces_enrolment_at_next_login(client, world):
    from django.test import Client

    clerk = make_staff(username="clerk", department=world["county_dept"], roles=[Role.WINDOW_CLERK])
    verified_login(Client(), clerk)  # creates a confirmed device
    assert TOTPDevice.objects.filter(user=clerk, confirmed=True).exists()
    verified_login(client, world["admin"])

    client.post(f"/accounts/workbench/staff/{clerk.staff_profile.pk}/account/", {"action": "reset_totp"})

    assert not TOTPDevice.objects.filter(user=clerk).exists()
    fresh = Client()
    fresh.post("/accounts/staff/login/", {"username": "clerk", "password": "Staff-pass-2024"})
    assert "绑定手机令牌" in fresh.get("/accounts/staff/otp/").content.decode()
    assert AuditEvent.objects.get(action="accounts.staff_totp_reset").data["devices_removed"] == 1


def test_reset_password_shows_new_one_time_password(client, world):
    from django.test import Client

    clerk = make_staff(username="clerk", department=world["county_dept"], roles=[Role.WINDOW_CLERK])
    verified_login(client, world["admin"])

    response = client.post(
        f"/accounts/workbench/staff/{clerk.staff_profile.pk}/account/", {"action": "reset_password"}
    )

    page = response.content.decode()
    password = page.split("<code>")[1].split("</code>")[0]
    clerk.refresh_from_db()
    assert clerk.check_password(password) and not clerk.check_password("Staff-pass-2024")
    login = Client().post("/accounts/staff/login/", {"username": "clerk", "password": password})
    assert login["Location"] == "/accounts/staff/otp/"
    event = AuditEvent.objects.get(action="accounts.staff_password_reset")
    assert password not in str(event.data) and password not in event.summary
