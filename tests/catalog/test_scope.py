import json

import pytest
from django.urls import reverse

from tests.catalog import factories
from tongban.accounts.models import Role, RoleAssignment, StaffProfile
from tongban.catalog.scope import can_manage_organisation, manageable
from tongban.core.models import Organisation

pytestmark = pytest.mark.django_db


def staff(department, role=Role.CATALOGUE_ADMIN, perms=factories.EDITOR_PERMS):
    user = factories.UserFactory(perms=[*perms, "add_itemversion"])
    StaffProfile.objects.create(user=user, name="测试", department=department, region=department.region)
    RoleAssignment.objects.create(user=user, role=role)
    return user


@pytest.fixture
def setting():
    regions = factories.liuan()
    jinan_market = factories.department(regions["jinan"])
    jinan_police = factories.department(regions["jinan"], "公安", "公安局")
    centre = factories.department(regions["city"], "数据资源", "数据资源管理局")
    Organisation.objects.filter(pk=centre.pk).update(kind=Organisation.Kind.SERVICE_CENTRE)
    centre.refresh_from_db()
    food = factories.published_item(jinan_market)
    birth = factories.published_item(
        jinan_police,
        name="出生登记",
        item=factories.basic_item("出生登记", item_type="07", department_key="police", aliases=""),
    )
    return {"market": jinan_market, "police": jinan_police, "centre": centre, "food": food, "birth": birth}


def test_department_staff_manage_only_their_department(client, setting):
    user = staff(setting["market"])
    assert list(manageable(user)) == [setting["food"]]
    assert can_manage_organisation(user, setting["market"]) and not can_manage_organisation(
        user, setting["police"]
    )
    factories.login_staff(client, user)
    assert client.get(reverse("catalog:manage-item", args=[setting["birth"].code])).status_code == 404
    assert client.get(reverse("catalog:manage-item", args=[setting["food"].code])).status_code == 200
    listing = client.get(reverse("catalog:manage")).content.decode()
    assert "食品经营许可" in listing and "出生登记" not in listing
    response = client.post(
        f"/api/catalog/manage/items/{setting['birth'].code}/drafts", "{}", content_type="application/json"
    )
    assert response.status_code == 404
    created = client.post(
        "/api/catalog/manage/items",
        json.dumps(
            {
                "basic_code": setting["birth"].basic_item.code,
                "organisation_credit_code": setting["police"].credit_code,
            }
        ),
        content_type="application/json",
    )
    assert created.status_code == 403


def test_service_centre_staff_manage_the_whole_region(setting):
    user = staff(setting["centre"], perms=factories.REVIEWER_PERMS)
    assert set(manageable(user)) == {setting["food"], setting["birth"]}
