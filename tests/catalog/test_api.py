import json

import pytest

from tests.catalog import factories
from tongban.catalog.models import ItemImplementation, ItemVersion

pytestmark = pytest.mark.django_db
API = "/api/catalog"


@pytest.fixture
def item():
    return factories.published_item()


def test_public_list_search_and_detail_are_cacheable(client, item):
    listing = client.get(f"{API}/items", {"region": "341500"})
    assert listing.status_code == 200 and listing["Cache-Control"] == "public, max-age=60"
    assert [i["code"] for i in listing.json()] == [item.code]
    found = client.get(f"{API}/items", {"q": "开饭店"}).json()
    assert found[0]["name"] == "食品经营许可"
    detail = client.get(f"{API}/items/{item.code}")
    assert detail.status_code == 200 and detail["Cache-Control"] == "public, max-age=60"
    body = detail.json()
    assert body["basic_code"] == item.basic_item.code and body["version"] == 1
    assert {m["name"] for m in body["guide"]["materials"]} >= {"食品经营许可申请书", "房屋租赁合同"}
    assert client.get(f"{API}/items/NOPE").json()["code"] == "item-not-found"


def test_situation_endpoint(client, item):
    response = client.post(
        f"{API}/items/{item.code}/situations",
        json.dumps({"answers": {"agent": "yes", "premises": "own"}}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert [m["name"] for m in response.json()["materials"]] == [
        "食品经营许可申请书",
        "营业执照",
        "授权委托书",
        "受托人身份证",
    ]
    bad = client.post(
        f"{API}/items/{item.code}/situations",
        json.dumps({"answers": {"agent": "x"}}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and "没有选项" in bad.json()["message"]


def _post(client, url, data=None, method="post"):
    return getattr(client, method)(url, json.dumps(data or {}), content_type="application/json")


def test_admin_endpoints_need_login_and_permissions(client, item):
    assert _post(client, f"{API}/manage/items/{item.code}/drafts").status_code == 401
    factories.login_staff(client, factories.UserFactory(perms=["view_itemversion"]))
    assert _post(client, f"{API}/manage/items/{item.code}/drafts").status_code == 403


def test_admin_workflow_over_the_api(client, item):
    editor = factories.UserFactory(perms=[*factories.EDITOR_PERMS, "add_itemversion"])
    reviewer = factories.UserFactory(perms=factories.REVIEWER_PERMS)
    factories.login_staff(client, editor)
    assert (
        _post(client, f"{API}/manage/items/{item.code}/drafts", {"change_summary": "调整"}).status_code == 201
    )
    bad = _post(client, f"{API}/manage/items/{item.code}/draft", {"promised_limit_days": 25}, method="patch")
    assert bad.status_code == 200, bad.json()
    refused = _post(client, f"{API}/manage/items/{item.code}/submit")
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "promised-exceeds-legal"
    _post(client, f"{API}/manage/items/{item.code}/draft", {"promised_limit_days": 2}, method="patch")
    assert _post(client, f"{API}/manage/items/{item.code}/submit").json()["status"] == "in_review"
    own = _post(client, f"{API}/manage/items/{item.code}/review", {"approve": True})
    assert own.status_code == 403  # the editor lacks the review permission

    client.logout()
    factories.login_staff(client, reviewer)
    assert (
        _post(client, f"{API}/manage/items/{item.code}/review", {"approve": True}).json()["status"]
        == "approved"
    )
    published = _post(client, f"{API}/manage/items/{item.code}/publish")
    assert published.json()["status"] == "published"
    assert client.get(f"{API}/items/{item.code}").json()["promised_limit_days"] == 2
    history = client.get(f"{API}/manage/items/{item.code}/versions").json()
    assert [v["status"] for v in history] == ["published", "superseded"]
    assert any(d["field"] == "promised_limit_days" for d in history[0]["diff"])


def test_admin_create_generates_codes(client):
    org = factories.department(factories.liuan()["jinan"])
    factories.login_staff(client, factories.UserFactory(perms=["add_itemversion"]))
    response = _post(
        client,
        f"{API}/manage/items",
        {
            "name": "公共场所卫生许可",
            "item_type": "01",
            "department_key": "health",
            "legal_basis": "《公共场所卫生管理条例》第八条",
            "service_objects": "1,2",
            "organisation_credit_code": org.credit_code,
        },
    )
    assert response.status_code == 201
    impl = ItemImplementation.objects.get()
    assert impl.code == org.credit_code + "4" + "01WJW0001000"
    assert impl.versions.get().status == ItemVersion.Status.DRAFT
    invalid = _post(
        client,
        f"{API}/manage/items",
        {
            "name": "x",
            "item_type": "99",
            "department_key": "health",
            "legal_basis": "x",
            "service_objects": "1",
            "organisation_credit_code": org.credit_code,
        },
    )
    assert invalid.status_code == 422 and "事项类型" in invalid.json()["message"]
