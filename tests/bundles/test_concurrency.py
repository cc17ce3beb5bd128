"""Row locks under real concurrency (PostgreSQL): a double submit makes one set of children, two
one-window clerks accepting at once leave one acceptance, two children finishing at the same
moment complete the bundle exactly once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests.bundles import factories as bf
from tests.bundles.test_services import _draft, _lead_clerk, _ready, _submitted
from tests.cases import factories as cf
from tests.concurrency import run_together
from tongban.bundles import services
from tongban.bundles.models import BundleCase, BundleStatus
from tongban.cases.models import Application, CaseEvent, Message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite", reason="SQLite serialises writers; row locks need PostgreSQL"
    ),
]


def test_double_submit_creates_one_set_of_children():
    bc = _ready(_draft())
    results = run_together(
        [lambda: services.submit(BundleCase.objects.get(pk=bc.pk), actor=bc.owner) for _ in range(2)]
    )
    assert all(isinstance(r, BundleCase) for r in results), results
    assert Application.objects.count() == 3


def test_two_clerks_accept_at_once_one_wins():
    bc = _submitted()
    clerks = [_lead_clerk(bc), cf.clerk(bc.lead_department)]
    results = run_together(
        [lambda c=c: services.accept_all(BundleCase.objects.get(pk=bc.pk), clerk=c) for c in clerks]
    )
    errors = [r for r in results if isinstance(r, ValidationError)]
    assert len(errors) == 1 and errors[0].code == "invalid-transition", results
    assert CaseEvent.objects.filter(action="accept").count() == 3


def test_last_two_children_finishing_together_complete_the_bundle_once():
    bc = _submitted(third=False)
    services.accept_all(bc, clerk=_lead_clerk(bc))
    first, second = services.children(bc)
    results = run_together(
        [lambda a=a: bf.complete(Application.objects.get(pk=a.pk)) for a in (first, second)]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    bc.refresh_from_db()
    assert bc.status == BundleStatus.COMPLETED
    assert Message.objects.filter(title__startswith="一件事").count() == 1
    assert CaseEvent.objects.filter(action="bundle_complete").count() == 2
