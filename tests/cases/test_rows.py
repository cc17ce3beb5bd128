"""A case's state change takes its item, version, department and region from the row caches
(tongban.cases.rows): what a clerk sees after an edit of the catalogue is the edited row.
Outside a test transaction, as on a server."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.cases import factories as f
from tests.cases.test_statement_budget import _submitted
from tests.catalog.factories import login_staff
from tongban.cases import services
from tongban.cases.rows import lock_case

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_acceptance_after_the_item_was_renamed_shows_the_new_name(calendar_2026):
    impl, person = f.item(), f.citizen()
    first, second = (services.submit(_submitted(impl, person)) for _ in range(2))
    clerk = Client()
    login_staff(clerk, f.clerk(impl.organisation))
    assert clerk.post(f"/api/cases/applications/{first.pk}/accept").json()["item_name"] == "食品经营许可"
    item = impl.basic_item
    item.name = "食品经营许可（含小餐饮）"
    item.save()
    answer = clerk.post(f"/api/cases/applications/{second.pk}/accept")
    assert answer.json()["item_name"] == "食品经营许可（含小餐饮）"


def test_the_case_row_alone_is_read_once_its_rows_are_kept(calendar_2026):
    impl, person = f.item(), f.citizen()
    app = services.submit(_submitted(impl, person))
    region_path = impl.region.path
    with transaction.atomic():
        lock_case(app.pk)  # fills the caches
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        locked = lock_case(app.pk)
        assert (locked.implementation.basic_item.name, locked.region.path) == (
            "食品经营许可",
            region_path,
        )
        assert locked.version.pk == impl.published_version_id
    (statement,) = [q["sql"] for q in ctx.captured_queries]
    assert statement.startswith('SELECT "cases_application"') and "JOIN" not in statement
