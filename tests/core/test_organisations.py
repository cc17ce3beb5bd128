"""Departments, halls and windows: the rules, the services and the admin pages."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.core.factories import (
    STANDARD_HOURS,
    CityFactory,
    CountyFactory,
    OrganisationFactory,
    ServiceHallFactory,
    TownFactory,
    WindowFactory,
    credit_code_for,
    login_superuser,
)
from tongban.core import services
from tongban.core.identifiers import credit_code_check_char
from tongban.core.models import AuditEvent, Organisation, ServiceHall, Window


def rejected(model, error_code: str, call, *args, **kwargs) -> str:
    """Run a service call that must fail: right code, nothing saved, no audit event."""
    before, audit_before = model.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == error_code, caught.value.messages
    assert model.objects.count() == before
    assert AuditEvent.objects.count() == audit_before
    return caught.value.messages[0]


# -- organisations ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_organisation_normalises_the_credit_code_and_audits():
    county = CountyFactory()
    code = credit_code_for(county, 7)
    organisation = services.create_organisation(
        name=" 测试县市场监督管理局 ", credit_code=code.lower()[:9] + " " + code.lower()[9:], region=county
    )
    assert organisation.credit_code == code
    assert organisation.name == "测试县市场监督管理局"
    assert AuditEvent.objects.filter(action="organisation.create", object_id=str(organisation.pk)).exists()


@pytest.mark.django_db
def test_credit_code_with_wrong_check_character_is_rejected():
    county = CountyFactory()
    first17 = f"11{county.code}000000001"
    wrong = "0" if credit_code_check_char(first17) != "0" else "1"
    message = rejected(
        Organisation,
        "credit-code-checksum",
        services.create_organisation,
        name="某局",
        credit_code=first17 + wrong,
        region=county,
    )
    assert "校验位" in message


@pytest.mark.django_db
def test_credit_code_must_be_unique():
    existing = OrganisationFactory()
    message = rejected(
        Organisation,
        "organisation-credit-code-taken",
        services.create_organisation,
        name="另一个局",
        credit_code=existing.credit_code,
        region=existing.region,
    )
    assert existing.name in message


@pytest.mark.django_db
def test_parent_must_be_in_the_same_or_a_higher_region():
    county = CountyFactory()
    city_bureau = OrganisationFactory(region=county.parent)
    branch = services.create_organisation(
        name="分局", credit_code=credit_code_for(county, 11), region=county, parent=city_bureau
    )
    assert branch.parent == city_bureau
    other_county = CountyFactory(parent=county.parent)
    sibling_bureau = OrganisationFactory(region=other_county)
    message = rejected(
        Organisation,
        "organisation-parent-region",
        services.create_organisation,
        name="错挂的局",
        credit_code=credit_code_for(county, 12),
        region=county,
        parent=sibling_bureau,
    )
    assert "同级或上级" in message
    # a city body cannot hang under a county body either
    rejected(
        Organisation,
        "organisation-parent-region",
        services.create_organisation,
        name="倒挂的局",
        credit_code=credit_code_for(county.parent, 13),
        region=county.parent,
        parent=branch,
    )


@pytest.mark.django_db
def test_organisation_cannot_become_its_own_ancestor():
    top = OrganisationFactory()
    child = OrganisationFactory(region=top.region, parent=top)
    with pytest.raises(ValidationError) as caught:
        services.update_organisation(top, parent=child)
    assert caught.value.code == "organisation-parent-cycle"
    top.refresh_from_db()
    assert top.parent is None


# -- halls ------------------------------------------------------------------------------------


def hall_fields(region, **overrides):
    fields = {
        "name": "测试政务服务中心",
        "kind": ServiceHall.Kind.CENTRE,
        "region": region,
        "address": "测试路 1 号",
        "longitude": Decimal("116.52"),
        "latitude": Decimal("31.74"),
        "opening_hours": STANDARD_HOURS,
        "phone": "0564-3379001",
    }
    return {**fields, **overrides}


@pytest.mark.django_db
def test_create_hall_with_valid_data():
    county = CountyFactory()
    hall = services.create_hall(**hall_fields(county))
    assert hall.opening_hours_text == "周一至周五 08:30-12:00、14:30-17:30"
    assert AuditEvent.objects.filter(action="hall.create").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "error_code"),
    [
        ({"opening_hours": [{"days": [1], "open": "17:00", "close": "09:00"}]}, "opening-hours-order"),
        ({"opening_hours": [{"days": [8], "open": "09:00", "close": "12:00"}]}, "opening-hours-days"),
        ({"opening_hours": [{"days": [1], "open": "9点", "close": "12:00"}]}, "opening-hours-time"),
        ({"opening_hours": {"mon": "9-5"}}, "opening-hours-not-list"),
        ({"longitude": Decimal("31.74"), "latitude": Decimal("116.52")}, "hall-longitude-range"),
        ({"latitude": Decimal("60")}, "hall-latitude-range"),
        ({"latitude": None}, "hall-coordinates-pair"),
        ({"phone": "3379001"}, "phone-format"),
        ({"phone": "0564-33790"}, "phone-format"),
        ({"kind": ServiceHall.Kind.VILLAGE_STATION}, "hall-kind-level"),
        ({"address": "  "}, "hall-address-required"),
    ],
)
def test_bad_hall_data_is_rejected_and_nothing_saved(overrides, error_code):
    county = CountyFactory()
    rejected(ServiceHall, error_code, services.create_hall, **hall_fields(county, **overrides))


@pytest.mark.parametrize(
    "phone", ["0564-3379001", "05643379001", "010-12345678", "12345", "13805641234", "0564-3379001-8"]
)
def test_accepted_phone_formats(phone):
    assert services.validate_phone(phone)


@pytest.mark.django_db
def test_hall_operator_must_belong_to_the_region_or_above():
    county = CountyFactory()
    other = CountyFactory(parent=county.parent)
    rejected(
        ServiceHall,
        "hall-operator-region",
        services.create_hall,
        **hall_fields(county, operator=OrganisationFactory(region=other)),
    )
    hall = services.create_hall(**hall_fields(county, operator=OrganisationFactory(region=county.parent)))
    assert hall.operator.region == county.parent


@pytest.mark.django_db
def test_town_centre_belongs_to_a_town():
    town = TownFactory()
    hall = services.create_hall(
        **hall_fields(town, name="测试镇便民服务中心", kind=ServiceHall.Kind.TOWN_CENTRE)
    )
    assert hall.region.level == 4


# -- windows ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_window_number_is_unique_per_hall():
    window = WindowFactory(number="1")
    message = rejected(
        Window, "window-number-taken", services.create_window, hall=window.hall, number="1", name="又一个"
    )
    assert "已有 1 号窗口" in message
    other_hall = ServiceHallFactory(region=window.hall.region)
    assert services.create_window(hall=other_hall, number="1", name="综合受理窗口").pk


@pytest.mark.django_db
def test_dedicated_window_needs_a_department():
    hall = ServiceHallFactory()
    rejected(
        Window,
        "window-dedicated-needs-organisation",
        services.create_window,
        hall=hall,
        number="9",
        name="公安专窗",
        kind=Window.Kind.DEDICATED,
    )
    police = OrganisationFactory(region=hall.region, short_name="公安")
    window = services.create_window(
        hall=hall, number="9", name="公安专窗", kind=Window.Kind.DEDICATED, organisations=[police]
    )
    assert list(window.organisations.all()) == [police]


@pytest.mark.django_db
def test_window_departments_come_from_the_hall_region_branch():
    hall = ServiceHallFactory()
    elsewhere = OrganisationFactory(region=CountyFactory(parent=hall.region.parent))
    rejected(
        Window,
        "window-organisation-region",
        services.create_window,
        hall=hall,
        number="9",
        name="专窗",
        kind=Window.Kind.DEDICATED,
        organisations=[elsewhere],
    )


@pytest.mark.django_db
def test_removing_the_last_department_of_a_dedicated_window_is_refused():
    police = OrganisationFactory()
    window = WindowFactory(
        hall=ServiceHallFactory(region=police.region), kind=Window.Kind.DEDICATED, organisations=[police]
    )
    with pytest.raises(ValidationError):
        services.update_window(window, organisations=[])
    assert list(window.organisations.all()) == [police]


# -- admin pages ------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, django_user_model):
    login_superuser(client, django_user_model)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["organisation", "servicehall", "window"])
def test_admin_add_pages_render(admin_client, model):
    response = admin_client.get(f"/admin/core/{model}/add/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_admin_organisation_bad_credit_code(admin_client):
    county = CountyFactory()
    response = admin_client.post(
        "/admin/core/organisation/add/",
        {"name": "某局", "credit_code": "11341502ABCDEFGHIO", "kind": "department", "region": county.pk},
    )
    assert response.status_code == 200
    assert "统一社会信用代码" in response.content.decode()
    assert not Organisation.objects.filter(name="某局").exists()


@pytest.mark.django_db
def test_admin_organisation_add_is_audited(admin_client):
    county = CountyFactory()
    code = credit_code_for(county, 21)
    response = admin_client.post(
        "/admin/core/organisation/add/",
        {
            "name": "新局",
            "credit_code": code.lower(),
            "kind": "department",
            "region": county.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    organisation = Organisation.objects.get(credit_code=code)
    assert (
        AuditEvent.objects.get(action="organisation.create", object_id=str(organisation.pk)).actor is not None
    )


def _hall_post(region, windows=(), **overrides):
    data = {
        "name": "新政务服务中心",
        "kind": "centre",
        "region": region.pk,
        "address": "测试路 2 号",
        "longitude": "116.52",
        "latitude": "31.74",
        "opening_hours": '[{"days": [1,2,3,4,5], "open": "09:00", "close": "17:00"}]',
        "phone": "12345",
        "is_active": "on",
        "windows-TOTAL_FORMS": str(len(windows)),
        "windows-INITIAL_FORMS": "0",
        "windows-MIN_NUM_FORMS": "0",
        "windows-MAX_NUM_FORMS": "1000",
    }
    for index, window in enumerate(windows):
        for key, value in window.items():
            data[f"windows-{index}-{key}"] = value
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_admin_hall_bad_opening_hours_saves_nothing(admin_client):
    county = CountyFactory()
    response = admin_client.post(
        "/admin/core/servicehall/add/",
        _hall_post(county, opening_hours='[{"days": [1], "open": "18:00", "close": "09:00"}]'),
    )
    assert response.status_code == 200
    assert "开始时间应早于结束时间" in response.content.decode()
    assert ServiceHall.objects.count() == 0


@pytest.mark.django_db
def test_admin_hall_with_inline_windows_goes_through_services(admin_client):
    county = CountyFactory()
    police = OrganisationFactory(region=county)
    windows = [
        {"number": "1", "name": "综合受理窗口 1", "kind": "comprehensive", "is_active": "on"},
        {
            "number": "9",
            "name": "公安专窗",
            "kind": "dedicated",
            "organisations": str(police.pk),
            "is_active": "on",
        },
    ]
    response = admin_client.post("/admin/core/servicehall/add/", _hall_post(county, windows))
    assert response.status_code == 302, response.content.decode()[:2000]
    hall = ServiceHall.objects.get(name="新政务服务中心")
    assert sorted(hall.windows.values_list("number", flat=True)) == ["1", "9"]
    assert list(hall.windows.get(number="9").organisations.all()) == [police]
    assert AuditEvent.objects.filter(action="window.create").count() == 2


@pytest.mark.django_db
def test_admin_inline_dedicated_window_without_department_is_refused(admin_client):
    county = CountyFactory()
    windows = [{"number": "9", "name": "公安专窗", "kind": "dedicated", "is_active": "on"}]
    response = admin_client.post("/admin/core/servicehall/add/", _hall_post(county, windows))
    assert response.status_code == 200
    assert "专项窗口至少要选择一个进驻部门" in response.content.decode()
    assert ServiceHall.objects.count() == 0
    assert Window.objects.count() == 0


@pytest.mark.django_db
def test_admin_window_duplicate_number(admin_client):
    window = WindowFactory(number="3")
    response = admin_client.post(
        "/admin/core/window/add/",
        {"hall": window.hall.pk, "number": "3", "name": "重复", "kind": "comprehensive", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "已有 3 号窗口" in response.content.decode()
    assert Window.objects.count() == 1


@pytest.mark.django_db
def test_audit_log_is_searchable_and_read_only(admin_client):
    services.create_region(code="880000", name="审计省")
    listing = admin_client.get("/admin/core/auditevent/", {"q": "审计省"})
    assert listing.status_code == 200
    assert "审计省" in listing.content.decode()
    assert admin_client.get("/admin/core/auditevent/add/").status_code == 403
    event = AuditEvent.objects.get()
    detail = admin_client.get(f"/admin/core/auditevent/{event.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert admin_client.post(f"/admin/core/auditevent/{event.pk}/delete/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_admin_region_delete_is_audited(admin_client):
    city = CityFactory()
    county = CountyFactory(parent=city)
    response = admin_client.post(f"/admin/core/region/{county.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="region.delete", object_id=str(county.pk)).exists()
