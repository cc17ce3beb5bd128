import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from tests.catalog import factories
from tongban.catalog import services
from tongban.catalog.models import ItemVersion, ProofEntry
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    return factories.published_item()


@pytest.fixture
def people():
    return (
        factories.UserFactory(perms=factories.EDITOR_PERMS),
        factories.UserFactory(perms=factories.REVIEWER_PERMS),
    )


def test_edit_review_publish_with_four_eyes_and_history(item, people):
    editor, reviewer = people
    v1 = item.published_version
    draft = services.new_draft(item, actor=editor, change_summary="压缩承诺时限")
    services.update_draft(draft, {"promised_limit_days": 3}, actor=editor)
    services.submit_for_review(draft, actor=editor)

    with pytest.raises(ValidationError, match="双人复核"):
        services.review(draft, actor=editor, approve=True)
    services.review(draft, actor=reviewer, approve=True, comment="同意")
    with pytest.raises(ValidationError, match="双人复核"):
        services.publish(draft, actor=editor)
    services.publish(draft, actor=reviewer)

    item.refresh_from_db()
    v1.refresh_from_db()
    assert item.published_version.promised_limit_days == 3
    assert v1.status == ItemVersion.Status.SUPERSEDED and v1.promised_limit_days == 5
    published = item.published_version
    assert published.number == 2
    assert published.published_by == reviewer and published.updated_by == editor
    assert {
        "field": "promised_limit_days",
        "label": "承诺办结时限（工作日）",
        "old": 5,
        "new": 3,
    } in published.diff
    assert published.publication_working_days is not None
    actions = set(
        AuditEvent.objects.filter(object_type="catalog.itemversion").values_list("action", flat=True)
    )
    assert {"catalog.version.submitted", "catalog.version.approved", "catalog.version.published"} <= actions


def test_published_version_is_immutable(item):
    version = item.published_version
    version.place = "别处"
    with pytest.raises(ValidationError, match="不可修改"):
        version.save()
    with pytest.raises(ValidationError, match="不可修改"):
        version.materials.first().delete()
    with pytest.raises(ValidationError, match="草稿"):
        services.update_draft(version, {"place": "别处"})


def test_reject_needs_a_comment_and_returns_to_draft(item, people):
    editor, reviewer = people
    draft = services.new_draft(item, actor=editor)
    services.submit_for_review(draft, actor=editor)
    with pytest.raises(ValidationError, match="审核意见"):
        services.review(draft, actor=reviewer, approve=False)
    services.review(draft, actor=reviewer, approve=False, comment="材料名称不规范")
    draft.refresh_from_db()
    assert draft.status == ItemVersion.Status.DRAFT and draft.review_comment == "材料名称不规范"


def test_only_one_open_draft(item, people):
    services.new_draft(item, actor=people[0])
    with pytest.raises(ValidationError, match="未发布的版本"):
        services.new_draft(item, actor=people[0])


def _submit_with(item, editor, changes):
    draft = services.new_draft(item, actor=editor)
    services.update_draft(draft, changes, actor=editor)
    with pytest.raises(ValidationError) as excinfo:
        services.submit_for_review(draft, actor=editor)
    draft.refresh_from_db()
    assert draft.status == ItemVersion.Status.DRAFT
    return " ".join(excinfo.value.messages)


def test_promised_longer_than_legal_is_refused(item, people):
    message = _submit_with(item, people[0], {"promised_limit_days": 30})
    assert "承诺办结时限（30 个工作日）不得超过法定办结时限（20 个工作日）" in message


def test_proof_not_on_the_list_is_refused_then_accepted_once_listed(item, people):
    editor = people[0]
    materials = factories.COMPLETE_GUIDE["materials"] + [{"name": "无犯罪记录证明", "is_proof": True}]
    message = _submit_with(item, editor, {"materials": materials})
    assert "无犯罪记录证明" in message and "证明清单" in message

    ProofEntry.objects.create(code="ZM-001", name="无犯罪记录证明", issuer="公安机关", legal_basis="《…》")
    draft = item.versions.get(status="draft")
    materials[-1] = {**materials[-1], "proof": "ZM-001"}
    services.update_draft(draft, {"materials": materials}, actor=editor)
    services.submit_for_review(draft, actor=editor)


def test_missing_mandatory_elements_are_all_listed(people):
    impl = services.create_implementation(
        factories.basic_item(), factories.department(factories.liuan()["city"])
    )
    with pytest.raises(ValidationError) as excinfo:
        services.submit_for_review(impl.versions.get(), actor=people[0])
    message = " ".join(excinfo.value.messages)
    for element in ("受理条件", "咨询电话", "申请材料", "承诺办结时限", "办理流程"):
        assert element in message


