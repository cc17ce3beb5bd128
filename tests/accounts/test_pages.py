"""Every identity page renders in Chinese for the people allowed to see it."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import verified_login
from tests.accounts.helpers import make_staff
from tests.core.factories import OrganisationFactory
from tongban.accounts.models import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/register/",
        "/accounts/login/",
        "/accounts/login/?tab=sms",
        "/accounts/password-reset/",
        "/accounts/staff/login/",
    ],
)
def test_public_pages(client, path):
    response = client.get(path)
    assert response.status_code == 200 and 'lang="zh' in response.content.decode()


def test_citizen_pages_and_face_l3_stand_in(client, citizen, settings):
    settings.DEBUG = True
    client.force_login(citizen.user, backend="tongban.accounts.backends.PhoneOrUsernameBackend")
    assert "人脸识别" in client.get("/accounts/me/face/").content.decode()
    assert client.get("/accounts/dev/sms-outbox/").status_code == 200
    response = client.post("/accounts/dev/face/", {"result": "pass"})
    page = client.get(response["Location"]).content.decode()
    token = page.split('name="face_token" value="')[1].split('"')[0]
    client.post("/accounts/me/level/", {"level": "3", "face_token": token})
    citizen.refresh_from_db()
    assert citizen.level == 3
    forged = client.post("/accounts/me/level/", {"level": "3", "face_token": token[:-2] + "xx"}, follow=True)
    assert "人脸识别未通过" in forged.content.decode()


def test_dev_pages_hidden_in_production_mode(client, citizen):
    client.force_login(citizen.user, backend="tongban.accounts.backends.PhoneOrUsernameBackend")
    assert client.get("/accounts/dev/sms-outbox/").status_code == 404
    assert client.get("/accounts/dev/face/").status_code == 404


def test_workbench_pages_for_system_admin(client):
    admin = make_staff(
        username="wb-admin", department=OrganisationFactory(), roles=[Role.SYSTEM_ADMIN, Role.VILLAGE_HELPER]
    )
    verified_login(client, admin)
    for path in (
        "/accounts/workbench/",
        "/accounts/workbench/staff/",
        "/accounts/workbench/clients/",
        "/accounts/workbench/delegations/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    assert "员工wb-admin" in client.get("/accounts/workbench/staff/?q=员工").content.decode()
