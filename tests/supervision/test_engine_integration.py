"""With the real workflow engine: a parallel case accepted before National Day, its steps' lights,
the alerts they raise once, and the case page (steps against their share of the limit)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.workflow import factories as wf
from tests.workflow.conftest import Clock
from tongban.supervision import queries, services
from tongban.supervision.models import Alert, AlertLevel
from tongban.workflow import services as engine
from tongban.workflow.lights import Light
from tongban.workflow.models import Outcome, Task, TaskStatus

pytestmark = pytest.mark.django_db
D = dt.date


def test_parallel_case_lights_alerts_and_process(calendar_2026, monkeypatch):
    clock = Clock(monkeypatch)
    item = wf.parallel_item()
    head = wf.staff(item.housing, "department_head")
    housing_approver = wf.staff(item.housing, "approver")
    planner = wf.staff(item.planning, "approver")
    supervisor = wf.staff(item.housing, "supervisor")
    clock.set(D(2026, 9, 23))
    app = item.accepted()
    (review,) = Task.objects.filter(application=app, status=TaskStatus.OPEN)
    assert review.due_date == D(2026, 9, 24)
    # 09-24: the review step is due today (yellow); unclaimed, so the housing approvers and head hear
    assert services.scan_alerts(today=D(2026, 9, 24)) == 2
    assert set(Alert.objects.values_list("recipient", "level")) == {
        (housing_approver.pk, AlertLevel.NEAR_DUE),
        (head.pk, AlertLevel.NEAR_DUE),
    }
    clock.set(D(2026, 9, 24))
    engine.claim(review, user=housing_approver)
    engine.complete_task(review, user=housing_approver, outcome=Outcome.APPROVE, opinion="材料齐全")
    branches = list(Task.objects.filter(application=app, status=TaskStatus.OPEN))
    assert {t.due_date for t in branches} == {D(2026, 9, 30)}
    # after the holiday the three branches are overdue: 住建's approver and head, 自然资源's approver
    # (人社 has no staff on the platform here: nobody to tell)
    assert services.scan_alerts(today=D(2026, 10, 8)) == 3
    assert services.scan_alerts(today=D(2026, 10, 9)) == 0
    assert Alert.objects.filter(level=AlertLevel.OVERDUE, recipient=planner).count() == 1
    # the supervisor sees red steps and a green case (the statutory deadline is 10-28)
    lights = {
        t.department_id: t.light
        for t in queries.tasks(supervisor, queries.ListFilters(), today=D(2026, 10, 8))
    }
    assert set(lights.values()) == {Light.RED}
    data = queries.process(app, today=D(2026, 10, 8))
    assert data["light"] == Light.GREEN and app.deadline == D(2026, 10, 28)
    open_steps = [s for s in data["steps"] if s["finished_on"] is None]
    # opened 09-24, counted 09-28, 09-29, 09-30, 10-08: 4 working days against a 3-day share
    assert {(s["used_days"], s["limit_days"], s["over_limit"]) for s in open_steps} == {(4, 3, True)}
    labels = [e["label"] for e in data["events"]]
    assert "启动审批流程" in labels and "环节办结" in labels
