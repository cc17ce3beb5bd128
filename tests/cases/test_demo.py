"""Demo applications: a non-empty queue and "my cases" after `load_demo`, twice without change."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model

from tests.catalog.factories import login_staff
from tongban.accounts import demo as accounts_demo
from tongban.cases import demo
from tongban.cases.models import Application, CaseEvent, Message, Status
from tongban.catalog import demo as catalog_demo
from tongban.core import demo as core_demo

pytestmark = pytest.mark.django_db


def test_demo_applications_load_twice_and_show_in_queue_and_my_cases(client):
    core_demo.load(None)
    accounts_demo.load(io.StringIO())
    catalog_demo.load(None, counties=[])
    out = io.StringIO()
    demo.load(out)
    assert "王小明" in out.getvalue() and "la-market-clerk" in out.getvalue()
    counts = (Application.objects.count(), CaseEvent.objects.count(), Message.objects.count())
    demo.load(io.StringIO())
    assert (Application.objects.count(), CaseEvent.objects.count(), Message.objects.count()) == counts

    assert dict(Application.objects.values_list("idempotency_key", "status")) == {
        "demo-submitted": Status.SUBMITTED,
        "demo-correction": Status.CORRECTION_REQUESTED,
        "demo-accepted": Status.IN_PROGRESS,
    }
    accepted = Application.objects.get(idempotency_key="demo-accepted")
    assert accepted.case_number and accepted.deadline
    assert Application.objects.get(idempotency_key="demo-correction").notices.count() == 1

    citizen = get_user_model().objects.get(username="demo-citizen")
    client.force_login(citizen)
    mine = client.get("/cases/mine/").content.decode()
    assert accepted.case_number in mine and "待补正" in mine

    client.logout()
    login_staff(client, get_user_model().objects.get(username=demo.CLERK[0]))
    queue = client.get("/cases/workbench/").content.decode()
    assert Application.objects.get(idempotency_key="demo-submitted").reference in queue
