"""Personal data is revealed only with a purpose, within data scope, and always audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.accounts.conftest import verified_login
from tests.accounts.helpers import make_citizen, make_staff, resident_id
from tests.core.factories import CityFactory, CountyFactory, OrganisationFactory, ProvinceFactory
from tongban.accounts.models import Role
from tongban.accounts.personal_data import reveal_personal_data
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    province = ProvinceFactory(code="340000")
    city = CityFactory(code="341500", parent=province)
    jinan = CountyFactory(code="341502", parent=city)
    yuan = CountyFactory(code="341503", parent=city)
    person = make_citizen(
        name="赵六", phone="13955550001", id_number=resident_id(7, region="341502"), level=2
    )
    jinan_clerk = make_staff(
        username="ja-clerk", department=OrganisationFactory(region=jinan), roles=[Role.WINDOW_CLERK]
    )
    yuan_clerk = make_staff(
        username="ya-clerk", department=OrganisationFactory(region=yuan), roles=[Role.WINDOW_CLERK]
    )
    city_clerk = make_staff(
        username="la-clerk", department=OrganisationFactory(region=city), roles=[Role.WINDOW_CLERK]
    )
    catalogue = make_staff(
        username="ja-cat", department=OrganisationFactory(region=jinan), roles=[Role.CATALOGUE_ADMIN]
    )
    return {
        "person": person,
        "jinan": jinan_clerk,
        "yuan": yuan_clerk,
        "city": city_clerk,
        "catalogue": catalogue,
    }


def test_clerk_in_scope_gets_the_full_number_and_an_audit_row_with_the_purpose(world):
    person = world["person"]

    number = reveal_personal_data(world["jinan"], person, "id_number", "核验身份")

    assert number == resident_id(7, region="341502")
    event = AuditEvent.objects.get(action="accounts.personal_data_reveal")
    assert event.actor == world["jinan"] and event.object_id == str(person.pk)
    assert event.data == {"field": "id_number", "purpose": "核验身份"}
    assert number not in event.summary
    # A city-level clerk serves the counties below too.
    assert reveal_personal_data(world["city"], person, "phone", "电话回访") == "13955550001"


@pytest.mark.parametrize("who", ["yuan", "catalogue"])
def test_clerk_outside_scope_is_refused_and_the_attempt_is_logged(world, who):
    with pytest.raises(ValidationError) as excinfo:
        reveal_personal_data(world[who], world["person"], "id_number", "核验身份")

    assert excinfo.value.code == "reveal-out-of-scope"
    assert "不在您的数据权限范围内" in excinfo.value.messages[0]
    assert not AuditEvent.objects.filter(action="accounts.personal_data_reveal").exists()
    assert AuditEvent.objects.filter(action="accounts.personal_data_refused", actor=world[who]).exists()


def test_purpose_is_required(world):
    with pytest.raises(ValidationError, match="请填写查看完整号码的事由"):
        reveal_personal_data(world["jinan"], world["person"], "id_number", "  ")
    assert not AuditEvent.objects.filter(action__startswith="accounts.personal_data").exists()


def test_person_themself_may_see_their_own_number(world):
    person = world["person"]
    assert reveal_personal_data(person.user, person, "phone", "本人查看") == "13955550001"


def test_workbench_lookup_is_masked_and_reveal_form_shows_once(client, world):
    verified_login(client, world["jinan"])
    full = resident_id(7, region="341502")

    page = client.post("/accounts/workbench/persons/", {"q": "13955550001"}).content.decode()
    assert world["person"].masked_id_number in page and full not in page
    assert "查看完整号码" in page
    assert AuditEvent.objects.filter(action="accounts.person_lookup", actor=world["jinan"]).exists()

    url = f"/accounts/workbench/persons/{world['person'].pk}/reveal/"
    missing = client.post(url, {"field": "id_number", "purpose": ""})
    assert missing.status_code == 422 and full not in missing.content.decode()
    shown = client.post(url, {"field": "id_number", "purpose": "核验身份"})
    assert shown.status_code == 200 and full in shown.content.decode()
    assert "13955550001" not in shown.content.decode()  # only the field asked for


def test_workbench_reveal_outside_scope_is_forbidden(client, world):
    verified_login(client, world["yuan"])
    full = resident_id(7, region="341502")
    page = client.post("/accounts/workbench/persons/", {"q": full}).content.decode()
    assert "不在您的数据权限范围内" in page and full not in page

    response = client.post(
        f"/accounts/workbench/persons/{world['person'].pk}/reveal/",
        {"field": "id_number", "purpose": "核验身份"},
    )

    assert response.status_code == 403
    assert full not in response.content.decode()


def test_citizen_cannot_use_the_lookup(client, world):
    other = make_citizen(name="钱七", phone="13955550002", id_number=resident_id(8), level=2)
    client.force_login(other.user, backend="tongban.accounts.backends.PhoneOrUsernameBackend")
    assert client.post("/accounts/workbench/persons/", {"q": "13955550001"}).status_code == 403
