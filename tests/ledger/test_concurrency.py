"""Appends under real concurrency (PostgreSQL): per-case serialisation, no global lock, commits in between."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from tests.concurrency import run_together
from tests.ledger.factories import submitted_case
from tongban.cases import services as cases
from tongban.cases.models import Application, CaseEvent
from tongban.ledger import services
from tongban.ledger.models import ChainLink

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite", reason="SQLite serialises writers; row locks need PostgreSQL"
    ),
]


def _note(app_id: int, text: str) -> CaseEvent:
    """An event recorded by a caller that does *not* hold the case's row lock."""
    with transaction.atomic():
        app = Application.objects.get(pk=app_id)
        return cases.record_case_event(app, "note", app.status, reason=text)


def test_concurrent_events_of_one_case_form_one_chain_while_commits_run():
    app, _ = submitted_case()
    other, _ = submitted_case()
    jobs = [lambda i=i: _note(app.pk if i % 2 else other.pk, f"并发记录{i}") for i in range(10)]
    jobs += [services.commit_now, services.commit_now]
    results = run_together(jobs)
    assert not [r for r in results if isinstance(r, Exception)], results
    services.commit_now()
    for case in (app, other):
        seqs = list(ChainLink.objects.filter(application=case).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, CaseEvent.objects.filter(application=case).count() + 1))
        result = services.verify_case(case)
        assert result.ok and result.pending == 0, result.problems
    assert not ChainLink.objects.filter(committed_in__isnull=True).exists()
    assert services.verify_store().ok


def test_appends_to_another_case_do_not_wait_for_a_locked_case():
    locked, _ = submitted_case()
    free, _ = submitted_case()
    holding = threading.Event()
    release = threading.Event()

    def hold_lock():
        from django.db import connections

        try:
            with transaction.atomic():
                Application.objects.select_for_update().get(pk=locked.pk)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert holding.wait(10)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            event = _note(free.pk, "另一个办件")
        assert ChainLink.objects.filter(event=event).exists()
    finally:
        release.set()
        holder.join()
