"""How many SQL statements the busiest requests cost once a clerk's session is warm: the load
benchmark (bench/README.md) found statements per request to be the bottleneck, so a change that
adds round trips to these paths should be a decision, not an accident."""

from __future__ import annotations

import contextlib
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.cases import factories as f
from tests.catalog.factories import login_staff
from tongban.cases import services

pytestmark = pytest.mark.django_db

#: Steady state on PostgreSQL (SQLite has no row locks: fewer); savepoints are not counted.
#: Before the write-path changes of bench/README.md an acceptance took 49, a submission 21;
#: 23 before the narrow access read, the cached process version and two-factor device and the
#: single case save; a submission 17 before a published version's situations and form were cached;
#: an acceptance 19 before a nested state change stopped taking a savepoint of its own.
ACCEPT_BUDGET = 17
SUBMIT_BUDGET = 14
#: Creating a draft with its answers: 14 while the answers were saved in a second transaction.
CREATE_BUDGET = 12
#: Cache (Redis) commands: the session, the identity snapshot, the two-factor device, the
#: generation numbers (one read for all of them), the process version and the form. Nine before
#: the generation numbers were read once per request.
ACCEPT_CACHE_BUDGET = 6

CACHE_COMMANDS = ("get", "get_many", "set", "set_many", "add", "incr", "delete", "delete_many")


@contextlib.contextmanager
def cache_commands():
    """Counts the cache commands sent (each is one round trip to Redis in production; the local
    cache of the tests builds some from others, which are not counted)."""
    sent: list[str] = []
    depth = [0]
    with contextlib.ExitStack() as stack:
        for name in CACHE_COMMANDS:
            original = getattr(cache, name)

            def spy(*args, _name=name, _original=original, **kwargs):
                if not depth[0]:
                    sent.append(f"{_name} {args[0]}")
                depth[0] += 1
                try:
                    return _original(*args, **kwargs)
                finally:
                    depth[0] -= 1

            stack.enter_context(mock.patch.object(cache, name, spy))
        yield sent


def _submitted(impl, person):
    app = services.start_application(implementation=impl, owner=person.user, person=person)
    app = services.save_draft(app, answers={"agent": "no", "premises": "rented"})
    for name in ("食品经营许可申请书", "房屋租赁合同"):
        services.upload_material(app, f.material(impl, name).pk, f.pdf())
    return app


def _statements(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_an_api_acceptance_stays_within_its_statement_budget(calendar_2026):
    impl, person = f.item(), f.citizen()
    *warm_up, second = (services.submit(_submitted(impl, person)) for _ in range(3))
    clerk = Client()
    login_staff(clerk, f.clerk(impl.organisation))
    for app in warm_up:  # the first creates the default process, which drops the cached version
        assert clerk.post(f"/api/cases/applications/{app.pk}/accept").status_code == 200
    with CaptureQueriesContext(connection) as ctx, cache_commands() as sent:
        answer = clerk.post(f"/api/cases/applications/{second.pk}/accept")
    assert answer.status_code == 200 and answer.json()["status"] == "in_progress"
    assert len(sent) <= ACCEPT_CACHE_BUDGET, sent
    statements = _statements(ctx)
    assert len(statements) <= ACCEPT_BUDGET, "\n".join(statements)
    assert not [s for s in statements if "django_session" in s or "auth_permission" in s]


def test_an_api_submission_stays_within_its_statement_budget(calendar_2026):
    impl, person = f.item(), f.citizen()
    first, second = _submitted(impl, person), _submitted(impl, person)
    citizen = Client()
    citizen.force_login(person.user)
    assert citizen.post(f"/api/cases/applications/{first.pk}/submit").status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        answer = citizen.post(f"/api/cases/applications/{second.pk}/submit")
    assert answer.status_code == 200 and answer.json()["status"] == "submitted"
    statements = _statements(ctx)
    assert len(statements) <= SUBMIT_BUDGET, "\n".join(statements)


def test_an_api_creation_stays_within_its_statement_budget(calendar_2026):
    impl, person = f.item(), f.citizen()
    citizen = Client()
    citizen.force_login(person.user)
    body = {"item_code": impl.code, "answers": {"agent": "no", "premises": "rented"}}
    assert citizen.post("/api/cases/applications", body, content_type="application/json").status_code == 201
    with CaptureQueriesContext(connection) as ctx:
        answer = citizen.post("/api/cases/applications", body, content_type="application/json")
    assert answer.status_code == 201 and answer.json()["answers"] == body["answers"]
    statements = _statements(ctx)
    assert len(statements) <= CREATE_BUDGET, "\n".join(statements)
