"""A staff request reads its user's staff flag, scope and permissions from the cache, and any
change to them takes effect on the very next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.accounts.helpers import make_staff
from tests.catalog.factories import login_staff
from tests.core.factories import CityFactory, OrganisationFactory
from tongban.accounts import services, staffing
from tongban.accounts.models import Role

pytestmark = pytest.mark.django_db

IDENTITY_TABLES = (
    "accounts_staffprofile",
    "accounts_roleassignment",
    "auth_permission",
    "django_session",
    "otp_totp_totpdevice",
)


@pytest.fixture
def department():
    return OrganisationFactory(region=CityFactory(), name="测试市场监管局")


@pytest.fixture
def admin(department):
    return make_staff(username="id-admin", department=department, roles=(Role.SYSTEM_ADMIN,))


@pytest.fixture
def clerk(department):
    return make_staff(username="id-clerk", department=department, roles=(Role.WINDOW_CLERK,))


@pytest.fixture
def browser(clerk) -> Client:
    client = Client()
    login_staff(client, clerk)
    assert client.get("/api/cases/queue").status_code == 200  # the first request fills the cache
    return client


def _tables_read(client: Client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return [t for t in IDENTITY_TABLES if any(t in q["sql"] for q in ctx.captured_queries)]


def test_a_repeat_request_asks_the_database_nothing_about_its_user(browser):
    assert _tables_read(browser, "/api/cases/queue") == []


def test_a_revoked_role_is_refused_on_the_next_request(browser, admin, clerk):
    services.revoke_role(actor=admin, user=clerk, role=Role.WINDOW_CLERK, reason="调岗")
    refused = browser.get("/api/cases/queue")
    assert refused.status_code == 403 and "权限" in refused.json()["message"]


def test_a_removed_group_permission_is_refused_on_the_next_request(browser, clerk):
    accept = Permission.objects.get(codename="accept_application")
    for group in clerk.groups.all():
        group.permissions.remove(accept)
    assert browser.get("/api/cases/queue").status_code == 403


def test_a_granted_role_counts_on_the_next_request(department, admin):
    helper = make_staff(username="id-helper", department=department, roles=(Role.HOTLINE_AGENT,))
    client = Client()
    login_staff(client, helper)
    assert client.get("/api/cases/queue").status_code == 403
    services.assign_role(actor=admin, user=helper, role=Role.WINDOW_CLERK, reason="窗口补岗")
    assert client.get("/api/cases/queue").status_code == 200


def test_a_deactivated_account_loses_its_session_and_scope(browser, admin, clerk):
    staffing.set_staff_active(actor=admin, profile=clerk.staff_profile, active=False, reason="离职")
    assert browser.get("/api/cases/queue").status_code in (401, 403)


def test_a_removed_two_factor_device_stops_verifying_the_session(browser, clerk):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=clerk).delete()  # an administrator resets the clerk's 2FA
    refused = browser.get("/api/cases/queue")
    assert refused.status_code == 403 and refused.json()["code"] == "otp-required"


def test_an_unconfirmed_device_stops_verifying_the_session(browser, clerk):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for device in TOTPDevice.objects.filter(user=clerk):
        device.confirmed = False
        device.save()
    assert browser.get("/api/cases/queue").json()["code"] == "otp-required"


def test_the_cached_device_carries_no_totp_secret(browser, clerk):
    from django.core.cache import cache

    from tongban.accounts.identity import _device_key

    (device,) = clerk.totpdevice_set.all()
    cached = cache.get(_device_key(device.persistent_id))
    assert cached is not None and cached.pk == device.pk and cached.key == "" and device.key
