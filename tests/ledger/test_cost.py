"""Cost of the write path: one append = lock the case row, read the previous link, insert.

Run with ``-s`` to see the numbers (docs/ledger.md quotes them); the bound asserted here is loose.
"""

from __future__ import annotations

import statistics
import time

import pytest
from django.db import connection, transaction

from tests.ledger.factories import submitted_case
from tongban.cases.models import Application, CaseEvent
from tongban.ledger import services

pytestmark = pytest.mark.django_db

CASES = 25
EVENTS_PER_CASE = 40


def test_append_cost_per_event():
    apps = [submitted_case()[0] for _ in range(3)]
    apps += [Application.objects.create(**_copy(apps[0])) for _ in range(CASES - 3)]
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                application=app, action="note", from_status=app.status, to_status=app.status, reason=f"{i}"
            )
            for i in range(EVENTS_PER_CASE)
            for app in apps
        ]
    )
    events = list(CaseEvent.objects.filter(chain_link__isnull=True).order_by("id"))
    timings = []
    for event in events:
        with transaction.atomic():
            # The caller (a state change) already holds the case's row lock.
            list(Application.objects.select_for_update().filter(pk=event.application_id).values_list("pk"))
            start = time.perf_counter()
            services.append(event)
            timings.append(time.perf_counter() - start)
    micro = sorted(t * 1e6 for t in timings)
    median, p95 = statistics.median(micro), micro[int(len(micro) * 0.95)]
    start = time.perf_counter()
    commit = services.commit_now()
    commit_ms = (time.perf_counter() - start) * 1e3
    start = time.perf_counter()
    result = services.verify_case(apps[0])
    verify_ms = (time.perf_counter() - start) * 1e3
    assert result.ok and commit.leaf_count == CASES
    print(
        f"\n[ledger cost] {connection.vendor}: append median {median:.0f} µs, p95 {p95:.0f} µs "
        f"over {len(micro)} appends; commit of {commit.leaf_count} heads {commit_ms:.1f} ms; "
        f"verify_case ({result.event_count} events) {verify_ms:.1f} ms"
    )
    assert median < 20_000


def _copy(app: Application) -> dict:
    return {
        "owner_id": app.owner_id,
        "applicant_name": app.applicant_name,
        "implementation_id": app.implementation_id,
        "version_id": app.version_id,
        "region_id": app.region_id,
        "department_id": app.department_id,
        "status": app.status,
    }
