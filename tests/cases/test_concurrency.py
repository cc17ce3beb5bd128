"""Row locks under real concurrency (PostgreSQL): one acceptance wins, case numbers never collide."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests.cases import factories as f
from tests.concurrency import run_together
from tongban.cases import services
from tongban.cases.models import Application, Status

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite", reason="SQLite serialises writers; row locks need PostgreSQL"
    ),
]


def _submitted(impl):
    person = f.citizen()
    app = services.start_application(implementation=impl, owner=person.user, person=person)
    services.save_draft(app, answers={"agent": "no", "premises": "own"})
    services.upload_material(app, f.material(impl, "食品经营许可申请书").pk, f.pdf())
    return services.submit(app)


def test_two_clerks_accept_at_once_exactly_one_succeeds():
    impl = f.item()
    app = _submitted(impl)
    clerks = [f.clerk(impl.organisation), f.clerk(impl.organisation)]
    results = run_together(
        [lambda c=c: services.accept(Application.objects.get(pk=app.pk), clerk=c) for c in clerks]
    )
    wins = [r for r in results if isinstance(r, Application)]
    losses = [r for r in results if isinstance(r, ValidationError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].code == "invalid-transition" and "审批中" in losses[0].messages[0]
    app.refresh_from_db()
    assert app.status == Status.IN_PROGRESS and app.events.filter(action="accept").count() == 1


def test_case_numbers_have_no_gaps_or_collisions():
    impl = f.item()
    apps = [_submitted(impl) for _ in range(6)]
    clerk = f.clerk(impl.organisation)
    results = run_together(
        [lambda a=a: services.accept(Application.objects.get(pk=a.pk), clerk=clerk) for a in apps]
    )
    assert all(isinstance(r, Application) for r in results), results
    numbers = sorted(Application.objects.values_list("case_number", flat=True))
    assert [n[-6:] for n in numbers] == [f"{i:06d}" for i in range(1, 7)]
