"""Basic-item data (name, legal basis, aliases, keywords) changes only through a reviewed change."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.catalog import factories
from tongban.catalog import services
from tongban.catalog.models import BasicItemChange
from tongban.catalog.search import search_items
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return factories.UserFactory(username="proposer"), factories.UserFactory(username="checker")


def test_proposal_changes_nothing_until_a_second_person_approves(people):
    proposer, checker = people
    impl = factories.published_item()
    item = impl.basic_item
    change = services.propose_basic_item_change(
        item,
        {
            "legal_basis": "《中华人民共和国食品安全法》第三十五条（2021 年修正）",
            "aliases": "开饭店  开餐馆 开面馆",
        },
        actor=proposer,
        reason="法律修正，补充常见说法",
    )
    item.refresh_from_db()
    assert item.aliases == "开饭店 开餐馆" and "2021" not in item.legal_basis
    assert [c["field"] for c in change.changes] == ["legal_basis", "aliases"]
    assert change.changes[1]["new"] == "开饭店 开餐馆 开面馆"
    assert not search_items("开面馆")

    with pytest.raises(ValidationError) as exc:
        services.review_basic_item_change(change, approve=True, actor=proposer)
    assert exc.value.code == "four-eyes"

    services.review_basic_item_change(change, approve=True, actor=checker, comment="同意")
    item.refresh_from_db()
    change.refresh_from_db()
    assert "2021" in item.legal_basis and item.aliases == "开饭店 开餐馆 开面馆"
    assert change.status == BasicItemChange.Status.APPLIED and change.reviewed_by == checker
    # Applied at once: search (re-indexed) and the public guide.
    assert search_items("开面馆")[0].implementation == impl
    assert AuditEvent.objects.filter(action="catalog.basic_item.change_applied").exists()
    with pytest.raises(ValidationError) as exc:
        services.review_basic_item_change(change, approve=True, actor=checker)
    assert exc.value.code == "basic-change-closed"


def test_rejection_needs_a_comment_and_keeps_the_item(people):
    proposer, checker = people
    item = factories.published_item().basic_item
    change = services.propose_basic_item_change(item, {"name": "餐饮服务许可"}, actor=proposer, reason="改名")
    with pytest.raises(ValidationError) as exc:
        services.review_basic_item_change(change, approve=False, actor=checker)
    assert exc.value.code == "review-comment-required"
    services.review_basic_item_change(change, approve=False, actor=checker, comment="名称以国家目录为准")
    item.refresh_from_db()
    assert item.name == "食品经营许可"
    assert item.changes.get().status == BasicItemChange.Status.REJECTED


@pytest.mark.parametrize(
    ("values", "reason", "code"),
    [
        ({"name": "  "}, "清空名称", "missing-element"),
        ({"legal_basis": ""}, "清空依据", "missing-element"),
        ({"name": "食品经营许可"}, "没有修改", "basic-change-empty"),
        ({"item_type": "02"}, "改类型", "basic-change-field"),
        ({"aliases": "开饭馆"}, "", "basic-change-reason"),
    ],
)
def test_invalid_proposals_are_refused_in_chinese(people, values, reason, code):
    item = factories.published_item().basic_item
    with pytest.raises(ValidationError) as exc:
        services.propose_basic_item_change(item, values, actor=people[0], reason=reason)
    assert exc.value.code == code
    assert not BasicItemChange.objects.exists()


def test_one_open_proposal_per_item_and_stale_proposals_are_not_applied(people):
    proposer, checker = people
    item = factories.published_item().basic_item
    first = services.propose_basic_item_change(item, {"keywords": "餐饮"}, actor=proposer, reason="补充")
    with pytest.raises(ValidationError) as exc:
        services.propose_basic_item_change(item, {"keywords": "小吃"}, actor=proposer, reason="补充")
    assert exc.value.code == "basic-change-open"
    item.keywords = "被别处改过"
    item.save()
    with pytest.raises(ValidationError) as exc:
        services.review_basic_item_change(first, approve=True, actor=checker)
    assert exc.value.code == "basic-change-stale"


def test_admin_shows_basic_fields_read_only(client, django_user_model):
    item = factories.published_item().basic_item
    admin = django_user_model.objects.create_superuser("catalog-admin", password="x-Secret-123456")
    factories.login_staff(client, admin)
    response = client.get(f"/admin/catalog/basicitem/{item.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert item.legal_basis in html  # shown, as text
    assert 'name="name"' not in html and 'name="legal_basis"' not in html
    assert 'name="is_high_frequency"' in html  # other metadata stays editable
    assert client.get("/admin/catalog/basicitemchange/").status_code == 200
