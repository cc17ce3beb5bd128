"""Administrative divisions: code formats per level, parent rules, path helpers, admin pages."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from tests.core.factories import (
    CityFactory,
    CountyFactory,
    TownFactory,
    VillageFactory,
    login_superuser,
    region_chain,
)
from tongban.core import services
from tongban.core.models import AuditEvent, Region

L = Region.Level


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("340000", L.PROVINCE),
        ("341500", L.CITY),
        ("341502", L.COUNTY),
        ("341502001000", L.TOWN),
        ("341523114204", L.VILLAGE),
        (" 3415 02 ", L.COUNTY),
    ],
)
def test_well_formed_codes_pass(code, level):
    assert services.validate_region_code(code, level) == code.replace(" ", "")


@pytest.mark.parametrize(
    ("code", "level", "error_code"),
    [
        ("34000", L.PROVINCE, "region-code-format"),
        ("3400000", L.PROVINCE, "region-code-format"),
        ("34A000", L.PROVINCE, "region-code-format"),
        ("341500", L.PROVINCE, "region-code-level"),  # a city code given as province
        ("340000", L.CITY, "region-code-level"),  # a province code is not a city code
        ("341502", L.CITY, "region-code-level"),
        ("341500", L.COUNTY, "region-code-level"),
        ("341502", L.TOWN, "region-code-format"),  # towns need 12 digits
        ("341502001001", L.TOWN, "region-code-level"),
        ("341502001000", L.VILLAGE, "region-code-level"),
        ("341502000000", L.TOWN, "region-code-format"),
        ("000000", L.PROVINCE, "region-code-format"),
    ],
)
def test_malformed_codes_are_rejected_in_chinese(code, level, error_code):
    with pytest.raises(ValidationError) as caught:
        services.validate_region_code(code, level)
    assert caught.value.code == error_code
    assert "区划代码" in caught.value.messages[0]


@given(st.text(alphabet="0123456789", min_size=6, max_size=6))
def test_every_six_digit_code_fits_at_most_one_level(code):
    fitting = []
    for level in (L.PROVINCE, L.CITY, L.COUNTY):
        try:
            services.validate_region_code(code, level)
            fitting.append(level)
        except ValidationError:
            pass
    assert len(fitting) <= 1
    assert services.infer_region_level(code) == (fitting[0] if fitting else None)


@pytest.mark.django_db
def test_create_region_chain_with_parent_codes_and_audit():
    province = services.create_region(code="340000", name="安徽省")
    city = services.create_region(code="341500", name="六安市", parent_code="340000")
    county = services.create_region(code="341502", name="金安区", parent_code="341500")
    town = services.create_region(code="341502001000", name="中市街道", parent=county)
    assert [r.level for r in (province, city, county, town)] == [1, 2, 3, 4]
    assert town.path == "340000/341500/341502/341502001000/"
    assert town.full_name == "安徽省六安市金安区中市街道"
    assert AuditEvent.objects.filter(action="region.create").count() == 4


def _rejected(error_code: str, **kwargs) -> str:
    before = Region.objects.count()
    audit_before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.create_region(**kwargs)
    assert caught.value.code == error_code
    assert Region.objects.count() == before, "nothing may be saved"
    assert AuditEvent.objects.count() == audit_before
    return caught.value.messages[0]


@pytest.mark.django_db
def test_unknown_parent_code_is_named_in_the_message():
    message = _rejected("region-parent-unknown", code="341502", name="金安区", parent_code="341500")
    assert message == "上级区划代码 341500 不存在。"


@pytest.mark.django_db
def test_parent_must_be_exactly_one_level_up():
    province, _city, county = region_chain(3)
    message = _rejected("region-parent-level", code=f"{province.code[:2]}0101", name="某县", parent=province)
    assert "上级应为市级区划" in message
    _rejected("region-parent-level", code=f"{county.code}001001", name="某村", parent=county, level=L.VILLAGE)


@pytest.mark.django_db
def test_code_must_extend_the_parent_code():
    _province, city, county = region_chain(3)
    other_city = f"{city.code[:2]}{(int(city.code[2:4]) % 98) + 1:02d}02"
    message = _rejected("region-code-prefix", code=other_city, name="错县", parent=city)
    assert f"应以 {city.code[:4]} 开头" in message
    _rejected("region-code-prefix", code="341502001000", name="错镇", parent=county)
    town = TownFactory(parent=county)
    wrong_village = f"{county.code}{(int(town.code[6:9]) % 898) + 1:03d}001"
    _rejected("region-code-prefix", code=wrong_village, name="错村", parent=town)


@pytest.mark.django_db
def test_non_province_needs_a_parent_and_province_takes_none():
    province = region_chain(1)[0]
    _rejected("region-parent-required", code="341500", name="六安市")
    _rejected("region-parent-not-allowed", code="340000", name="安徽省", parent=province, level=L.PROVINCE)


@pytest.mark.django_db
def test_duplicate_code_is_rejected():
    county = CountyFactory()
    _rejected("region-code-taken", code=county.code, name="重复", parent=county.parent)


@pytest.mark.django_db
def test_region_with_children_keeps_its_code():
    county = CountyFactory()
    TownFactory(parent=county)
    with pytest.raises(ValidationError) as caught:
        services.update_region(county, code=county.code[:4] + "99")
    assert caught.value.code == "region-has-children"
    county.refresh_from_db()
    assert Region.objects.filter(code=county.code).exists()


@pytest.mark.django_db
def test_rename_is_audited_with_before_and_after():
    county = CountyFactory(name="旧名")
    services.update_region(county, name="新名")
    event = AuditEvent.objects.get(action="region.update")
    assert event.data["changes"] == {"name": ["旧名", "新名"]}


@pytest.mark.django_db
def test_regions_below_and_is_within_follow_the_path():
    province, city, county = region_chain(3)
    town = TownFactory(parent=county)
    village = VillageFactory(parent=town)
    sibling = CityFactory(parent=province)
    below_city = set(services.regions_below(city))
    assert below_city == {city, county, town, village}
    assert sibling not in below_city
    assert set(services.regions_below(city, include_self=False)) == {county, town, village}
    assert services.is_within(village, province)
    assert services.is_within(county, county)
    assert not services.is_within(city, county)
    assert not services.is_within(county, sibling)


# -- admin pages ------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, django_user_model):
    login_superuser(client, django_user_model)
    return client


@pytest.mark.django_db
def test_admin_add_page_renders(admin_client):
    response = admin_client.get("/admin/core/region/add/")
    assert response.status_code == 200
    assert "区划代码" in response.content.decode()


@pytest.mark.django_db
def test_admin_rejects_bad_code_with_chinese_error_and_saves_nothing(admin_client):
    city = CityFactory()
    before = Region.objects.count()
    response = admin_client.post(
        "/admin/core/region/add/",
        {"code": "3415", "name": "坏代码", "level": L.COUNTY, "parent": city.pk, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "应为 6 位数字" in response.content.decode()
    assert Region.objects.count() == before


@pytest.mark.django_db
def test_admin_rejects_wrong_parent_level(admin_client):
    province = region_chain(1)[0]
    response = admin_client.post(
        "/admin/core/region/add/",
        {"code": f"{province.code[:2]}0101", "name": "跳级县", "level": L.COUNTY, "parent": province.pk},
    )
    assert response.status_code == 200
    assert "上级应为市级区划" in response.content.decode()
    assert not Region.objects.filter(name="跳级县").exists()


@pytest.mark.django_db
def test_admin_add_goes_through_services_and_is_audited(admin_client):
    city = CityFactory()
    code = f"{city.code[:4]}77"
    response = admin_client.post(
        "/admin/core/region/add/", {"code": code, "name": "新县", "level": L.COUNTY, "parent": city.pk}
    )
    assert response.status_code == 302
    region = Region.objects.get(code=code)
    assert region.path == f"{city.path}{code}/"
    event = AuditEvent.objects.get(action="region.create", object_id=str(region.pk))
    assert event.actor.username == "root"


@pytest.mark.django_db
def test_admin_search_and_level_filter(admin_client):
    county = CountyFactory(name="检索县")
    response = admin_client.get("/admin/core/region/", {"q": county.code, "level__exact": L.COUNTY})
    assert response.status_code == 200
    assert "检索县" in response.content.decode()
