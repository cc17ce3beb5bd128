"""Demo data: 督办单 and a complaint on the workflow demo cases, twice without change."""

from __future__ import annotations

import io

import pytest

from tongban.accounts import demo as accounts_demo
from tongban.cases import demo as cases_demo
from tongban.catalog import demo as catalog_demo
from tongban.core import demo as core_demo
from tongban.supervision import demo
from tongban.supervision.models import Complaint, NoticeStatus, SupervisionNotice
from tongban.workflow import demo as workflow_demo

pytestmark = pytest.mark.django_db


def test_demo_loads_twice():
    core_demo.load(None)
    accounts_demo.load(io.StringIO())
    catalog_demo.load(None, counties=["341502"])
    cases_demo.load(io.StringIO())
    workflow_demo.load(io.StringIO())
    out = io.StringIO()
    demo.load(out)
    assert "督办单 2 份" in out.getvalue(), out.getvalue()
    counts = (SupervisionNotice.objects.count(), Complaint.objects.count())
    demo.load(io.StringIO())
    assert (SupervisionNotice.objects.count(), Complaint.objects.count()) == counts == (2, 1)
    assert sorted(n.status for n in SupervisionNotice.objects.all()) == [
        NoticeStatus.ISSUED,
        NoticeStatus.RESPONDED,
    ]
    assert Complaint.objects.get().assigned_department.short_name
