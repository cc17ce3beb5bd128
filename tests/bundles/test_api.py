"""一件事 API: guide, start/submit (idempotent), status, one-window accept; bad input → Chinese 422."""

from __future__ import annotations

import pytest

from tests.bundles import factories as bf
from tests.bundles.test_services import _submitted
from tests.cases import factories as cf
from tests.catalog.factories import department, liuan, login_staff
from tongban.bundles.models import BundleCase, BundleStatus
from tongban.cases.models import Application

pytestmark = pytest.mark.django_db


def test_list_and_guide_show_items_departments_merged_materials_and_visits(client):
    bundle = bf.bundle()
    listing = client.get("/api/bundles/bundles?region=341500").json()
    assert [b["code"] for b in listing] == [bundle.code]
    assert client.get("/api/bundles/bundles?region=999999").status_code == 404
    guide = client.get(f"/api/bundles/bundles/{bundle.code}").json()
    assert [i["item_name"] for i in guide["items"]] == [
        "企业设立登记",
        "新办纳税人涉税信息确认",
        "单位住房公积金缴存登记",
    ]
    assert guide["items"][2]["optional"] is True
    assert len(guide["departments"]) == 3 and guide["visits"] == 0
    names = [m["name"] for m in guide["materials"]]
    assert names.count("授权委托书") == 1 and names.count("营业执照") == 1
    assert guide["questions"][0]["key"] == "agent"


def test_applicant_flow_through_the_api(client):
    bundle = bf.bundle()
    person = cf.citizen()
    client.force_login(person.user)
    body = {"bundle": bundle.code, "answers": {"agent": "no"}, "form_data": bf.ENTERPRISE_FORM}
    created = client.post(
        "/api/bundles/cases", body, content_type="application/json", headers={"Idempotency-Key": "k-1"}
    )
    assert created.status_code == 201, created.content
    data = created.json()
    again = client.post(
        "/api/bundles/cases", body, content_type="application/json", headers={"Idempotency-Key": "k-1"}
    )
    assert again.json()["id"] == data["id"] and BundleCase.objects.count() == 1
    assert data["form_data"]["applicant_id_number"].count("*") >= 8  # masked
    assert {p["field"] for p in data["problems"]} >= {"material." + data["materials"][0]["key"]}

    pk = data["id"]
    incomplete = client.post(f"/api/bundles/cases/{pk}/submit")
    assert incomplete.status_code == 422
    assert incomplete.json()["code"] == "application-incomplete" and "请上传" in incomplete.json()["message"]

    for material in data["materials"]:
        if material["needs_upload"]:
            up = client.post(f"/api/bundles/cases/{pk}/materials/{material['key']}", {"file": cf.pdf()})
            assert up.status_code == 200, up.content
    submitted = client.post(f"/api/bundles/cases/{pk}/submit").json()
    assert submitted["status"] == "submitted" and len(submitted["children"]) == 2
    assert client.post(f"/api/bundles/cases/{pk}/submit").json()["reference"] == submitted["reference"]
    assert Application.objects.count() == 2
    status = client.get(f"/api/bundles/cases/{pk}").json()
    assert [c["status"] for c in status["children"]] == ["submitted", "submitted"]


def test_bad_input_is_a_chinese_422(client):
    bundle = bf.bundle()
    person = cf.citizen()
    client.force_login(person.user)
    bad_type = client.post(
        "/api/bundles/cases", {"bundle": bundle.code, "selected": ["abc"]}, content_type="application/json"
    )
    assert bad_type.status_code == 422 and bad_type.json()["message"].startswith("提交的内容有误")
    pk = client.post("/api/bundles/cases", {"bundle": bundle.code}, content_type="application/json").json()[
        "id"
    ]
    unknown = client.patch(
        f"/api/bundles/cases/{pk}", {"answers": {"agent": "perhaps"}}, content_type="application/json"
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown-option"
    assert "没有选项" in unknown.json()["message"]
    not_a_pdf = client.post(
        f"/api/bundles/cases/{pk}/materials/whatever", {"file": cf.SimpleUploadedFile("a.pdf", b"hello")}
    )
    assert not_a_pdf.status_code == 422 and "格式" in not_a_pdf.json()["message"]
    other = cf.citizen()
    client.force_login(other.user)
    assert client.get(f"/api/bundles/cases/{pk}").status_code == 404


def test_one_window_accept_through_the_api_with_scope(client):
    bc = _submitted()
    outsider = cf.clerk(department(liuan()["jinan"]))
    login_staff(client, outsider)
    assert client.get("/api/bundles/queue").json() == []
    assert client.post(f"/api/bundles/cases/{bc.pk}/accept").status_code == 404  # not visible at all
    client.logout()
    clerk = cf.clerk(bc.lead_department)
    login_staff(client, clerk)
    assert [r["reference"] for r in client.get("/api/bundles/queue").json()] == [bc.reference]
    empty = client.post(
        f"/api/bundles/cases/{bc.pk}/corrections", {"items": []}, content_type="application/json"
    )
    assert empty.status_code == 422 and "提交的内容有误" in empty.json()["message"]
    accepted = client.post(f"/api/bundles/cases/{bc.pk}/accept")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == BundleStatus.IN_PROGRESS
    assert all(c["case_number"] for c in accepted.json()["children"])
    again = client.post(f"/api/bundles/cases/{bc.pk}/accept")
    assert again.status_code == 422 and again.json()["code"] == "invalid-transition"
