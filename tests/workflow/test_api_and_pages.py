"""Approvers through the API and the workbench pages: same rules, Chinese errors, data scope."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.catalog.factories import login_staff
from tests.workflow import factories as wf
from tongban.cases.models import Status
from tongban.workflow.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    login_staff(client, user)
    return client


def test_parallel_case_through_the_api(calendar_2026, clock):
    item = wf.parallel_item()
    app = item.accepted()
    approver = _client(wf.staff(item.housing, "approver"))
    (review,) = approver.get("/api/workflow/tasks").json()
    assert review["step"] == "受理审查" and review["light"] in {"green", "yellow", "red"}
    assert approver.post(f"/api/workflow/tasks/{review['id']}/claim").json()["status"] == "claimed"
    bad = approver.post(
        f"/api/workflow/tasks/{review['id']}/complete", {"outcome": "maybe"}, content_type="application/json"
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-input"
    refuse = approver.post(
        f"/api/workflow/tasks/{review['id']}/complete", {"outcome": "refuse"}, content_type="application/json"
    )
    assert (
        refuse.status_code == 422
        and refuse.json()["code"] == "opinion-required"
        and "意见" in refuse.json()["message"]
    )
    ok = approver.post(
        f"/api/workflow/tasks/{review['id']}/complete",
        {"outcome": "approve", "opinion": "材料齐全"},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["status"] == "done"
    again = approver.post(
        f"/api/workflow/tasks/{review['id']}/complete",
        {"outcome": "approve", "opinion": "材料齐全"},
        content_type="application/json",
    )
    assert again.status_code == 422 and again.json()["code"] == "task-not-open"

    # 人社's approver sees only 人社's branch; 自然资源's approver cannot open it.
    hrss = _client(wf.staff(item.hrss, "approver"))
    planner = _client(wf.staff(item.planning, "approver"))
    (hrss_task,) = hrss.get("/api/workflow/tasks").json()
    assert hrss_task["department"].endswith("人力资源和社会保障局")
    assert planner.get(f"/api/workflow/tasks/{hrss_task['id']}").status_code == 404
    assert planner.post(f"/api/workflow/tasks/{hrss_task['id']}/claim").status_code == 404

    pause = planner.post(
        f"/api/workflow/cases/{app.pk}/pause",
        {"kind": "testing", "reason": "需委托检测"},
        content_type="application/json",
    )
    assert pause.status_code == 200 and pause.json()["status"] == "paused"
    assert (
        planner.post(
            f"/api/workflow/cases/{app.pk}/pause",
            {"kind": "testing", "reason": "x"},
            content_type="application/json",
        ).json()["code"]
        == "already-paused"
    )
    assert planner.post(f"/api/workflow/cases/{app.pk}/resume").json()["status"] == "in_progress"
    too_long = planner.post(
        f"/api/workflow/cases/{app.pk}/extensions",
        {"days": 16, "reason": "x"},
        content_type="application/json",
    )
    assert too_long.status_code == 422 and too_long.json()["code"] == "extension-beyond-limit"
    ext = planner.post(
        f"/api/workflow/cases/{app.pk}/extensions",
        {"days": 5, "reason": "检测周期长"},
        content_type="application/json",
    )
    assert ext.status_code == 201
    head = _client(wf.staff(item.planning, "department_head"))
    # 自然资源's head is not the implementing department's head: the extension is 住建's to approve.
    assert head.post(
        f"/api/workflow/extensions/{ext.json()['id']}/decide",
        {"approve": True},
        content_type="application/json",
    ).status_code in (403, 404)
    housing_head = _client(wf.staff(item.housing, "department_head"))
    decided = housing_head.post(
        f"/api/workflow/extensions/{ext.json()['id']}/decide",
        {"approve": True, "note": "同意"},
        content_type="application/json",
    )
    assert decided.json()["status"] == "approved"
    process = housing_head.get(f"/api/workflow/cases/{app.pk}").json()
    assert (
        process["extension_days"] == 5
        and len(process["tasks"]) == 4
        and process["pauses"][0]["kind"] == "testing"
    )


def test_workbench_pages_claim_and_decide(calendar_2026, clock):
    item = wf.parallel_item()
    app = item.accepted()
    approver_user = wf.staff(item.housing, "approver")
    approver = _client(approver_user)
    page = approver.get("/workbench/tasks/").content.decode()
    assert (
        app.case_number in page
        and "受理审查" in page
        and ("绿灯" in page or "黄灯" in page or "红灯" in page)
    )
    task = Task.objects.get(application=app, status=TaskStatus.OPEN)
    detail = approver.get(f"/workbench/tasks/{task.pk}/").content.decode()
    assert "签收" in detail and "申请材料" in detail and "办理过程" in detail
    approver.post(f"/workbench/tasks/{task.pk}/", {"action": "claim"})
    response = approver.post(f"/workbench/tasks/{task.pk}/", {"action": "refuse", "opinion": ""}, follow=True)
    assert "不同意或退回须填写办理意见" in response.content.decode()
    approver.post(f"/workbench/tasks/{task.pk}/", {"action": "approve", "opinion": "齐全"})
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    outsider = _client(wf.staff(item.planning, "approver"))
    own = Task.objects.get(application=app, department=item.housing, status=TaskStatus.OPEN)
    assert outsider.get(f"/workbench/tasks/{own.pk}/").status_code == 404
    citizen = Client()
    citizen.force_login(app.owner)
    assert citizen.get("/workbench/tasks/").status_code in (302, 403)
    app.refresh_from_db()
    assert app.status == Status.IN_PROGRESS


def test_applicant_sees_the_step_and_downloads_the_decision(calendar_2026, clock):
    item = wf.parallel_item()
    app = item.accepted()
    citizen = Client()
    citizen.force_login(app.owner)
    page = citizen.get(f"/cases/a/{app.pk}/").content.decode()
    assert "当前环节" in page and "受理审查" in page
    from tongban.workflow import services
    from tongban.workflow.models import Outcome

    head = wf.staff(item.housing, "department_head")
    for user in (head, wf.staff(item.planning, "approver"), wf.staff(item.hrss, "approver"), head, head):
        for task in Task.objects.filter(application=app, status=TaskStatus.OPEN):
            if services.can_handle(user, task) and task.stage != "deliver":
                services.complete_task(task, user=user, outcome=Outcome.APPROVE, opinion="同意")
    app.refresh_from_db()
    assert app.status == Status.DECIDED
    page = citizen.get(f"/cases/a/{app.pk}/").content.decode()
    assert "准予许可" in page
    doc = app.results.first()
    response = citizen.get(f"/workbench/tasks/results/{doc.pk}.pdf")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    stranger = Client()
    stranger.force_login(wf.cf.citizen().user)
    assert stranger.get(f"/workbench/tasks/results/{doc.pk}.pdf").status_code == 404


def test_the_process_view_reads_no_personal_data_and_shows_the_task_lights(calendar_2026, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    item = wf.parallel_item()
    app = item.accepted()
    approver = _client(wf.staff(item.housing, "approver"))
    listed = {t["id"]: t["light"] for t in approver.get("/api/workflow/tasks").json()}
    with CaptureQueriesContext(connection) as ctx:
        process = approver.get(f"/api/workflow/cases/{app.pk}").json()
    case_reads = [q["sql"] for q in ctx.captured_queries if 'FROM "cases_application"' in q["sql"]]
    assert case_reads
    for column in ("applicant_id_number", "applicant_phone", "form_data"):
        assert not [sql for sql in case_reads if f'"cases_application"."{column}"' in sql], column
    shown = {t["id"]: t["light"] for t in process["tasks"] if t["id"] in listed}
    assert shown and shown == listed
