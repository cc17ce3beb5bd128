"""SQL statements per write path and per guide page: upper bounds, not timings.

bench/README.md found SQL round-trips to be the bottleneck (one acceptance issued 64
statements). These bounds keep the count from creeping back; lower them when a path gets
cheaper, raise them only with a reason. Run with ``-s`` to see the counts.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cases import factories as cf
from tests.workflow import factories as wf
from tongban.cases import services as cases
from tongban.workflow import services as workflow
from tongban.workflow.models import Outcome, Task, TaskStatus

pytestmark = pytest.mark.django_db

# Statements per call on SQLite (savepoints included); PostgreSQL adds one per case event (the
# ledger locks the case row before reading the previous link: see _bound). Before the
# 2026-11 cut: submit 14, accept 46, claim 14, complete 39 (opening three parallel tasks),
# guide 9. The acceptance now reads the calendar once (core.workdays.shared_calendar), the
# clerk's scope once (scope_for memoised on the user), and no longer fetches the owner row or
# a task's region row just to write their keys.
MAX_SUBMIT = 14
MAX_ACCEPT = 36
MAX_CLAIM = 13
MAX_COMPLETE = 32
MAX_GUIDE = 9
MAX_ACCEPT_PAGE = 44  # workbench POST (before: 55): session, OTP device, view + service checks


def _bound(sqlite: int, events: int) -> int:
    return sqlite + (events if connection.vendor == "postgresql" else 0)


@pytest.fixture
def today(monkeypatch, calendar_2026):
    day = dt.date(2026, 9, 23)
    for target in ("tongban.cases.services._today", "tongban.workflow.services._today"):
        monkeypatch.setattr(target, lambda: day)
    return day


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    print(f"{len(ctx.captured_queries)} statements")
    if __import__("os").environ.get("DUMPSQL"):
        for q in ctx.captured_queries:
            print("  ", q["sql"][:160])
    return len(ctx.captured_queries)


def _draft(impl):
    person = cf.citizen()
    app = cases.start_application(implementation=impl, owner=person.user, person=person)
    cases.save_draft(app, answers={"agent": "no", "premises": "own"})
    cases.upload_material(app, cf.material(impl, "食品经营许可申请书").pk, cf.pdf())
    return app


def test_submit(today):
    item = wf.parallel_item()
    app = _draft(item.impl)
    n = _count(lambda: cases.submit(app))
    assert n <= _bound(MAX_SUBMIT, events=1)


def test_accept(today):
    item = wf.parallel_item()
    clerk = wf.staff(item.housing, "window_clerk")
    app = item.submitted()
    # A fresh user object, as in a request: nothing memoised from the set-up.
    clerk = type(clerk).objects.get(pk=clerk.pk)
    n = _count(lambda: cases.accept(app, clerk=clerk))
    assert n <= _bound(MAX_ACCEPT, events=3)


def test_accept_page(today, client):
    from tests.catalog.factories import login_staff

    item = wf.parallel_item()
    clerk = wf.staff(item.housing, "window_clerk")
    app = item.submitted()
    login_staff(client, clerk)
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(f"/cases/workbench/{app.pk}/", {"action": "accept"})
    print(f"accept page: {len(ctx.captured_queries)} statements")
    if __import__("os").environ.get("DUMPSQL"):
        for q in ctx.captured_queries:
            print("  ", q["sql"][:160])
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.case_number
    assert len(ctx.captured_queries) <= _bound(MAX_ACCEPT_PAGE, events=3)


def test_claim_and_complete(today):
    item = wf.parallel_item()
    app = item.accepted()
    (task,) = Task.objects.filter(application=app, status=TaskStatus.OPEN)
    approver = wf.staff(item.housing, "approver")
    user = type(approver).objects.get(pk=approver.pk)
    assert _count(lambda: workflow.claim(task.pk, user=user)) <= _bound(MAX_CLAIM, events=1)
    user = type(approver).objects.get(pk=approver.pk)
    n = _count(
        lambda: workflow.complete_task(task.pk, user=user, outcome=Outcome.APPROVE, opinion="材料齐全")
    )
    assert n <= _bound(MAX_COMPLETE, events=4)
    assert Task.objects.filter(application=app, status=TaskStatus.OPEN).count() == 3


def test_guide_page(client):
    impl = cf.item()
    url = impl.get_absolute_url()
    client.get(url)  # warm-up: sessions, content types, first-request caches
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    print(f"guide: {len(ctx.captured_queries)} statements")
    if __import__("os").environ.get("DUMPSQL"):
        for q in ctx.captured_queries:
            print("  ", q["sql"][:250])
    assert response.status_code == 200
    assert len(ctx.captured_queries) <= MAX_GUIDE


def test_guide_qr_code_is_rendered_once_per_url(client, monkeypatch):
    import segno

    from tongban.catalog import views

    views._qr_svg_for.cache_clear()
    calls = []
    real = segno.make
    monkeypatch.setattr(views.segno, "make", lambda *a, **k: calls.append(a) or real(*a, **k))
    impl = cf.item()
    first = client.get(impl.get_absolute_url()).content.decode()
    second = client.get(impl.get_absolute_url()).content.decode()
    qr = views._qr_svg_for("http://testserver" + impl.get_absolute_url())
    assert len(calls) == 1 and qr in first and qr in second
    assert "http://testserver" + impl.get_absolute_url() in calls[0]


def test_queue_page_and_api_do_not_grow_with_the_queue(client):
    """The clerk's queue (page and API) costs the same statements for 5 or 40 waiting cases."""
    from tests.catalog.factories import login_staff
    from tests.supervision.factories import case
    from tongban.cases.models import Status

    impl = cf.item()
    login_staff(client, cf.clerk(impl.organisation))
    counts = []
    for waiting in (5, 40):
        while impl.applications.count() < waiting:
            case(impl, status=Status.SUBMITTED)
        for url in ("/cases/workbench/", "/api/cases/queue"):
            client.get(url)  # warm-up
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            assert response.status_code == 200
            counts.append(len(ctx.captured_queries))
    print(f"queue page / API with 5 and 40 cases: {counts}")
    assert counts[0] == counts[2] and counts[1] == counts[3]
    rows = client.get("/api/cases/queue").json()
    assert len(rows) == 40
    page = client.get("/api/cases/queue", {"offset": 30, "limit": 20}).json()
    assert [r["id"] for r in page] == [r["id"] for r in rows[30:]]
    too_many = client.get("/api/cases/queue", {"limit": 500})
    assert too_many.status_code == 422 and "200" in too_many.content.decode()
