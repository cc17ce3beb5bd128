"""The back office end to end: three departments in parallel across the 2026 National Day holiday,
with a pause (专家评审) and an approved extension; every date below is counted by hand from the
official schedule (中秋 09-25, 国庆 10-01..07, make-up workday Saturday 10-10)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.workflow import factories as wf
from tongban.cases.models import Application, Decision, Status
from tongban.workflow import services
from tongban.workflow.lights import Light, annotate_light
from tongban.workflow.models import Extension, Outcome, PauseKind, ResultDocument, Task, TaskStatus

pytestmark = pytest.mark.django_db
D = dt.date


def _open(app, department=None) -> list[Task]:
    qs = Task.objects.filter(application=app, status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED])
    if department is not None:
        qs = qs.filter(department=department)
    return list(qs.order_by("id"))


def test_parallel_case_across_the_holiday_with_a_pause_and_an_extension(calendar_2026, clock):
    item = wf.parallel_item()
    clock.set(D(2026, 9, 23))  # Wednesday: received and accepted
    app = item.accepted()
    assert app.status == Status.IN_PROGRESS and app.process_version.definition == item.definition
    # 20 working days from the day after receipt: 09-24, 09-28 … 10-08, 10-09, 10-10 (Sat) … 10-28.
    assert app.deadline == D(2026, 10, 28) and app.promised_deadline == D(2026, 10, 8)
    (review,) = _open(app)
    assert review.name == "受理审查" and review.due_date == D(2026, 9, 24)  # 20% of the 5-day promise

    approver = wf.staff(item.housing, "approver")
    clock.set(D(2026, 9, 24))
    services.claim(review, user=approver)
    services.complete_task(review, user=approver, outcome=Outcome.APPROVE, opinion="材料齐全")
    branches = _open(app)
    assert {t.department for t in branches} == {item.housing, item.planning, item.hrss}
    # 50% of 5 = 3 working days after 09-24 (09-25 is 中秋): 09-28, 09-29, 09-30.
    assert {t.due_date for t in branches} == {D(2026, 9, 30)}
    lights = dict(
        annotate_light(Task.objects.filter(pk=branches[0].pk), "due_date", today=D(2026, 9, 24)).values_list(
            "pk", "light"
        )
    )
    assert lights[branches[0].pk] == Light.GREEN
    lights = dict(
        annotate_light(Task.objects.filter(pk=branches[0].pk), "due_date", today=D(2026, 9, 28)).values_list(
            "pk", "light"
        )
    )
    assert lights[branches[0].pk] == Light.YELLOW  # 09-30 is within 2 working days of 09-28

    # 自然资源 needs an expert review (特别程序): the clock stops on 09-28 …
    planner = wf.staff(item.planning, "approver")
    clock.set(D(2026, 9, 28))
    pause = services.start_pause(app, user=planner, kind=PauseKind.EXPERT_REVIEW, reason="规划条件需专家论证")
    assert pause.notice.name.endswith(".pdf")  # the applicant is told in writing
    (planning_task,) = _open(app, item.planning)
    with pytest.raises(ValidationError) as error:
        services.complete_task(planning_task, user=planner, outcome=Outcome.APPROVE)
    assert error.value.code == "case-paused"
    # … and runs again on 10-09: 09-29, 09-30, 10-08, 10-09 are not counted.
    clock.set(D(2026, 10, 9))
    pause = services.end_pause(app, user=planner)
    app.refresh_from_db()
    assert pause.working_days == 4 and app.paused_working_days == 4
    assert app.deadline == D(2026, 11, 3) and app.promised_deadline == D(2026, 10, 13)
    assert {t.due_date for t in _open(app)} == {D(2026, 10, 12)}  # 09-30 + 4 working days

    # Extension: asked by staff, approved by the head; joint handling allows at most 15 more days.
    head = wf.staff(item.housing, "department_head")
    ext = services.request_extension(app, user=approver, days=10, reason="现场核查需要补充勘验")
    with pytest.raises(PermissionDenied):
        services.decide_extension(ext, head=approver, approve=True)  # only a department head
    ext = services.decide_extension(ext, head=head, approve=True, note="同意")
    app.refresh_from_db()
    assert ext.status == Extension.State.APPROVED and app.extension_days == 10
    assert app.deadline == D(2026, 11, 17)  # 34 working days after 09-23
    with pytest.raises(ValidationError) as error:
        services.request_extension(app, user=approver, days=6, reason="再次延期")
    assert error.value.code == "extension-beyond-limit" and "最多可延长15个工作日" in error.value.messages[0]
    app.refresh_from_db()
    assert app.extension_days == 10 and app.deadline == D(2026, 11, 17)

    # Each department handles its own branch; another department's approver cannot.
    clock.set(D(2026, 10, 12))
    hrss_approver = wf.staff(item.hrss, "approver")
    (hrss_task,) = _open(app, item.hrss)
    with pytest.raises(PermissionDenied):
        services.claim(hrss_task, user=planner)
    assert hrss_task not in services.task_queue(planner) and hrss_task in services.task_queue(hrss_approver)
    for user, dept in ((approver, item.housing), (planner, item.planning)):
        (task,) = _open(app, dept)
        services.complete_task(task, user=user, outcome=Outcome.APPROVE, opinion="同意")
        assert not Task.objects.filter(application=app, stage="decide").exists()  # the join waits
    services.complete_task(hrss_task, user=hrss_approver, outcome=Outcome.APPROVE, opinion="保证金已缴存")
    with pytest.raises(ValidationError) as error:
        services.complete_task(hrss_task, user=hrss_approver, outcome=Outcome.APPROVE, opinion="again")
    assert error.value.code == "task-not-open"
    (decide,) = _open(app)
    assert decide.stage == "decide" and decide.due_date == D(2026, 10, 14)

    clock.set(D(2026, 10, 13))
    services.complete_task(decide, user=head, outcome=Outcome.APPROVE, opinion="符合法定条件，准予施工许可")
    app.refresh_from_db()
    assert app.status == Status.DECIDED and app.decision == Decision.APPROVED
    approval = app.results.get(kind=ResultDocument.Kind.APPROVAL)
    assert approval.file.read().startswith(b"%PDF") and len(approval.sha256) == 64

    clock.set(D(2026, 10, 14))
    clerk = wf.staff(item.housing, "window_clerk")
    (deliver,) = _open(app)
    with pytest.raises(ValidationError) as error:
        services.complete_task(deliver, user=clerk, outcome=Outcome.APPROVE)
    assert error.value.code == "handover-missing"
    services.complete_task(deliver, user=clerk, outcome=Outcome.APPROVE, handover="window")
    app.refresh_from_db()
    assert app.status == Status.COMPLETED and app.on_time
    # (09-23, 10-14] has 10 working days, 4 of them paused.
    assert app.handling_working_days == 6 and app.visits == 1
    assert app.results.filter(handed_over_at__isnull=True).count() == 0
    actions = list(app.events.values_list("action", flat=True))
    for action in (
        "accept",
        "process_started",
        "pause",
        "resume",
        "extension_approved",
        "decide",
        "complete",
    ):
        assert action in actions


def test_first_refusal_cancels_the_other_branches(calendar_2026, clock):
    item = wf.parallel_item(policy="first_refusal")
    app = item.accepted()
    approver = wf.staff(item.housing, "approver")
    (review,) = _open(app)
    services.complete_task(review, user=approver, outcome=Outcome.APPROVE, opinion="齐全")
    planner = wf.staff(item.planning, "approver")
    (planning_task,) = _open(app, item.planning)
    with pytest.raises(ValidationError) as error:
        services.complete_task(planning_task, user=planner, outcome=Outcome.REFUSE)
    assert error.value.code == "opinion-required"
    services.complete_task(
        planning_task, user=planner, outcome=Outcome.REFUSE, opinion="不符合控制性详细规划"
    )
    assert Task.objects.filter(application=app, status=TaskStatus.CANCELLED).count() == 2
    (decide,) = _open(app)
    head = wf.staff(item.housing, "department_head")
    services.complete_task(decide, user=head, outcome=Outcome.REFUSE, opinion="规划核验不通过，依法不予许可")
    app.refresh_from_db()
    assert app.decision == Decision.REFUSED
    refusal = app.results.get(kind=ResultDocument.Kind.REFUSAL)
    assert refusal.file.read().startswith(b"%PDF")


def test_return_to_an_earlier_step_reopens_it_and_cancels_open_work(calendar_2026, clock):
    item = wf.parallel_item()
    app = item.accepted()
    approver = wf.staff(item.housing, "approver")
    (review,) = _open(app)
    services.complete_task(review, user=approver, outcome=Outcome.APPROVE, opinion="齐全")
    (own,) = _open(app, item.housing)
    with pytest.raises(ValidationError) as error:
        services.complete_task(
            own, user=approver, outcome=Outcome.RETURN, opinion="重新审查", return_to="decide"
        )
    assert error.value.code == "return-target-invalid"
    services.complete_task(
        own, user=approver, outcome=Outcome.RETURN, opinion="受理审查遗漏图纸", return_to="review"
    )
    (reopened,) = _open(app)
    assert reopened.node_key == "review" and reopened.pk != review.pk
    assert Task.objects.filter(application=app, status=TaskStatus.CANCELLED).count() == 2


def test_two_approvers_cannot_both_complete_a_claimed_task(calendar_2026, clock):
    item = wf.parallel_item()
    app = item.accepted()
    first, second = wf.staff(item.housing, "approver"), wf.staff(item.housing, "approver")
    (review,) = _open(app)
    services.claim(review, user=first)
    with pytest.raises(ValidationError) as error:
        services.claim(review, user=second)
    assert error.value.code == "task-not-open"
    with pytest.raises(ValidationError) as error:
        services.complete_task(review, user=second, outcome=Outcome.APPROVE, opinion="x")
    assert error.value.code == "task-claimed-by-other"
    review.refresh_from_db()
    assert review.status == TaskStatus.CLAIMED and review.assignee == first


def test_a_running_case_keeps_its_version(calendar_2026, clock):
    item = wf.parallel_item()
    app = item.accepted()
    pinned = app.process_version
    from tongban.workflow import defaults

    newer = wf.publish(item.definition, defaults.default_graph())
    app.refresh_from_db()
    assert app.process_version == pinned and services.graph_for(app).start == "review"
    assert "joint" in services.graph_for(app).nodes
    later = item.accepted()
    assert later.process_version == newer and "joint" not in services.graph_for(later).nodes


def test_out_of_order_transitions_change_nothing(calendar_2026, clock):
    item = wf.parallel_item()
    app = item.accepted()
    user = wf.staff(item.housing, "approver")
    with pytest.raises(ValidationError) as error:
        services.end_pause(app, user=user)
    assert error.value.code == "not-paused"
    with pytest.raises(ValidationError) as error:
        services.start_pause(app, user=user, kind="holiday", reason="x")
    assert error.value.code == "pause-kind-invalid"
    with pytest.raises(ValidationError) as error:
        services.request_extension(app, user=user, days=16, reason="太长")
    assert error.value.code == "extension-beyond-limit"
    before = (Application.objects.get(pk=app.pk).deadline, app.events.count())
    with pytest.raises(ValidationError):
        services.request_extension(app, user=user, days=0, reason="")
    assert (Application.objects.get(pk=app.pk).deadline, app.events.count()) == before


def test_default_process_for_items_without_one(calendar_2026, clock):
    from tests.cases import factories as cf

    impl = cf.item()
    person = cf.citizen()
    from tongban.cases import services as cases

    app = cases.start_application(implementation=impl, owner=person.user, person=person)
    cases.save_draft(app, answers={"agent": "no", "premises": "own"})
    cases.upload_material(app, cf.material(impl, "食品经营许可申请书").pk, cf.pdf())
    app = cases.accept(cases.submit(app), clerk=cf.clerk(impl.organisation))
    assert app.process_version.definition.key == "default-promised"
    assert [t.name for t in _open(app)] == ["审查"]


def test_posted_result_gets_a_waybill_and_needs_an_address(calendar_2026, clock):
    item = wf.parallel_item()
    app = item.accepted()
    head = wf.staff(item.housing, "department_head")
    for user in (head, wf.staff(item.planning, "approver"), wf.staff(item.hrss, "approver"), head, head):
        for task in _open(app):
            if services.can_handle(user, task) and task.stage != "deliver":
                services.complete_task(task, user=user, outcome=Outcome.APPROVE, opinion="同意")
    (deliver,) = _open(app)
    clerk = wf.staff(item.housing, "window_clerk")
    with pytest.raises(ValidationError) as error:
        services.complete_task(deliver, user=clerk, outcome=Outcome.APPROVE, handover="post")
    assert error.value.code == "address-missing"
    deliver.refresh_from_db()
    assert deliver.status == TaskStatus.OPEN  # nothing half-written
    services.complete_task(
        deliver, user=clerk, outcome=Outcome.APPROVE, handover="post", address="六安市金安区梅山南路18号"
    )
    app.refresh_from_db()
    doc = app.results.get()
    assert app.status == Status.COMPLETED and app.visits == 0
    assert doc.handover_method == "post" and doc.handover_reference.startswith("TB")
    assert doc.handover_reference in app.events.get(action="hand_over").data["reference"]
