"""A state change writes its case events together, chained and audited, or not at all."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workflow import factories as wf
from tongban.cases import services as cases
from tongban.cases.models import CaseEvent
from tongban.core.models import AuditEvent
from tongban.ledger import services as ledger
from tongban.ledger.models import ChainLink
from tongban.workflow import services as workflow

pytestmark = pytest.mark.django_db


def _inserts(ctx, table: str) -> int:
    return sum(q["sql"].startswith(f'INSERT INTO "{table}"') for q in ctx.captured_queries)


def test_a_step_opening_parallel_branches_writes_its_events_in_one_statement_each(calendar_2026, clock):
    item = wf.parallel_item()
    app = item.accepted()
    approver = wf.staff(item.housing, "approver")
    review = workflow.task_queue(approver).get()
    before = CaseEvent.objects.filter(application=app).count()
    with CaptureQueriesContext(connection) as ctx:
        workflow.complete_task(review, user=approver, outcome="approve", opinion="材料齐全")
    new = list(CaseEvent.objects.filter(application=app).order_by("id")[before:])
    assert [e.action for e in new] == ["task_completed", "task_opened", "task_opened", "task_opened"]
    assert _inserts(ctx, "cases_caseevent") == 1
    assert _inserts(ctx, "ledger_chainlink") == 1
    assert _inserts(ctx, "core_auditevent") == 1
    assert AuditEvent.objects.filter(action="cases.task_opened", object_id=str(app.pk)).count() >= 3
    links = list(ChainLink.objects.filter(application=app).order_by("seq"))
    assert [link.event_id for link in links][-4:] == [e.pk for e in new]
    assert ledger.verify_case(app).ok


def test_a_failed_state_change_leaves_no_event_link_or_audit_row(calendar_2026, clock):
    item = wf.parallel_item()
    app = item.accepted()
    counts = (CaseEvent.objects.count(), ChainLink.objects.count(), AuditEvent.objects.count())
    with pytest.raises(RuntimeError), cases.state_change():
        cases.record_case_event(app, "task_claimed", app.status, data={"task": 0})
        raise RuntimeError("断电")
    assert (CaseEvent.objects.count(), ChainLink.objects.count(), AuditEvent.objects.count()) == counts
    assert ledger.verify_case(app).ok


def test_outside_a_state_change_an_event_is_written_at_once(calendar_2026, clock):
    app = wf.parallel_item().accepted()
    event = cases.record_case_event(app, "task_claimed", app.status, data={"task": 0})
    assert event.pk is not None and ChainLink.objects.filter(event=event).exists()
