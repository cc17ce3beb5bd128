"""Personal data at rest: the application form never holds the ID number or phone in clear."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.cases import factories as f
from tests.catalog.factories import COMPLETE_GUIDE
from tongban.cases import services
from tongban.cases.models import Application

pytestmark = pytest.mark.django_db


@pytest.fixture
def form_item():
    from tongban.catalog.data.reference import FIELD_SETS
    from tongban.catalog.models import FieldSet

    name, schema = FIELD_SETS["applicant"]
    FieldSet.objects.update_or_create(key="applicant", defaults={"name": name, "schema": schema})
    return f.item(guide={**COMPLETE_GUIDE, "form_field_sets": "applicant"}, name="食品经营许可（表单）")


def _raw_row(app: Application) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cases_application WHERE id = %s", [app.pk])
        return " ".join(str(v) for v in cursor.fetchone())


def test_raw_row_holds_neither_id_number_nor_phone(form_item):
    person = f.citizen()
    app = services.start_application(implementation=form_item, owner=person.user, person=person)
    assert app.form_data["applicant_id_number"] == person.id_number  # prefilled, readable in Python
    raw = _raw_row(app)
    assert person.id_number not in raw
    assert person.phone not in raw
    app.refresh_from_db()
    assert app.form_data["applicant_id_number"] == person.id_number


def test_api_and_check_page_mask_the_id_number_but_the_edit_form_keeps_it(client, form_item):
    person = f.citizen()
    client.force_login(person.user)
    app = services.start_application(implementation=form_item, owner=person.user, person=person)
    body = client.get(f"/api/cases/applications/{app.pk}").json()
    assert body["form_data"]["applicant_id_number"] == person.id_number[:4] + "*" * 10 + person.id_number[-4:]
    assert person.id_number not in str(body)
    assert person.id_number not in client.get(f"/cases/a/{app.pk}/check/").content.decode()
    assert person.id_number in client.get(f"/cases/a/{app.pk}/form/").content.decode()

    # A client echoing the masked value back does not overwrite the real number.
    patched = client.patch(
        f"/api/cases/applications/{app.pk}",
        {"form_data": body["form_data"]},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    app.refresh_from_db()
    assert app.form_data["applicant_id_number"] == person.id_number
