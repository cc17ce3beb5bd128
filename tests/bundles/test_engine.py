"""End to end with the real back office: one-window acceptance starts every department's process,
each department finishes its own tasks, and the bundle completes with the last of them."""

from __future__ import annotations

import pytest

from tests.accounts.helpers import make_staff
from tests.bundles.test_services import _lead_clerk, _submitted
from tongban.bundles import services
from tongban.bundles.models import BundleStatus
from tongban.cases.models import Message, Status
from tongban.workflow import services as workflow
from tongban.workflow.models import Outcome, ResultDocument, Task, TaskStatus

pytestmark = pytest.mark.django_db


def _finish_in_department(app, *, refuse: bool = False) -> None:
    """The department's head and window clerk take every open task of ``app`` to the end."""
    tag = f"{app.department.pk}-{app.pk}"
    head = make_staff(
        username=f"head-{tag}", department=app.department, roles=("approver", "department_head")
    )
    clerk = make_staff(username=f"wc-{tag}", department=app.department, roles=("window_clerk",))
    for _ in range(12):
        open_tasks = list(
            Task.objects.filter(application=app, status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED])
        )
        if not open_tasks:
            return
        for task in open_tasks:
            if task.stage == "deliver":
                workflow.complete_task(task, user=clerk, outcome=Outcome.APPROVE, handover="electronic")
            elif workflow.can_handle(head, task):
                decide = refuse and task.stage == "decide"
                workflow.complete_task(
                    task,
                    user=head,
                    outcome=Outcome.REFUSE if decide else Outcome.APPROVE,
                    opinion="不符合法定条件" if decide else "同意",
                )
    raise AssertionError(
        f"{app} did not finish: {list(Task.objects.filter(application=app).values('name', 'status'))}"
    )


def test_three_departments_in_parallel_then_one_result():
    bc = _submitted()
    services.accept_all(bc, clerk=_lead_clerk(bc))
    apps = services.children(bc)
    assert all(a.status == Status.IN_PROGRESS and a.process_version_id for a in apps)
    # every department has its own first task open at the same time (parallel, not sequential)
    assert {t.department_id for t in Task.objects.filter(status=TaskStatus.OPEN)} == {
        a.department_id for a in apps
    }

    _finish_in_department(apps[2])
    _finish_in_department(apps[0])
    bc.refresh_from_db()
    assert bc.status == BundleStatus.IN_PROGRESS
    _finish_in_department(apps[1])
    bc.refresh_from_db()
    assert bc.status == BundleStatus.COMPLETED
    assert all(a.status == Status.COMPLETED for a in services.children(bc))
    text = bc.result_file.read()
    assert text.startswith(b"%PDF")
    assert ResultDocument.objects.filter(kind=ResultDocument.Kind.BUNDLE).count() == 1
    assert Message.objects.filter(title__startswith="一件事").count() == 1


def test_a_department_refusing_makes_the_bundle_partly_refused():
    bc = _submitted(third=False)
    services.accept_all(bc, clerk=_lead_clerk(bc))
    first, second = services.children(bc)
    _finish_in_department(first)
    _finish_in_department(second, refuse=True)
    bc.refresh_from_db()
    assert bc.status == BundleStatus.PARTLY_REFUSED
