"""智慧审批: the condition language, rule validation, the automatic flow, pages and API."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from playwright.sync_api import expect

from tests.accounts.helpers import make_staff
from tests.cases import factories as cf
from tests.catalog.factories import COMPLETE_GUIDE, department, liuan, login_staff
from tongban.accounts.models import LegalEntityRecord, Role
from tongban.cases import services as cases
from tongban.cases.models import Application, Decision, Status
from tongban.core.models import AuditEvent
from tongban.workflow import smart
from tongban.workflow.models import ResultDocument, SmartRule, Task, TaskStatus

API = "/api/workflow/smart"

pytestmark = pytest.mark.django_db

ITEM_FORM = {
    "type": "object",
    "properties": {
        "business_area": {"type": "number", "title": "经营场所面积（平方米）", "minimum": 0},
        "business_scope": {
            "type": "array",
            "title": "经营项目",
            "items": {"enum": ["预包装食品销售", "散装食品销售", "热食类食品制售"]},
        },
        "chain": {"type": "boolean", "title": "是否连锁经营"},
        "start_date": {"type": "string", "format": "date", "title": "开业日期"},
        "category": {"type": "string", "title": "主体类型", "enum": ["个体工商户", "企业"]},
        "shop_name": {"type": "string", "title": "店铺名称", "maxLength": 100},
        "card_no": {"type": "string", "title": "社会保障卡号", "maxLength": 20},
    },
}
GUIDE = {**COMPLETE_GUIDE, "form_schema": ITEM_FORM}
SMALL_SHOP = {
    "business_area": 80,
    "business_scope": ["预包装食品销售"],
    "chain": False,
    "start_date": "2026-10-01",
    "category": "个体工商户",
    "shop_name": "金安小卖部",
}
RULE = [
    {"source": "form", "field": "business_area", "op": "lte", "value": 100},
    {"source": "form", "field": "business_scope", "op": "in", "value": ["预包装食品销售"]},
    {"source": "shared", "check": "id_verified_l2"},
]


@pytest.fixture
def impl():
    item = cf.item(guide=GUIDE)
    item.smart_approval = True
    item.save(update_fields=["smart_approval"])
    return item


def _submit(impl, form=None, person=None, capture=None):
    person = person or cf.citizen()
    app = cases.start_application(implementation=impl, owner=person.user, person=person)
    cases.save_draft(app, answers={"agent": "no", "premises": "own"}, form_data=form or SMALL_SHOP)
    cases.upload_material(app, cf.material(impl, "食品经营许可申请书").pk, cf.pdf(), by=person.user)
    if capture is None:
        return cases.submit(app, actor=person.user)
    with capture(execute=True):
        app = cases.submit(app, actor=person.user)
    return Application.objects.get(pk=app.pk)


# ---------------------------------------------------------------- the condition language


def _holds(cond: dict, form: dict) -> bool:
    return smart.evaluate([cond], form_data=form).matched


@pytest.mark.parametrize(
    ("cond", "yes", "no"),
    [
        (
            {"field": "category", "op": "eq", "value": "企业"},
            {"category": " 企业 "},
            {"category": "个体工商户"},
        ),
        ({"field": "business_area", "op": "eq", "value": 80}, {"business_area": 80.0}, {"business_area": 81}),
        ({"field": "chain", "op": "eq", "value": False}, {"chain": False}, {"chain": True}),
        (
            {"field": "category", "op": "ne", "value": "企业"},
            {"category": "个体工商户"},
            {"category": "企业"},
        ),
        (
            {"field": "category", "op": "in", "value": ["企业", "个体工商户"]},
            {"category": "企业"},
            {"category": "x"},
        ),
        (
            {"field": "business_scope", "op": "in", "value": ["预包装食品销售", "散装食品销售"]},
            {"business_scope": ["散装食品销售", "预包装食品销售"]},
            {"business_scope": ["预包装食品销售", "热食类食品制售"]},
        ),
        (
            {"field": "business_scope", "op": "not_in", "value": ["热食类食品制售"]},
            {"business_scope": ["预包装食品销售"]},
            {"business_scope": ["预包装食品销售", "热食类食品制售"]},
        ),
        (
            {"field": "category", "op": "not_in", "value": ["企业"]},
            {"category": "个体工商户"},
            {"category": "企业"},
        ),
        (
            {"field": "business_area", "op": "gte", "value": 50},
            {"business_area": 50},
            {"business_area": 49.9},
        ),
        (
            {"field": "business_area", "op": "lte", "value": 100},
            {"business_area": "100"},
            {"business_area": 101},
        ),
        (
            {"field": "business_area", "op": "between", "value": [10, 100]},
            {"business_area": 10},
            {"business_area": 9},
        ),
        (
            {"field": "start_date", "op": "gte", "value": "2026-01-01"},
            {"start_date": "2026-01-01"},
            {"start_date": "2025-12-31"},
        ),
        (
            {"field": "start_date", "op": "between", "value": ["2026-01-01", "2026-12-31"]},
            {"start_date": "2026-06-30"},
            {"start_date": "2027-01-01"},
        ),
        ({"field": "shop_name", "op": "present"}, {"shop_name": "金安小卖部"}, {"shop_name": "  "}),
        ({"field": "shop_name", "op": "absent"}, {}, {"shop_name": "金安小卖部"}),
        (
            {"field": "shop_name", "op": "matches", "value": r"金安.+部"},
            {"shop_name": "金安小卖部"},
            {"shop_name": "裕安小卖部"},
        ),
    ],
)
def test_each_operator(cond, yes, no):
    cond = {"source": "form", **cond}
    assert _holds(cond, yes) is True
    assert _holds(cond, no) is False


def test_conditions_on_empty_fields_are_false_and_evaluation_never_raises():
    for op, value in [("eq", "x"), ("ne", "x"), ("in", ["x"]), ("not_in", ["x"]), ("gte", 1), ("lte", 1)]:
        assert not _holds({"source": "form", "field": "shop_name", "op": op, "value": value}, {})
    assert not _holds(
        {"source": "form", "field": "business_area", "op": "gte", "value": 1}, {"business_area": "大"}
    )
    assert not _holds(
        {"source": "form", "field": "shop_name", "op": "matches", "value": "a"}, {"shop_name": "a" * 600}
    )
    # malformed conditions (e.g. written around the validation) are "no match", never an error
    for broken in [
        {"source": "form", "op": "eq"},
        {"source": "form", "field": "x", "op": "like"},
        "nonsense",
        {},
    ]:
        result = smart.evaluate([broken], form_data={"x": 1})
        assert result.matched is False
    assert smart.evaluate([], form_data={}).matched is False  # an empty rule never approves
    assert smart.evaluate(None, form_data=None).matched is False


def test_all_conditions_must_hold_and_the_first_failure_is_reported():
    result = smart.evaluate(RULE[:2], form_data={**SMALL_SHOP, "business_area": 150})
    assert result.matched is False
    assert result.first_failure.index == 1 and "不大于 100" in result.first_failure.description


# ---------------------------------------------------------------- validation on save


def _codes(exc: pytest.ExceptionInfo) -> list[str]:
    return [e.code for e in exc.value.error_list]


@pytest.mark.parametrize(
    ("cond", "code", "text"),
    [
        (
            {"source": "form", "field": "nope", "op": "eq", "value": "1"},
            "smart-field-unknown",
            "申请表中没有字段“nope”",
        ),
        (
            {"source": "form", "field": "category", "op": "like", "value": "1"},
            "smart-op-unknown",
            "不支持的比较方式",
        ),
        (
            {"source": "form", "field": "business_area", "op": "gte", "value": "很大"},
            "smart-value-type",
            "数字字段",
        ),
        (
            {"source": "form", "field": "shop_name", "op": "gte", "value": "a"},
            "smart-op-not-applicable",
            "不能比较大小",
        ),
        (
            {"source": "form", "field": "category", "op": "eq", "value": "合伙企业"},
            "smart-value-not-allowed",
            "没有选项",
        ),
        (
            {"source": "form", "field": "business_scope", "op": "eq", "value": "x"},
            "smart-op-not-applicable",
            "多选字段",
        ),
        (
            {"source": "form", "field": "business_area", "op": "between", "value": [100, 10]},
            "smart-value-range",
            "下限",
        ),
        (
            {"source": "form", "field": "start_date", "op": "gte", "value": "2026/1/1"},
            "smart-value-type",
            "年-月-日",
        ),
        (
            {"source": "form", "field": "shop_name", "op": "matches", "value": "a" * 201},
            "smart-regex-too-long",
            "200",
        ),
        (
            {"source": "form", "field": "shop_name", "op": "matches", "value": "(a"},
            "smart-regex-invalid",
            "无效",
        ),
        (
            {"source": "form", "field": "shop_name", "op": "matches", "value": "(a+)+$"},
            "smart-regex-unsafe",
            "再次重复",
        ),
        ({"source": "form", "field": "chain", "op": "eq", "value": "也许"}, "smart-value-type", "是否字段"),
        ({"source": "shared", "check": "resident_in_mars"}, "smart-check-unknown", "没有共享数据核验项"),
        (
            {"source": "shared", "check": "applicant_age_at_least", "value": "八十"},
            "smart-value-type",
            "周岁",
        ),
        ({"source": "database", "field": "x"}, "smart-source-unknown", "数据来源"),
    ],
)
def test_rule_validation_in_chinese_with_codes(impl, cond, code, text):
    with pytest.raises(ValidationError) as exc:
        smart.create_rule(impl, name="小店", conditions=[cond])
    assert _codes(exc) == [code]
    assert exc.value.messages[0].startswith("第1条条件：") and text in exc.value.messages[0]
    assert not SmartRule.objects.exists()


def test_validation_lists_every_problem_and_normalises_values(impl):
    with pytest.raises(ValidationError) as exc:
        smart.create_rule(
            impl,
            name="x",
            conditions=[
                RULE[0],
                {"source": "form", "field": "nope", "op": "eq", "value": 1},
                {"source": "x"},
            ],
        )
    assert _codes(exc) == ["smart-field-unknown", "smart-source-unknown"]
    assert exc.value.messages[0].startswith("第2条条件") and exc.value.messages[1].startswith("第3条条件")
    with pytest.raises(ValidationError) as empty:
        smart.create_rule(impl, name="x", conditions=[])
    assert empty.value.code == "smart-conditions-empty" and "至少有一个条件" in empty.value.messages[0]
    with pytest.raises(ValidationError) as nameless:
        smart.create_rule(impl, name=" ", conditions=RULE)
    assert nameless.value.code == "smart-name-missing"
    rule = smart.create_rule(
        impl,
        name="字符串也可以",
        conditions=[
            {"source": "form", "field": "business_area", "op": "between", "value": "10，100"},
            {"source": "form", "field": "category", "op": "in", "value": "企业、个体工商户"},
            {"source": "form", "field": "chain", "op": "eq", "value": "否"},
            {"source": "form", "field": "shop_name", "op": "present", "value": "ignored"},
            {"source": "shared", "check": "applicant_age_at_least", "value": "80"},
        ],
    )
    assert rule.conditions == [
        {"source": "form", "field": "business_area", "op": "between", "value": [10, 100]},
        {"source": "form", "field": "category", "op": "in", "value": ["企业", "个体工商户"]},
        {"source": "form", "field": "chain", "op": "eq", "value": False},
        {"source": "form", "field": "shop_name", "op": "present"},
        {"source": "shared", "check": "applicant_age_at_least", "value": 80},
    ]
    assert AuditEvent.objects.filter(action="workflow.smart_rule_create", object_id=str(rule.pk)).exists()


# ---------------------------------------------------------------- the flow


def test_matching_application_is_accepted_and_completed_by_the_rule(
    impl, clock, django_capture_on_commit_callbacks
):
    rule = smart.create_rule(impl, name="小型预包装食品销售", conditions=RULE)
    app = _submit(impl, capture=django_capture_on_commit_callbacks)
    assert app.status == Status.COMPLETED
    assert app.smart_rule_id == rule.pk and app.decision == Decision.APPROVED
    assert app.case_number and app.accepted_by.username == f"system-smart-approval-{impl.organisation_id}"
    tasks = list(Task.objects.filter(application=app))
    assert tasks and all(t.status == TaskStatus.DONE and t.outcome == "approve" for t in tasks)
    assert {t.opinion for t in tasks} == {"智慧审批：符合规则《小型预包装食品销售》"}
    assert ResultDocument.objects.filter(application=app, kind=ResultDocument.Kind.APPROVAL).exists()
    assert app.results.filter(handed_over_at__isnull=False, handover_method="electronic").exists()
    event = app.events.get(action="smart_approval")
    assert event.action_label == "智慧审批" and event.reason == "智慧审批：符合规则《小型预包装食品销售》"
    assert event.data["rule"] == rule.pk and event.data["rule_name"] == "小型预包装食品销售"
    assert [c["passed"] for c in event.data["conditions"]] == [True, True, True]
    assert "不大于 100" in event.data["conditions"][0]["description"]
    actions = list(app.events.values_list("action", flat=True))
    assert actions[:4] == ["create", "submit", "accept", "process_started"]
    assert "smart_approval" in actions and actions[-1] == "complete"
    # idempotent: trying again does nothing
    assert smart.try_smart_approval(app).result == "skipped"
    assert app.events.count() == len(actions)


def test_non_matching_application_stays_with_a_person(impl, clock, django_capture_on_commit_callbacks):
    smart.create_rule(impl, name="小店", conditions=RULE)
    app = _submit(impl, form={**SMALL_SHOP, "business_area": 300}, capture=django_capture_on_commit_callbacks)
    assert app.status == Status.SUBMITTED and app.smart_rule_id is None and not app.case_number
    declined = app.events.get(action="smart_approval_declined")
    assert declined.reason == smart.DECLINE_REASON and declined.actor.username == "system"
    assert declined.data["why"] == "no-rule-matched" and declined.data["first_failing"]["index"] == 1
    assert declined.action_label == "转人工办理"
    assert not Task.objects.filter(application=app).exists()
    assert smart.try_smart_approval(app).result == "skipped"  # already tried this round
    assert app.events.filter(action="smart_approval_declined").count() == 1
    # a person accepts it as usual
    clerk = make_staff(username="clerk-smart", department=impl.organisation, roles=(Role.WINDOW_CLERK,))
    assert cases.accept(app, clerk=clerk).status == Status.IN_PROGRESS


def test_item_not_marked_suitable_is_never_approved_automatically(
    impl, clock, django_capture_on_commit_callbacks
):
    smart.create_rule(impl, name="小店", conditions=RULE)
    smart.set_smart_approval(impl, False)
    app = _submit(impl, capture=django_capture_on_commit_callbacks)
    assert app.status == Status.SUBMITTED
    assert not app.events.filter(action__startswith="smart").exists()
    assert smart.try_smart_approval(app).result == "not-suitable"
    assert Application.objects.get(pk=app.pk).status == Status.SUBMITTED


def test_inactive_rules_do_not_decide(impl, clock, django_capture_on_commit_callbacks):
    rule = smart.create_rule(impl, name="小店", conditions=RULE, is_active=False)
    app = _submit(impl, capture=django_capture_on_commit_callbacks)
    assert app.status == Status.SUBMITTED
    assert app.events.get(action="smart_approval_declined").data["why"] == "no-active-rule"
    smart.set_rule_active(rule, True)
    assert _submit(impl, capture=django_capture_on_commit_callbacks).status == Status.COMPLETED


def test_shared_source_down_means_a_person(impl, clock, monkeypatch, django_capture_on_commit_callbacks):
    from tongban.accounts import adapters

    class Down:
        name = "down"

        def matches(self, name, id_number):
            raise ConnectionError("人口库连接超时")

    monkeypatch.setitem(adapters.POPULATION_SOURCES, "local", Down)
    smart.create_rule(
        impl, name="人口库核验", conditions=[RULE[0], {"source": "shared", "check": "population_verified"}]
    )
    app = _submit(impl, capture=django_capture_on_commit_callbacks)
    assert app.status == Status.SUBMITTED
    failing = app.events.get(action="smart_approval_declined").data["first_failing"]
    assert failing["index"] == 2 and failing["passed"] is False and "暂不可用" in failing["note"]


def test_automatic_handling_that_fails_midway_rolls_back(
    impl, clock, monkeypatch, django_capture_on_commit_callbacks
):
    from tongban.workflow import services as engine

    real = engine.complete_task

    def broken(task, **kwargs):
        if Task.objects.get(pk=getattr(task, "pk", task)).stage == "decide":
            raise RuntimeError("决定书生成失败")
        return real(task, **kwargs)

    monkeypatch.setattr(engine, "complete_task", broken)
    rule = smart.create_rule(impl, name="小店", conditions=RULE)
    app = _submit(impl, capture=django_capture_on_commit_callbacks)
    assert app.status == Status.SUBMITTED and not app.case_number and app.smart_rule_id is None
    assert not Task.objects.filter(application=app).exists()
    declined = app.events.get(action="smart_approval_declined")
    assert declined.data["why"] == "automatic-handling-failed" and declined.data["rule"] == rule.pk
    assert not app.events.filter(action__in=["accept", "smart_approval"]).exists()


def test_a_step_in_another_department_is_left_to_people(clock, django_capture_on_commit_callbacks):
    from tests.workflow.factories import parallel_item

    item = parallel_item()
    smart.set_smart_approval(item.impl, True)
    smart.create_rule(item.impl, name="实名", conditions=[{"source": "shared", "check": "id_verified_l2"}])
    with django_capture_on_commit_callbacks(execute=True):
        app = item.submitted()
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED and not app.case_number
    assert app.events.get(action="smart_approval_declined").data["why"] == "automatic-handling-failed"


def test_the_citizens_submission_never_fails_because_of_smart_approval(
    impl, clock, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(smart, "_try", lambda app_id: 1 / 0)
    smart.create_rule(impl, name="小店", conditions=RULE)
    app = _submit(impl, capture=django_capture_on_commit_callbacks)
    assert app.status == Status.SUBMITTED


def test_enterprise_and_identity_checks(impl, clock):
    from tongban.accounts.crypto import blind_index
    from tongban.accounts.models import Enterprise, PopulationRecord, SocialSecurityCardRecord

    person = cf.citizen("李四")
    app = _submit(impl, person=person)
    checks = {
        key: smart.evaluate([{"source": "shared", "check": key}], form_data={}, app=app)
        for key in smart.SHARED_CHECKS
        if not smart.SHARED_CHECKS[key].param
    }
    assert checks["id_verified_l2"].matched and not checks["id_verified_l3"].matched
    assert not checks["population_verified"].matched  # not in the population registry
    assert not checks["enterprise_active"].matched  # applies as a person
    PopulationRecord.objects.create(name="李四", id_index=blind_index(person.id_number, "resident-id"))
    assert smart.evaluate(
        [{"source": "shared", "check": "population_verified"}], form_data={}, app=app
    ).matched

    born = int(person.id_number[6:10])
    age = app.received_date.year - born
    older = {"source": "shared", "check": "applicant_age_at_least", "value": age + 1}
    younger = {"source": "shared", "check": "applicant_age_at_least", "value": age - 1}
    assert smart.evaluate([younger], form_data={}, app=app).matched
    assert not smart.evaluate([older], form_data={}, app=app).matched

    SocialSecurityCardRecord.objects.create(
        card_index=blind_index("A12345678", "ss-card"),
        name="李四",
        id_index=blind_index(person.id_number, "resident-id"),
    )
    card = {"source": "shared", "check": "social_security_card_valid", "field": "card_no"}
    assert smart.evaluate([card], form_data={"card_no": "a1234 5678"}, app=app).matched
    assert not smart.evaluate([card], form_data={"card_no": "B0000"}, app=app).matched

    regions = liuan()
    code = "91341502MA2N00001X"
    enterprise = Enterprise.objects.create(
        name="金安商贸", credit_code=code, legal_rep_name="李四", legal_rep_id_index="x"
    )
    app.applicant_enterprise = enterprise
    record = LegalEntityRecord.objects.create(
        credit_code=code,
        name="金安商贸",
        legal_rep_name="李四",
        legal_rep_id_index="x",
        region=regions["jinan"],
    )
    active = [{"source": "shared", "check": "enterprise_active"}]
    in_region = [{"source": "shared", "check": "enterprise_in_region"}]
    assert smart.evaluate(active, form_data={}, app=app).matched
    assert smart.evaluate(
        in_region, form_data={}, app=app
    ).matched  # 金安区 is inside 六安市 (the item's region)
    record.region = regions["province"]
    record.save()
    assert not smart.evaluate(in_region, form_data={}, app=app).matched
    record.status = "revoked"
    record.save()
    assert not smart.evaluate(active, form_data={}, app=app).matched


def test_the_service_account_cannot_log_in_and_acts_only_for_its_department(impl):
    user = smart.service_account(impl.organisation)
    assert user.is_active and not user.has_usable_password()
    assert smart.service_account(impl.organisation).pk == user.pk
    assert user.staff_profile.department_id == impl.organisation_id
    other = department(liuan()["yuan"], "民政", "民政局")
    assert smart.service_account(other).pk != user.pk


# ---------------------------------------------------------------- pages


@pytest.fixture
def admin_user(impl):
    return make_staff(username="catalogue-admin", department=impl.organisation, roles=(Role.CATALOGUE_ADMIN,))


def _rows(conds: list[dict], extra: int = 1) -> dict:
    data = {
        "c-TOTAL_FORMS": str(len(conds) + extra),
        "c-INITIAL_FORMS": "0",
        "c-MIN_NUM_FORMS": "0",
        "c-MAX_NUM_FORMS": "20",
    }
    for i, cond in enumerate(conds):
        for key, value in cond.items():
            data[f"c-{i}-{key}"] = value
    return data


def test_pages_mark_create_edit_test_and_deactivate(impl, admin_user, client, clock):
    smart.set_smart_approval(impl, False)
    login_staff(client, admin_user)
    listing = client.get("/workbench/smart/")
    assert listing.status_code == 200 and impl.basic_item.name in listing.content.decode()
    page = client.get(f"/workbench/smart/{impl.code}/")
    assert "设为适用智慧审批" in page.content.decode()
    response = client.post(f"/workbench/smart/{impl.code}/suitable/", {"smart_approval": "1"})
    assert response.status_code == 302
    impl.refresh_from_db()
    assert impl.smart_approval

    form = client.get(f"/workbench/smart/{impl.code}/rules/new/")
    assert form.status_code == 200 and "经营场所面积（平方米）" in form.content.decode()
    bad = client.post(
        f"/workbench/smart/{impl.code}/rules/new/",
        {
            "name": "小店",
            "is_active": "on",
            **_rows([{"source": "form", "field": "business_area", "op": "gte", "value": "很大"}]),
        },
    )
    assert bad.status_code == 200
    assert "第1条条件：“经营场所面积（平方米）”是数字字段，比较值须为数字。" in bad.content.decode()
    good = client.post(
        f"/workbench/smart/{impl.code}/rules/new/",
        {
            "name": "小店",
            "is_active": "on",
            **_rows(
                [
                    {
                        "source": "form",
                        "field": "business_area",
                        "op": "between",
                        "value": "0",
                        "value_to": "100",
                    },
                    {
                        "source": "form",
                        "field": "business_scope",
                        "op": "in",
                        "value": "预包装食品销售、散装食品销售",
                    },
                    {"source": "shared", "check": "id_verified_l2"},
                ]
            ),
        },
    )
    assert good.status_code == 302
    rule = SmartRule.objects.get()
    assert rule.conditions[0] == {
        "source": "form",
        "field": "business_area",
        "op": "between",
        "value": [0, 100],
    }
    assert rule.created_by == admin_user and rule.is_active
    detail = client.get(f"/workbench/smart/{impl.code}/").content.decode()
    assert "《小店》" in detail and "“经营场所面积（平方米）”介于 0 至 100" in detail

    edit = client.get(f"/workbench/smart/rules/{rule.pk}/edit/")
    assert edit.status_code == 200 and 'value="100"' in edit.content.decode()
    edited = client.post(
        f"/workbench/smart/rules/{rule.pk}/edit/",
        {
            "name": "小店（改）",
            "is_active": "on",
            **_rows([{"source": "form", "field": "category", "op": "eq", "value": "企业"}]),
        },
    )
    assert edited.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "小店（改）" and len(rule.conditions) == 1

    tested = client.post(f"/workbench/smart/rules/{rule.pk}/test/", {"f_category": "企业"})
    assert tested.status_code == 200 and "符合：该申请将被自动受理" in tested.content.decode()
    tested = client.post(f"/workbench/smart/rules/{rule.pk}/test/", {"f_category": "个体工商户"})
    assert "不符合：该申请将由工作人员办理" in tested.content.decode()
    missing = client.post(f"/workbench/smart/rules/{rule.pk}/test/", {"reference": "SQ99999999"})
    assert "未找到该事项的这件申请" in missing.content.decode()

    off = client.post(f"/workbench/smart/rules/{rule.pk}/active/", {"is_active": "0"})
    assert off.status_code == 302
    rule.refresh_from_db()
    assert not rule.is_active
    assert AuditEvent.objects.filter(action="workflow.smart_rule_deactivate").exists()


def test_rule_test_page_checks_shared_data_against_an_existing_application(impl, admin_user, client, clock):
    rule = smart.create_rule(impl, name="小店", conditions=RULE)
    smart.set_smart_approval(impl, False)
    app = _submit(impl)
    admin_user.user_permissions.add(
        *__import__("django.contrib.auth.models", fromlist=["Permission"]).Permission.objects.filter(
            codename="view_application"
        )
    )
    login_staff(client, admin_user)
    page = client.post(f"/workbench/smart/rules/{rule.pk}/test/", {"reference": app.reference})
    body = page.content.decode()
    assert "符合：该申请将被自动受理" in body and app.reference in body
    unchecked = client.post(
        f"/workbench/smart/rules/{rule.pk}/test/",
        {"f_business_area": "50", "f_business_scope": "预包装食品销售"},
    )
    assert "共享数据条件未检验" in unchecked.content.decode()


def test_pages_need_permission_and_scope(impl, client):
    viewer = make_staff(username="head-smart", department=impl.organisation, roles=(Role.DEPARTMENT_HEAD,))
    rule = smart.create_rule(impl, name="小店", conditions=RULE)
    login_staff(client, viewer)
    assert client.get(f"/workbench/smart/{impl.code}/").status_code == 200  # may look
    assert client.post(f"/workbench/smart/{impl.code}/suitable/", {"smart_approval": "0"}).status_code == 403
    assert client.get(f"/workbench/smart/{impl.code}/rules/new/").status_code == 403
    assert client.post(f"/workbench/smart/rules/{rule.pk}/active/", {"is_active": "0"}).status_code == 403
    outsider = make_staff(
        username="other-admin",
        department=department(liuan()["yuan"], "民政", "民政局"),
        roles=(Role.CATALOGUE_ADMIN,),
    )
    login_staff(client, outsider)
    assert client.get(f"/workbench/smart/{impl.code}/").status_code == 404
    assert client.get(f"/workbench/smart/rules/{rule.pk}/edit/").status_code == 404
    citizen = cf.citizen()
    client.force_login(citizen.user)
    assert client.get("/workbench/smart/").status_code == 403


# ---------------------------------------------------------------- API


def test_api_rules_and_suitability(impl, admin_user, client, clock):
    base = API
    login_staff(client, admin_user)
    language = client.get(f"{base}/language").json()
    assert (
        "population_verified" in {c["key"] for c in language["checks"]}
        and language["ops"]["between"] == "介于"
    )
    bad = client.post(
        f"{base}/rules",
        {
            "implementation": impl.code,
            "name": "小店",
            "conditions": [{"source": "form", "field": "nope", "op": "eq", "value": 1}],
        },
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "smart-field-unknown" and "申请表中没有字段" in bad.json()["message"]
    created = client.post(
        f"{base}/rules",
        {"implementation": impl.code, "name": "小店", "conditions": RULE},
        content_type="application/json",
    )
    assert created.status_code == 201
    rule_id = created.json()["id"]
    assert created.json()["described"][2].startswith("申请人实名认证等级不低于 L2")
    updated = client.put(
        f"{base}/rules/{rule_id}",
        {"name": "小店", "conditions": RULE[:2], "is_active": True},
        content_type="application/json",
    )
    assert updated.status_code == 200 and len(updated.json()["conditions"]) == 2
    tried = client.post(
        f"{base}/rules/{rule_id}/test", {"form_data": SMALL_SHOP}, content_type="application/json"
    ).json()
    assert tried["matched"] is True and [r["passed"] for r in tried["results"]] == [True, True]
    off = client.put(
        f"{base}/items/{impl.code}/suitable", {"enabled": False}, content_type="application/json"
    )
    assert off.status_code == 200 and off.json()["smart_approval"] is False and len(off.json()["rules"]) == 1

    viewer = make_staff(username="head-api", department=impl.organisation, roles=(Role.DEPARTMENT_HEAD,))
    login_staff(client, viewer)
    assert client.get(f"{base}/items/{impl.code}").status_code == 200
    denied = client.put(
        f"{base}/items/{impl.code}/suitable", {"enabled": True}, content_type="application/json"
    )
    assert denied.status_code == 403
    client.logout()
    assert client.get(f"{base}/rules/{rule_id}").status_code == 401


# ---------------------------------------------------------------- demo


def test_demo_marks_one_item_and_adds_a_rule_idempotently(clock, django_capture_on_commit_callbacks):
    from tests.accounts.helpers import make_citizen, resident_id
    from tests.catalog.factories import demo_departments
    from tongban.accounts.crypto import blind_index
    from tongban.accounts.models import PopulationRecord
    from tongban.catalog import demo as catalog_demo
    from tongban.workflow import smart_demo

    demo_departments(("341500", "341502"))
    catalog_demo.load(counties=["341502"])
    first = smart_demo.load()
    second = smart_demo.load()
    assert first is not None and second.pk == first.pk
    impl = first.implementation
    assert impl.smart_approval and impl.region.code == "341502" and impl.basic_item.name == "高龄津贴申领"
    assert SmartRule.objects.filter(implementation=impl).count() == 1

    def apply(name: str, birth: str, serial: int):
        number = resident_id(serial, birth=birth)
        person = make_citizen(name=name, phone=f"1390000{serial:04d}", id_number=number, level=2)
        PopulationRecord.objects.create(name=name, id_index=blind_index(number, "resident-id"))
        app = cases.start_application(implementation=impl, owner=person.user, person=person)
        with django_capture_on_commit_callbacks(execute=True):
            cases.submit(app, actor=person.user)
        return Application.objects.get(pk=app.pk)

    elder = apply("王老太", "19400305", 901)
    assert elder.status == Status.COMPLETED and elder.smart_rule_id == first.pk
    younger = apply("王小妹", "19700305", 902)
    assert younger.status == Status.SUBMITTED
    failing = younger.events.get(action="smart_approval_declined").data["first_failing"]
    assert "80" in failing["description"]


# ---------------------------------------------------------------- browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_rule_pages_in_a_browser(live_server):
    """Phone (390×844): write a rule with one wrong value, fix it, test it; desktop item page.
    No sideways scrolling, no console errors or CSP violations. Screenshots: test-output/screenshots/."""
    from tests.browser.conftest import SCREENSHOT_DIR
    from tests.browser.threaded import assert_clean as clean
    from tests.browser.threaded import in_browser_pages, staff_cookie

    item = cf.item(guide=GUIDE)
    admin = make_staff(username="smart-browser", department=item.organisation, roles=(Role.CATALOGUE_ADMIN,))
    cookie = staff_cookie(admin, live_server.url)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    base = f"{live_server.url}/workbench/smart/{item.code}"
    item_name = item.basic_item.name  # read here: no database access from the Playwright thread

    def steps(new_page):
        page, problems = new_page("phone")
        page.goto(f"{base}/")
        page.get_by_role("button", name="设为适用智慧审批").click()
        page.wait_for_selector("text=已设为适用智慧审批")
        page.get_by_role("link", name="新增规则").click()
        page.get_by_label("规则名称").fill("小型预包装食品销售")
        page.select_option("#id_c-0-source", "form")
        page.select_option("#id_c-0-field", "business_area")
        page.select_option("#id_c-0-op", "lte")
        page.fill("#id_c-0-value", "一百")
        page.select_option("#id_c-1-source", "shared")
        page.select_option("#id_c-1-check", "id_verified_l2")
        page.get_by_role("button", name="保存规则").click()
        alert = page.locator(".alert-error")
        assert "第1条条件：“经营场所面积（平方米）”是数字字段" in alert.inner_text()
        page.screenshot(path=str(SCREENSHOT_DIR / "smart-rule-error-phone.png"), full_page=True)
        page.fill("#id_c-0-value", "100")
        page.get_by_role("button", name="保存规则").click()
        page.wait_for_url(f"{base}/")
        expect(page.get_by_text("“经营场所面积（平方米）”不大于 100")).to_be_visible()
        clean(page, problems, 390)
        page.screenshot(path=str(SCREENSHOT_DIR / "smart-item-phone.png"), full_page=True)
        page.get_by_role("link", name="测试规则").click()
        page.get_by_label("经营场所面积（平方米）").fill("80")
        page.get_by_role("button", name="测试", exact=True).click()
        expect(page.get_by_text("共享数据条件未检验")).to_be_visible()
        clean(page, problems, 390)
        page.screenshot(path=str(SCREENSHOT_DIR / "smart-test-phone.png"), full_page=True)
        page.context.close()
        page, problems = new_page("desktop")
        page.goto(f"{live_server.url}/workbench/smart/?suitable=1")
        expect(page.get_by_role("link", name=item_name)).to_be_visible()
        clean(page, problems, 1280)
        page.screenshot(path=str(SCREENSHOT_DIR / "smart-list-desktop.png"), full_page=True)
        page.context.close()

    in_browser_pages(steps, cookie)
    assert SmartRule.objects.get().conditions[0]["value"] == 100
