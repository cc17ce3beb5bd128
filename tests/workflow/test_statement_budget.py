"""How many SQL statements an approver's step costs once the session is warm (bench/README.md:
the load benchmark's task completions): open the case's process, sign for the task, complete it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.cases import factories as f
from tests.cases.test_statement_budget import _submitted
from tests.catalog.factories import login_staff
from tests.workflow import factories as wf
from tongban.cases import services

# Outside a test transaction, as on a server: the process's calendar copy is used (inside one
# every request would read the calendar tables, six statements more).
pytestmark = pytest.mark.django_db(transaction=True)

#: Steady state on PostgreSQL; BEGIN, COMMIT and savepoints not counted. 40 before the narrow
#: access reads, the process page without a second read of the case, the calendar copy and the
#: cached two-factor device.
STEP_BUDGET = 27


def _step(client: Client, app_pk: int) -> None:
    process = client.get(f"/api/workflow/cases/{app_pk}").json()
    (task,) = [t for t in process["tasks"] if t["status"] == "open"]
    assert client.post(f"/api/workflow/tasks/{task['id']}/claim").json()["status"] == "claimed"
    done = client.post(
        f"/api/workflow/tasks/{task['id']}/complete",
        {"outcome": "approve", "opinion": "材料齐全，同意。"},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "done"


def test_an_approvers_step_stays_within_its_statement_budget(calendar_2026):
    impl, person = f.item(), f.citizen()
    clerk = f.clerk(impl.organisation)
    first, second = (
        services.accept(services.submit(_submitted(impl, person)), clerk=clerk) for _ in range(2)
    )
    approver = Client()
    login_staff(approver, wf.staff(impl.organisation, "approver"))
    _step(approver, first.pk)  # warms up
    with CaptureQueriesContext(connection) as ctx:
        _step(approver, second.pk)
    statements = [
        q["sql"]
        for q in ctx.captured_queries
        if "SAVEPOINT" not in q["sql"] and q["sql"] not in ("BEGIN", "COMMIT")
    ]
    assert len(statements) <= STEP_BUDGET, "\n".join(statements)
    assert not [s for s in statements if "django_session" in s or "auth_permission" in s]
