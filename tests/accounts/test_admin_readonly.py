"""The Django admin cannot change staff, users, role assignments or role groups: those changes
must go through the audited workbench services. The admin pages say where to go instead."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.accounts.conftest import verified_login
from tests.accounts.helpers import make_staff
from tests.core.factories import OrganisationFactory, region_chain
from tongban.accounts.models import Role, RoleAssignment
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(client):
    _p, _c, county = region_chain()
    dept = OrganisationFactory(region=county)
    other = OrganisationFactory(region=county)
    admin = make_staff(username="root", department=dept, roles=[Role.SYSTEM_ADMIN])
    admin.is_staff = admin.is_superuser = True
    admin.save()
    clerk = make_staff(username="clerk", department=dept, roles=[Role.WINDOW_CLERK])
    verified_login(client, admin)
    return {"admin": admin, "clerk": clerk, "other": other}


def test_staff_profile_admin_is_read_only_and_points_to_workbench(client, setup):
    profile = setup["clerk"].staff_profile
    url = f"/admin/accounts/staffprofile/{profile.pk}/change/"

    page = client.get(url).content.decode()
    assert "/accounts/workbench/staff/" in page and "审计" in page
    assert 'name="_save"' not in page
    response = client.post(
        url, {"name": "改名", "department": setup["other"].pk, "region": profile.region_id, "is_active": ""}
    )

    assert response.status_code == 403
    profile.refresh_from_db()
    assert profile.name != "改名" and profile.department != setup["other"] and profile.is_active
    assert client.get("/admin/accounts/staffprofile/add/").status_code == 403
    assert (
        client.post(f"/admin/accounts/staffprofile/{profile.pk}/delete/", {"post": "yes"}).status_code == 403
    )


def test_user_admin_cannot_grant_superuser_or_change_password(client, setup):
    clerk = setup["clerk"]
    response = client.post(
        f"/admin/accounts/user/{clerk.pk}/change/",
        {"username": clerk.username, "is_superuser": "on", "is_staff": "on", "is_active": "on"},
    )
    assert response.status_code == 403
    clerk.refresh_from_db()
    assert not clerk.is_superuser
    password = client.post(
        f"/admin/accounts/user/{clerk.pk}/password/",
        {"password1": "Xx-new-pass-99", "password2": "Xx-new-pass-99"},
    )
    assert password.status_code == 403
    clerk.refresh_from_db()
    assert clerk.check_password("Staff-pass-2024")


def test_role_assignments_and_role_groups_cannot_be_edited_in_admin(client, setup):
    clerk = setup["clerk"]
    assignment = RoleAssignment.objects.get(user=clerk, role=Role.WINDOW_CLERK)
    assert client.get("/admin/accounts/roleassignment/add/").status_code == 403
    assert (
        client.post(f"/admin/accounts/roleassignment/{assignment.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    group = Group.objects.get(name=Role.WINDOW_CLERK.label)
    assert (
        client.post(f"/admin/auth/group/{group.pk}/change/", {"name": "x", "permissions": []}).status_code
        == 403
    )
    assert RoleAssignment.objects.filter(pk=assignment.pk, revoked_at__isnull=True).exists()
    assert clerk.groups.filter(pk=group.pk).exists()
    # Lists remain readable for auditors.
    assert client.get("/admin/accounts/roleassignment/").status_code == 200
    assert not AuditEvent.objects.filter(action__startswith="accounts.staff_").exists()
