"""The API a mobile app or department system uses: same rules, {"code","message"} errors."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.cases import factories as f
from tests.catalog.factories import department, liuan, login_staff
from tongban.cases.models import Application

pytestmark = pytest.mark.django_db


def _staff_client(django_client_class, user):
    client = django_client_class()
    login_staff(client, user)
    return client


def test_online_path_through_the_api(client):
    impl = f.item()
    person = f.citizen()
    client.force_login(person.user)
    body = {"item_code": impl.code, "answers": {"agent": "no", "premises": "rented"}}
    first = client.post(
        "/api/cases/applications", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc"
    )
    again = client.post(
        "/api/cases/applications", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc"
    )
    assert first.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Application.objects.count() == 1
    pk = first.json()["id"]

    incomplete = client.post(f"/api/cases/applications/{pk}/submit")
    assert incomplete.status_code == 422 and incomplete.json()["code"] == "application-incomplete"
    for name in ("食品经营许可申请书", "房屋租赁合同"):
        up = client.post(
            f"/api/cases/applications/{pk}/materials/{f.material(impl, name).pk}", {"file": f.pdf()}
        )
        assert up.status_code == 200, up.content
    disguised = SimpleUploadedFile("photo.png", b"GIF89a not allowed")
    bad = client.post(
        f"/api/cases/applications/{pk}/materials/{f.material(impl, '房屋租赁合同').pk}", {"file": disguised}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "file-type"
    assert client.post(f"/api/cases/applications/{pk}/submit").json()["status"] == "submitted"
    assert client.post(f"/api/cases/applications/{pk}/submit").status_code == 200  # retry: no change

    clerk = _staff_client(type(client), f.clerk(impl.organisation))
    assert [a["id"] for a in clerk.get("/api/cases/queue").json()] == [pk]
    lease = f.material(impl, "房屋租赁合同").pk
    notice = clerk.post(
        f"/api/cases/applications/{pk}/corrections",
        {"items": [{"material_id": lease, "problem": "合同缺少出租方盖章"}]},
        content_type="application/json",
    )
    assert notice.json()["status"] == "correction_requested"
    client.post(f"/api/cases/applications/{pk}/materials/{lease}", {"file": f.ofd("合同.ofd")})
    assert client.post(f"/api/cases/applications/{pk}/resubmit").json()["status"] == "submitted"
    accepted = clerk.post(f"/api/cases/applications/{pk}/accept").json()
    assert (
        accepted["status"] == "in_progress"
        and accepted["exchange_status"] == "1"
        and accepted["case_type"] == "2"
    )
    again = clerk.post(
        f"/api/cases/applications/{pk}/refuse", {"reason": "迟到的拒绝"}, content_type="application/json"
    )
    assert again.status_code == 422 and again.json()["code"] == "invalid-transition"

    mine = client.get("/api/cases/applications").json()
    assert [e["action"] for e in mine[0]["events"]][-3:] == ["accept", "process_started", "task_opened"]
    progress = client.post(
        "/api/cases/progress",
        {"case_number": accepted["case_number"], "id_number": person.id_number},
        content_type="application/json",
    )
    assert progress.status_code == 200 and "*" in progress.json()["applicant"]


def test_a_refused_answer_creates_no_draft_and_a_retry_saves_what_it_carries(client):
    impl, person = f.item(), f.citizen()
    client.force_login(person.user)
    body = {"item_code": impl.code, "answers": {"agent": "perhaps"}, "idempotency_key": "k-1"}
    refused = client.post("/api/cases/applications", body, content_type="application/json")
    assert refused.status_code == 422 and "message" in refused.json()
    assert not Application.objects.exists()  # nothing half-made: no draft without its answers

    body["answers"] = {"agent": "no", "premises": "rented"}
    created = client.post("/api/cases/applications", body, content_type="application/json")
    assert created.status_code == 201 and created.json()["answers"] == body["answers"]
    assert [e["action"] for e in created.json()["events"]] == ["create"]
    body["answers"] = {"agent": "no", "premises": "own"}
    retried = client.post("/api/cases/applications", body, content_type="application/json")
    assert retried.json()["id"] == created.json()["id"] and retried.json()["answers"] == body["answers"]
    assert Application.objects.get().answers == body["answers"]


def test_progress_query_is_rate_limited_and_does_not_enumerate(client):
    answers = set()
    for i in range(10):
        r = client.post(
            "/api/cases/progress",
            {"case_number": f"X{i}", "id_number": f.resident_id(i)},
            content_type="application/json",
        )
        answers.add((r.status_code, r.json()["message"]))
    assert answers == {(404, "未查到办件，请核对办件编号和身份证号码。")}
    r = client.post(
        "/api/cases/progress", {"case_number": "X", "id_number": "1"}, content_type="application/json"
    )
    assert r.status_code == 422 and r.json()["code"] == "rate-limited"


def test_clerk_outside_scope_cannot_see_or_accept(client):
    regions = liuan()
    impl = f.item(department(regions["jinan"]))
    person = f.citizen()
    client.force_login(person.user)
    pk = client.post(
        "/api/cases/applications",
        {"item_code": impl.code, "answers": {"agent": "no", "premises": "own"}},
        content_type="application/json",
    ).json()["id"]
    client.post(
        f"/api/cases/applications/{pk}/materials/{f.material(impl, '食品经营许可申请书').pk}",
        {"file": f.pdf()},
    )
    client.post(f"/api/cases/applications/{pk}/submit")
    outsider = _staff_client(type(client), f.clerk(department(regions["yuan"])))
    assert outsider.post(f"/api/cases/applications/{pk}/accept").status_code == 404
    assert Application.objects.get(pk=pk).status == "submitted"


def test_window_registration_requires_the_role(client):
    impl = f.item()
    citizen_user = f.citizen().user
    client.force_login(citizen_user)
    body = {"item_code": impl.code, "name": "赵六", "id_number": f.resident_id(55)}
    assert (
        client.post("/api/cases/window/applications", body, content_type="application/json").status_code
        == 403
    )
    clerk = _staff_client(type(client), f.clerk(department(liuan()["yuan"], "数据资源", "数据资源管理局")))
    counter = f.window(liuan()["yuan"])  # the only window in 裕安区: taken without asking
    made = clerk.post("/api/cases/window/applications", body, content_type="application/json")
    assert (
        made.status_code == 201 and made.json()["channel"] == "window" and made.json()["applicant"] != "赵六"
    )
    assert made.json()["window"] == str(counter)
