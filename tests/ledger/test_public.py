"""Public verification: page and API, same answer for "no such case" and "wrong ID", rate limited."""

from __future__ import annotations

import pytest

from tests.accounts.helpers import resident_id
from tests.ledger.factories import accepted_case
from tongban.cases.models import CaseEvent
from tongban.ledger import services

pytestmark = pytest.mark.django_db

NOT_FOUND = "未查到办件，请核对办件编号和身份证号码。"


def _post(client, body):
    return client.post("/api/ledger/verify", body, content_type="application/json")


def test_api_verifies_a_case_and_returns_its_inclusion_proof(client):
    app, person, clerk = accepted_case()
    commit = services.commit_now()
    r = _post(client, {"case_number": app.case_number, "id_number": person.id_number})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["ok"] is True and body["event_count"] == app.events.count() and body["problems"] == []
    assert [link["action_name"] for link in body["links"]][:3] == ["创建申请", "提交申请", "受理"]
    assert body["links"][2]["actor"] == clerk.staff_profile.department.name
    assert body["applicant"] == "张*三" and "张小三" not in r.content.decode()
    assert body["commit"]["number"] == commit.number and body["commit"]["root"] == commit.root
    assert body["latest_root"] == commit.root and body["pending"] == 0
    # The proof verifies on the client side with nothing but the answer.
    from tongban.ledger import merkle

    proof = body["inclusion"]
    leaf = merkle.leaf_hash(merkle.leaf_data(proof["application_id"], proof["seq"], proof["head_hash"]))
    reached = merkle.root_from_proof(
        leaf, proof["position"], body["commit"]["leaf_count"], [bytes.fromhex(p) for p in proof["proof"]]
    )
    assert reached.hex() == body["commit"]["tree_root"]
    assert proof["head_hash"] == body["links"][-1]["hash"]


def test_api_reports_tampering(client):
    app, person, _ = accepted_case()
    submit = app.events.get(action="submit")
    CaseEvent.objects.filter(pk=submit.pk).update(reason="改过")
    body = _post(client, {"case_number": app.case_number, "id_number": person.id_number}).json()
    assert body["ok"] is False and body["commit"] is None
    [problem] = body["problems"]
    assert problem["code"] == "content-changed" and problem["seq"] == 2 and "提交申请" in problem["message"]
    assert [link["seq"] for link in body["links"] if not link["ok"]] == [2]


def test_api_same_answer_for_wrong_id_and_unknown_case(client):
    app, person, _ = accepted_case()
    wrong_id = _post(client, {"case_number": app.case_number, "id_number": resident_id(999)})
    unknown = _post(client, {"case_number": app.case_number[:-1] + "9", "id_number": person.id_number})
    assert wrong_id.status_code == unknown.status_code == 404
    assert wrong_id.json() == unknown.json() == {"code": "http-404", "message": NOT_FOUND}


def test_api_bad_input_is_422_in_chinese(client):
    r = _post(client, {"case_number": "含有中文!", "id_number": "12345"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid-input"
    fields = {e["field"].rsplit(".", 1)[-1]: e["message"] for e in body["errors"]}
    assert "办件编号格式不正确" in fields["case_number"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in fields["id_number"])
    missing = _post(client, {})
    assert missing.status_code == 422 and "此项为必填项" in missing.json()["message"]


def test_api_is_rate_limited_like_the_progress_query(client):
    app, person, _ = accepted_case()
    body = {"case_number": app.case_number, "id_number": resident_id(998)}
    for _ in range(10):
        r = _post(client, body)
        assert r.status_code == 404, r.json()
    limited = _post(client, {"case_number": app.case_number, "id_number": person.id_number})
    assert limited.status_code == 422 and limited.json()["code"] == "rate-limited"


def test_page_shows_history_verdict_and_commit(client):
    app, person, clerk = accepted_case()
    commit = services.commit_now()
    page = client.get("/ledger/verify/").content.decode()
    assert '<label for="case_number">办件编号</label>' in page and 'for="id_number"' in page
    r = client.post("/ledger/verify/", {"case_number": app.case_number, "id_number": person.id_number})
    page = r.content.decode()
    assert r.status_code == 200
    assert "校验通过" in page and "受理" in page and "提交申请" in page
    assert clerk.staff_profile.department.name in page and "张*三" in page
    assert f"第 {commit.number} 次" in page and commit.root in page
    link = app.events.order_by("id").last().chain_link
    assert link.hash[:8] in page


def test_page_shows_tampering(client):
    app, person, _ = accepted_case()
    services.commit_now()
    accept = app.events.get(action="accept")
    CaseEvent.objects.filter(pk=accept.pk).delete()
    page = client.post("/ledger/verify/", {"case_number": app.case_number, "id_number": person.id_number})
    page = page.content.decode()
    assert "校验未通过" in page and "过程记录已被删除" in page and "第3环" in page


def test_page_same_answer_for_wrong_id_and_unknown_case_and_bad_input(client):
    app, person, _ = accepted_case()
    wrong = client.post("/ledger/verify/", {"case_number": app.case_number, "id_number": resident_id(997)})
    unknown = client.post(
        "/ledger/verify/", {"case_number": "X" + app.case_number[1:], "id_number": person.id_number}
    )
    assert NOT_FOUND in wrong.content.decode() and NOT_FOUND in unknown.content.decode()
    bad = client.post("/ledger/verify/", {"case_number": "", "id_number": "1"}).content.decode()
    assert "请填写办件编号" in bad and "ledger-verification" not in bad


def test_progress_page_links_to_verification(client):
    app, person, _ = accepted_case()
    page = client.post("/cases/progress/", {"case_number": app.case_number, "id_number": person.id_number})
    assert 'href="/ledger/verify/"' in page.content.decode()


def test_include_for_staff_pages_renders_from_the_context_helper():
    from django.template.loader import render_to_string

    from tongban.ledger.views import verification_context

    app, *_ = accepted_case()
    services.commit_now()
    html = render_to_string("ledger/_verification.html", verification_context(app))
    assert "校验通过" in html and "ledger/ledger.css" in html and "第 1 次" in html
    CaseEvent.objects.filter(application=app, action="submit").update(reason="改")
    html = render_to_string("ledger/_verification.html", verification_context(app))
    assert "校验未通过" in html and "不一致" in html
