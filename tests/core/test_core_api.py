"""Core API: regions, organisations, halls; unknown codes answer in Chinese, never an empty 200."""

import pytest

from tests.core.factories import (
    CountyFactory,
    OrganisationFactory,
    ServiceHallFactory,
    TownFactory,
    WindowFactory,
    region_chain,
)
from tongban.core.models import Window

API = "/api/core"


@pytest.mark.django_db
def test_top_level_regions_and_children(client):
    province, city, county = region_chain(3)
    top = client.get(f"{API}/regions").json()
    assert {
        "code": province.code,
        "name": province.name,
        "level": 1,
        "level_name": "省级",
        "parent_code": None,
    } in top
    children = client.get(f"{API}/regions", {"parent": city.code}).json()
    assert [c["code"] for c in children] == [county.code]
    assert children[0]["parent_code"] == city.code


@pytest.mark.django_db
def test_unknown_parent_is_404_in_chinese(client):
    response = client.get(f"{API}/regions", {"parent": "341500"})
    assert response.status_code == 404
    assert response.json() == {"code": "region-unknown", "message": "区划代码 341500 不存在。"}


@pytest.mark.django_db
def test_malformed_code_is_422(client):
    response = client.get(f"{API}/regions/34150")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "region-code-format"
    assert "格式不正确" in body["message"]


@pytest.mark.django_db
def test_region_detail(client):
    province, city, county = region_chain(3)
    town = TownFactory(parent=county)
    body = client.get(f"{API}/regions/{county.code}").json()
    assert body["code"] == county.code
    assert body["full_name"] == f"{province.name}{city.name}{county.name}"
    assert [a["code"] for a in body["ancestors"]] == [province.code, city.code]
    assert [c["code"] for c in body["children"]] == [town.code]


@pytest.mark.django_db
def test_region_detail_unknown(client):
    response = client.get(f"{API}/regions/341502")
    assert response.status_code == 404
    assert response.json()["message"] == "区划代码 341502 不存在。"


@pytest.mark.django_db
def test_organisations_filtered_by_region_include_those_below(client):
    _province, city, county = region_chain(3)
    city_bureau = OrganisationFactory(region=city, name="市局")
    county_bureau = OrganisationFactory(region=county, name="县局")
    elsewhere = OrganisationFactory(region=CountyFactory(), name="外县局")
    names = {o["name"] for o in client.get(f"{API}/organisations", {"region": city.code}).json()}
    assert names == {city_bureau.name, county_bureau.name}
    assert elsewhere.name not in names
    only_city = client.get(f"{API}/organisations", {"region": city.code, "below": "false"}).json()
    assert [o["name"] for o in only_city] == ["市局"]
    found = client.get(f"{API}/organisations", {"q": "县局"}).json()
    assert {o["credit_code"] for o in found} == {county_bureau.credit_code, elsewhere.credit_code}


@pytest.mark.django_db
def test_organisations_unknown_region_is_404(client):
    response = client.get(f"{API}/organisations", {"region": "999999"})
    assert response.status_code == 404
    assert response.json()["code"] == "region-unknown"


@pytest.mark.django_db
def test_halls_by_region_and_unknown_region(client):
    _province, city, county = region_chain(3)
    hall = ServiceHallFactory(region=county)
    ServiceHallFactory(region=CountyFactory())
    listed = client.get(f"{API}/halls", {"region": city.code}).json()
    assert [h["id"] for h in listed] == [hall.id]
    assert listed[0]["opening_hours"] == "周一至周五 08:30-12:00、14:30-17:30"
    response = client.get(f"{API}/halls", {"region": "340000"})
    assert response.status_code == 404
    assert "不存在" in response.json()["message"]


@pytest.mark.django_db
def test_hall_detail_lists_windows_with_departments(client):
    hall = ServiceHallFactory()
    police = OrganisationFactory(region=hall.region, name="测试县公安局")
    WindowFactory(hall=hall, number="1", name="综合受理窗口 1")
    WindowFactory(hall=hall, number="9", name="公安专窗", kind=Window.Kind.DEDICATED, organisations=[police])
    body = client.get(f"{API}/halls/{hall.id}").json()
    assert body["name"] == hall.name
    assert body["kind_name"] == "政务服务中心"
    assert body["opening_periods"][0]["open"] == "08:30"
    windows = {w["number"]: w for w in body["windows"]}
    assert windows["9"]["organisations"] == ["测试县公安局"]
    assert windows["9"]["kind_name"] == "专项窗口"
    assert windows["1"]["organisations"] == []


@pytest.mark.django_db
def test_hall_detail_unknown(client):
    response = client.get(f"{API}/halls/999999")
    assert response.status_code == 404
    assert response.json() == {"code": "hall-unknown", "message": "编号为 999999 的服务大厅不存在或已停用。"}


def test_openapi_documents_the_core_endpoints_in_chinese():
    from tongban.api import api

    paths = api.get_openapi_schema(path_prefix="/api/")["paths"]
    assert paths["/api/core/regions/{code}"]["get"]["summary"] == "行政区划详情"
    assert paths["/api/core/organisations"]["get"]["summary"] == "部门机构列表"
    assert paths["/api/core/halls/{hall_id}"]["get"]["summary"] == "服务大厅详情"
    assert 404 in paths["/api/core/regions/{code}"]["get"]["responses"]