def test_publication_report_counts_working_days(item, people):
    editor, reviewer = people
    draft = services.new_draft(item, actor=editor, change_requested_on=dt.date(2026, 9, 30))
    services.submit_for_review(draft, actor=editor)
    services.review(draft, actor=reviewer, approve=True)
    services.publish(draft, actor=reviewer)
    rows = services.publication_report(dt.date(2020, 1, 1), dt.date(2100, 1, 1))
    assert (
        rows[0].pk == draft.pk and rows[0].publication_working_days > services.PUBLICATION_LIMIT_WORKING_DAYS
    )


def test_situations_give_the_exact_list(item):
    version = item.published_version
    own = services.evaluate_situations(version, {"agent": "no", "premises": "own"})
    assert [m.name for m in own.materials] == ["食品经营许可申请书", "营业执照"]
    rented = services.evaluate_situations(version, {"agent": "yes", "premises": "rented"})
    assert [m.name for m in rented.materials] == [
        "食品经营许可申请书",
        "营业执照",
        "授权委托书",
        "受托人身份证",
        "房屋租赁合同",
    ]
    assert rented.visits == 1 and rented.unanswered == []
    with pytest.raises(ValidationError, match="没有选项"):
        services.evaluate_situations(version, {"agent": "maybe"})


def test_a_published_versions_situations_and_form_are_read_once_until_the_catalogue_changes(item):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tongban.catalog.forms_schema import compose_schema

    version = item.published_version
    services.evaluate_situations(version, {"agent": "no"})
    compose_schema(version)
    with CaptureQueriesContext(connection) as ctx:
        own = services.evaluate_situations(version, {"agent": "no", "premises": "own"})
        compose_schema(version)
    assert ctx.captured_queries == [] and "营业执照" in [m.name for m in own.materials]

    with pytest.raises(ValidationError, match="不可修改"):  # why the cache needs no invalidation
        version.materials.get(name="营业执照").save()
    item.organisation.save()  # still: any catalogue save starts a new generation, read again
    with CaptureQueriesContext(connection) as ctx:
        services.evaluate_situations(version, {"agent": "no", "premises": "own"})
    assert ctx.captured_queries


def test_an_invalid_code_blocks_submission(item, people):
    # A code can only go wrong through a bad data load or a changed credit code; the rule catches it.
    from tongban.catalog.models import ItemImplementation

    ItemImplementation.objects.filter(pk=item.pk).update(code=item.code[:-1] + "9")
    item.refresh_from_db()
    message = _submit_with(item, people[0], {})
    assert "实施编码" in message


def test_changed_aliases_are_searchable_at_once(item):
    from tongban.catalog.search import search_items

    assert not search_items("小吃摊")
    basic = item.basic_item
    basic.aliases += " 小吃摊"
    basic.save()
    assert search_items("小吃摊")[0].implementation == item


def test_the_search_page_shows_a_changed_alias_at_once_though_results_are_cached(item, client):
    assert "找到 0 个事项" in client.get("/services/search/", {"q": "小吃摊"}).content.decode()
    basic = item.basic_item
    basic.aliases += " 小吃摊"
    basic.save()
    assert item.get_absolute_url() in client.get("/services/search/", {"q": "小吃摊"}).content.decode()


def test_future_effective_date_schedules_and_a_task_publishes(item, people, client):
    editor, reviewer = people
    # The guide's body is cached: what follows must still show at once.
    assert "本事项办事指南将于" not in client.get(item.get_absolute_url()).content.decode()
    assert "零跑动" not in client.get(item.get_absolute_url()).content.decode()
    draft = services.new_draft(item, actor=editor, change_summary="新增网上办理")
    services.update_draft(draft, {"visits": 0}, actor=editor)
    services.submit_for_review(draft, actor=editor)
    services.review(draft, actor=reviewer, approve=True)
    later = dt.date.today() + dt.timedelta(days=10)
    services.publish(draft, actor=reviewer, effective_from=later)
    item.refresh_from_db()
    assert item.published_version.number == 1  # still the old one
    assert "本事项办事指南将于" in client.get(item.get_absolute_url()).content.decode()
    assert services.publish_due(today=later - dt.timedelta(days=1)) == 0
    assert services.publish_due(today=later) == 1
    item.refresh_from_db()
    assert item.published_version.pk == draft.pk and item.published_version.visits == 0
    assert item.published_version.effective_from == later and item.published_version.published_by == reviewer
    assert "零跑动" in client.get(item.get_absolute_url()).content.decode()
