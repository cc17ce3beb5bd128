"""Integrity after a load run: every case's history chain, no lost submissions, no duplicate
cases, no half-written states. In SQL over the whole table (fast at 1M too), plus the ids the load
generator saw succeed::

    python -m bench.integrity --run RESULT.json [--run …]   # JSON on stdout

When the ledger app exists, its own verification (SM3 hash chain) is run as well.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from bench.common import django_setup

#: (key, description, SQL returning the number of offending rows). Table names are filled in.
CHECKS = [
    (
        "no_history",
        "cases without any history event",
        "SELECT COUNT(*) FROM {app} a WHERE NOT EXISTS (SELECT 1 FROM {ev} e WHERE e.application_id = a.id)",
    ),
    (
        "chain_start",
        "history not starting with 'create' from nothing",
        "SELECT COUNT(*) FROM {ev} e JOIN (SELECT MIN(id) AS id FROM {ev} GROUP BY application_id) f "
        "ON f.id = e.id WHERE NOT (e.action = 'create' AND e.from_status = '')",
    ),
    (
        "chain_links",
        "events whose from-status is not the previous event's to-status",
        "SELECT COUNT(*) FROM (SELECT from_status, LAG(to_status) OVER (PARTITION BY application_id "
        "ORDER BY id) AS prev FROM {ev}) c WHERE c.prev IS NOT NULL AND c.prev <> c.from_status",
    ),
    (
        "chain_end",
        "cases whose status is not their last event's to-status",
        "SELECT COUNT(*) FROM {app} a JOIN (SELECT application_id, MAX(id) AS id FROM {ev} "
        "GROUP BY application_id) l ON l.application_id = a.id JOIN {ev} e ON e.id = l.id "
        "WHERE e.to_status <> a.status",
    ),
    (
        "half_submitted",
        "submitted (or later) without submission time, receipt date or round",
        "SELECT COUNT(*) FROM {app} WHERE status <> 'draft' AND (submitted_at IS NULL OR "
        "received_date IS NULL OR round < 1)",
    ),
    (
        "half_accepted",
        "accepted without case number, acceptance time or (with a time limit) deadline",
        "SELECT COUNT(*) FROM {app} WHERE status IN ('accepted', 'accepted_with_gaps', 'in_progress', "
        "'paused', 'decided', 'completed') AND "
        "(case_number IS NULL OR accepted_at IS NULL OR (legal_limit_days IS NOT NULL AND deadline IS NULL))",
    ),
    (
        "half_refused",
        "refused without a reason",
        "SELECT COUNT(*) FROM {app} WHERE status = 'refused' AND refusal_reason = ''",
    ),
    (
        "half_completed",
        "completed without completion time",
        "SELECT COUNT(*) FROM {app} WHERE status = 'completed' AND completed_at IS NULL",
    ),
    (
        "duplicate_case_numbers",
        "case numbers used twice",
        "SELECT COUNT(*) FROM (SELECT case_number FROM {app} WHERE case_number IS NOT NULL "
        "GROUP BY case_number HAVING COUNT(*) > 1) d",
    ),
    (
        "duplicate_idempotency",
        "two cases for one (account, idempotency key)",
        "SELECT COUNT(*) FROM (SELECT owner_id, idempotency_key FROM {app} WHERE idempotency_key <> '' "
        "GROUP BY owner_id, idempotency_key HAVING COUNT(*) > 1) d",
    ),
    (
        "double_acceptance",
        "cases accepted more than once",
        "SELECT COUNT(*) FROM (SELECT application_id FROM {ev} WHERE action IN ('accept', 'deemed_accept', "
        "'accept_with_gaps') GROUP BY application_id HAVING COUNT(*) > 1) d",
    ),
]

#: With the back-office workflow: tasks and case status agree.
WORKFLOW_CHECKS = [
    (
        "running_without_task",
        "cases in handling (审批中/已决定) without an open task",
        "SELECT COUNT(*) FROM {app} a WHERE a.status IN ('in_progress', 'decided') AND NOT EXISTS "
        "(SELECT 1 FROM {task} t WHERE t.application_id = a.id AND t.status IN ('open', 'claimed'))",
    ),
    (
        "open_task_on_closed_case",
        "open tasks of cases no longer in handling",
        "SELECT COUNT(*) FROM {task} t JOIN {app} a ON a.id = t.application_id WHERE t.status IN "
        "('open', 'claimed') AND a.status NOT IN ('in_progress', 'paused', 'decided')",
    ),
]

#: Extra verifications ``() -> {"ok": bool, ...}`` (the ledger's, when present).
VERIFIERS: list[tuple[str, Callable[[], dict]]] = []


def run_checks(submitted: list[int], accepted: list[int]) -> dict:
    from django.apps import apps
    from django.db import connection

    from tongban.cases.models import Application, CaseEvent

    names = {"app": Application._meta.db_table, "ev": CaseEvent._meta.db_table}
    checks = list(CHECKS)
    if apps.is_installed("tongban.workflow"):
        from tongban.workflow.models import Task

        names["task"] = Task._meta.db_table
        checks += WORKFLOW_CHECKS
    out: dict[str, dict] = {}
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {names['app']}")
        cases = cur.fetchone()[0]
        cur.execute(f"SELECT COUNT(*) FROM {names['ev']}")
        events = cur.fetchone()[0]
        for key, label, sql in checks:
            cur.execute(sql.format(**names))
            out[key] = {"label": label, "bad": cur.fetchone()[0]}
    # What the load generator was told succeeded must be in the database, exactly once.
    stored = set(
        CaseEvent.objects.filter(application_id__in=set(submitted), action="submit")
        .exclude(application__status="draft")
        .values_list("application_id", flat=True)
    )
    lost = len(set(submitted) - stored)
    out["lost_submissions"] = {"label": "submissions confirmed to the client but not stored", "bad": lost}
    stored = set(
        Application.objects.filter(pk__in=set(accepted), case_number__isnull=False)
        .exclude(status__in=["draft", "submitted", "correction_requested", "refused"])
        .values_list("pk", flat=True)
    )
    out["lost_acceptances"] = {
        "label": "acceptances confirmed to the client but not stored",
        "bad": len(set(accepted) - stored),
    }
    out["client_duplicates"] = {
        "label": "the same case confirmed twice to the client",
        "bad": (len(submitted) - len(set(submitted))) + (len(accepted) - len(set(accepted))),
    }
    for key, verify in VERIFIERS:
        try:
            result = verify()
        except Exception as exc:
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out[key] = {"label": key, "bad": 0 if result.get("ok") else 1, "detail": result}
    return {
        "cases": cases,
        "events": events,
        "checked_submitted": len(submitted),
        "checked_accepted": len(accepted),
        "checks": out,
        "ok": all(v["bad"] == 0 for v in out.values()),
    }


def _ledger() -> dict:
    """The SM3 hash chains of every case and the Merkle commits (tongban.ledger.verify_store)."""
    from tongban.ledger.services import verify_store

    report = verify_store()
    return {
        "ok": report.tampered_cases == 0,
        "cases": report.cases,
        "links": report.links,
        "tampered_cases": report.tampered_cases,
        "problems": [f"{ref}: {problem}" for ref, problem in report.problems[:5]],
    }


def install_verifiers() -> None:
    from django.apps import apps

    if apps.is_installed("tongban.ledger") and not any(k == "ledger" for k, _ in VERIFIERS):
        VERIFIERS.append(("ledger", _ledger))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", action="append", default=[], help="load result JSON (ids the client saw)")
    args = parser.parse_args(argv)
    django_setup()
    install_verifiers()
    submitted: list[int] = []
    accepted: list[int] = []
    for path in args.run:
        with open(path, encoding="utf-8") as fh:
            result = json.load(fh)
        submitted += result.get("submitted_ids", [])
        accepted += result.get("accepted_ids", [])
    print(json.dumps(run_checks(submitted, accepted), ensure_ascii=False))


if __name__ == "__main__":
    main()
