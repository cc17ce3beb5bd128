"""Roles carry the permissions capability apps check: a department's catalogue editor drafts a guide
change, the service centre's catalogue administrator reviews and publishes it (four eyes)."""

import pytest
from django.core.exceptions import ValidationError

from tests.catalog.factories import COMPLETE_GUIDE, department, liuan, published_item
from tongban.accounts import services as accounts
from tongban.accounts.models import Role
from tongban.catalog import services as catalog
from tongban.catalog.scope import manageable
from tongban.core.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_staff():
    city = liuan()["city"]
    market = department(city)
    centre = department(city, "数据资源", "数据资源管理局")
    centre.kind = Organisation.Kind.SERVICE_CENTRE
    centre.save()
    editor = accounts.create_staff(
        username="market-items", name="林事项", department=market, region=city, roles=[Role.CATALOGUE_ADMIN]
    ).user
    reviewer = accounts.create_staff(
        username="centre-items", name="何事项", department=centre, region=city, roles=[Role.CATALOGUE_ADMIN]
    ).user
    clerk = accounts.create_staff(
        username="clerk", name="周窗口", department=centre, region=city, roles=[Role.WINDOW_CLERK]
    ).user
    return {"market": market, "editor": editor, "reviewer": reviewer, "clerk": clerk}


def test_catalogue_role_grants_the_catalogue_permissions(city_staff):
    for codename in ("add_itemversion", "change_itemversion", "review_itemversion", "publish_itemversion"):
        assert city_staff["editor"].has_perm(f"catalog.{codename}")
    assert not city_staff["clerk"].has_perm("catalog.change_itemversion")
    assert not city_staff["clerk"].has_perm("catalog.publish_itemversion")


def test_revoking_the_role_takes_the_permissions_away(city_staff):
    admin = accounts.create_staff(
        username="sysadmin",
        name="钱管理",
        department=city_staff["market"],
        region=liuan()["city"],
        roles=[Role.SYSTEM_ADMIN],
    ).user
    editor = city_staff["editor"]
    accounts.revoke_role(actor=admin, user=editor, role=Role.CATALOGUE_ADMIN, reason="调岗")
    editor = type(editor).objects.get(pk=editor.pk)  # fresh permission cache
    assert not editor.has_perm("catalog.change_itemversion")


def test_department_editor_drafts_and_centre_administrator_publishes(city_staff):
    impl = published_item(org=city_staff["market"])
    editor, reviewer = city_staff["editor"], city_staff["reviewer"]
    assert manageable(editor).filter(pk=impl.pk).exists()
    assert manageable(reviewer).filter(pk=impl.pk).exists()

    draft = catalog.new_draft(impl, actor=editor)
    catalog.update_draft(draft, {**COMPLETE_GUIDE, "promised_limit_days": 4}, actor=editor)
    catalog.submit_for_review(draft, actor=editor)
    with pytest.raises(ValidationError):
        catalog.review(draft, actor=editor, approve=True)  # nobody reviews their own change
    catalog.review(draft, actor=reviewer, approve=True, comment="同意")
    catalog.publish(draft, actor=reviewer)

    impl.refresh_from_db()
    assert impl.published_version.promised_limit_days == 4
