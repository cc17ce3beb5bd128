import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.catalog import factories
from tongban.catalog import demo, services
from tongban.catalog.forms_schema import compose_schema, validate_submission
from tongban.catalog.models import ItemImplementation

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    demo.load_reference_data()  # field sets, proof list, synonyms
    guide = {
        **factories.COMPLETE_GUIDE,
        "form_field_sets": "enterprise applicant",
        "form_schema": demo.ITEM_FIELDS["food-business"],
    }
    return factories.published_item(guide=guide)


def test_form_definition_composes_field_sets_with_prefill(item):
    schema = compose_schema(item.published_version)
    props = schema["properties"]
    assert props["enterprise_credit_code"]["x-prefill"] == "enterprise.credit_code"
    assert props["applicant_id_number"]["x-prefill"] == "person.id_number"
    assert props["business_scope"]["x-fieldset"] == "item"
    assert {"enterprise_name", "applicant_name", "business_scope"} <= set(schema["required"])
    problems = validate_submission(
        item.published_version, {"applicant_name": "张三", "applicant_mobile": "123"}
    )
    messages = {p["field"]: p["message"] for p in problems}
    assert messages["applicant_mobile"] == "手机号码格式不正确"
    assert messages["enterprise_name"] == "请填写单位名称"


def test_unknown_prefill_attribute_blocks_submission(item):
    draft = services.new_draft(item)
    bad = {
        "type": "object",
        "properties": {"x": {"type": "string", "title": "X", "x-prefill": "person.shoe_size"}},
    }
    services.update_draft(draft, {"form_schema": bad})
    with pytest.raises(ValidationError, match="预填属性无效"):
        services.submit_for_review(draft)


def test_report_and_import_pages(client, item):
    staff = factories.UserFactory(perms=[*factories.EDITOR_PERMS, "add_itemversion"])
    factories.login_staff(client, staff)
    report = client.get(
        reverse("catalog:manage-report"), {"start": "2020-01-01", "end": dt.date.today().isoformat()}
    )
    assert report.status_code == 200 and "事项变更发布时效" in report.content.decode()

    bad = SimpleUploadedFile("items.json", json.dumps([{"name": "缺字段"}]).encode(), "application/json")
    response = client.post(reverse("catalog:manage-import"), {"file": bad})
    html = response.content.decode()
    assert "未导入任何数据" in html and "item_type" in html
    assert ItemImplementation.objects.count() == 1


def test_openapi_document_includes_catalogue_endpoints(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/catalog/items" in paths and "/api/catalog/manage/items/{code}/publish" in paths
