"""智慧审批 API: which items are suitable, their rules, and testing a rule.

Same permissions and data scope as the pages (``views_smart``): reading needs
catalog.view_itemversion (or workflow.view_smartrule), writing catalog.publish_itemversion (or
workflow.change_smartrule); items outside ``catalog.scope.manageable`` answer 404. Invalid rules
answer 422 with ``code`` (``smart-…``, or ``smart-rule-invalid`` for several problems), a Chinese
``message`` and ``errors`` [{code, message}] listing every problem.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from tongban.accounts.api import AUTH
from tongban.accounts.scope import scope_for
from tongban.cases.models import Application
from tongban.catalog.models import ItemImplementation
from tongban.catalog.scope import manageable
from tongban.workflow import smart
from tongban.workflow.models import SmartRule

router = Router(tags=["智慧审批"])


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[dict] | None = None


class SmartCheckOut(Schema):
    key: str
    label: str
    source: str = Field(description="数据来源")
    param: str = Field(description='"" 无参数；"age" 须给 value（周岁）；"field" 须给 field（卡号字段）')


class SmartLanguageOut(Schema):
    ops: dict[str, str] = Field(description="申请表条件的比较方式")
    checks: list[SmartCheckOut]
    max_conditions: int
    max_regex_length: int


class SmartRuleOut(Schema):
    id: int
    implementation: str = Field(description="实施编码")
    name: str
    conditions: list[dict[str, Any]]
    described: list[str] = Field(description="各条件的中文说明")
    is_active: bool
    created_at: dt.datetime


class SmartItemOut(Schema):
    code: str
    name: str
    organisation: str
    smart_approval: bool
    rules: list[SmartRuleOut]


class SmartSuitableIn(Schema):
    enabled: bool


class SmartRuleIn(Schema):
    implementation: str = Field(description="实施编码")
    name: str
    conditions: list[dict[str, Any]] = Field(
        description='条件列表，全部符合才自动审批，如 [{"source": "form", "field": "business_area", '
        '"op": "lte", "value": 100}, {"source": "shared", "check": "enterprise_active"}]'
    )
    is_active: bool = True


class SmartRuleUpdateIn(Schema):
    name: str
    conditions: list[dict[str, Any]]
    is_active: bool | None = None


class SmartDryRunIn(Schema):
    form_data: dict[str, Any] | None = Field(
        None, description="样例申请表；不给且给了 application 时用该申请的申请表"
    )
    application: int | None = Field(None, description="已有申请的编号（共享数据按其申请人核验）")


class SmartResultOut(Schema):
    index: int
    description: str
    passed: bool | None = Field(description="null 表示未检验（未指定申请时的共享数据条件）")
    note: str


class SmartDryRunOut(Schema):
    matched: bool
    results: list[SmartResultOut]


def _require_view(request: HttpRequest) -> None:
    if not smart.can_view(request.user):
        raise HttpError(403, "您没有查看智慧审批配置的权限。")


def _require_manage(request: HttpRequest) -> None:
    if not smart.can_manage(request.user):
        raise HttpError(403, "您没有配置智慧审批的权限。")


def _impl(request: HttpRequest, code: str) -> ItemImplementation:
    _require_view(request)
    queryset = manageable(
        request.user, ItemImplementation.objects.select_related("basic_item", "organisation", "region")
    )
    return get_object_or_404(queryset, code=code)


def _rule(request: HttpRequest, pk: int) -> SmartRule:
    _require_view(request)
    rule = get_object_or_404(SmartRule.objects.select_related("implementation"), pk=pk)
    _impl(request, rule.implementation.code)
    return rule


def _invalid(exc: ValidationError) -> Status:
    errors = [{"code": e.code or "invalid-input", "message": m} for e in exc.error_list for m in e.messages]
    return Status(422, {"code": smart.error_code(exc), "message": "；".join(exc.messages), "errors": errors})


def _rule_out(rule: SmartRule, titles: dict[str, str] | None = None) -> dict:
    titles = titles if titles is not None else smart.titles_for(rule.implementation)
    return {
        "id": rule.pk,
        "implementation": rule.implementation.code,
        "name": rule.name,
        "conditions": rule.conditions,
        "described": [smart.describe(c, titles) for c in rule.conditions or []],
        "is_active": rule.is_active,
        "created_at": rule.created_at,
    }


def _item_out(impl: ItemImplementation) -> dict:
    titles = smart.titles_for(impl)
    return {
        "code": impl.code,
        "name": impl.basic_item.name,
        "organisation": impl.organisation.name,
        "smart_approval": impl.smart_approval,
        "rules": [_rule_out(r, titles) for r in impl.smart_rules.select_related("implementation")],
    }


@router.get("/language", response=SmartLanguageOut, auth=AUTH, summary="条件语言：比较方式与共享数据核验项")
def language(request: HttpRequest):
    _require_view(request)
    return {
        "ops": smart.OPS,
        "checks": [
            {"key": c.key, "label": c.label, "source": c.source, "param": c.param}
            for c in smart.SHARED_CHECKS.values()
        ],
        "max_conditions": smart.MAX_CONDITIONS,
        "max_regex_length": smart.MAX_REGEX_LENGTH,
    }


@router.get(
    "/items/{code}",
    response={200: SmartItemOut, 403: ErrorOut, 404: ErrorOut},
    auth=AUTH,
    summary="事项的智慧审批配置",
)
def item(request: HttpRequest, code: str):
    return _item_out(_impl(request, code))


@router.put(
    "/items/{code}/suitable",
    response={200: SmartItemOut, 403: ErrorOut, 404: ErrorOut},
    auth=AUTH,
    summary="设置或取消“适用智慧审批”",
)
def set_suitable(request: HttpRequest, code: str, payload: SmartSuitableIn):
    impl = _impl(request, code)
    _require_manage(request)
    impl = smart.set_smart_approval(impl, payload.enabled, actor=request.user, request=request)
    return _item_out(impl)


@router.post(
    "/rules",
    response={201: SmartRuleOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    auth=AUTH,
    summary="新增智慧审批规则（按事项现行申请表校验）",
)
def create_rule(request: HttpRequest, payload: SmartRuleIn):
    impl = _impl(request, payload.implementation)
    _require_manage(request)
    try:
        rule = smart.create_rule(
            impl,
            name=payload.name,
            conditions=payload.conditions,
            is_active=payload.is_active,
            actor=request.user,
            request=request,
        )
    except ValidationError as exc:
        return _invalid(exc)
    return Status(201, _rule_out(rule))


@router.get(
    "/rules/{pk}", response={200: SmartRuleOut, 403: ErrorOut, 404: ErrorOut}, auth=AUTH, summary="规则详情"
)
def get_rule(request: HttpRequest, pk: int):
    return _rule_out(_rule(request, pk))


@router.put(
    "/rules/{pk}",
    response={200: SmartRuleOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    auth=AUTH,
    summary="修改规则（名称、条件、启用/停用）",
)
def update_rule(request: HttpRequest, pk: int, payload: SmartRuleUpdateIn):
    rule = _rule(request, pk)
    _require_manage(request)
    try:
        rule = smart.update_rule(
            rule,
            name=payload.name,
            conditions=payload.conditions,
            is_active=payload.is_active,
            actor=request.user,
            request=request,
        )
    except ValidationError as exc:
        return _invalid(exc)
    return _rule_out(rule)


@router.post(
    "/rules/{pk}/test",
    response={200: SmartDryRunOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    auth=AUTH,
    summary="测试规则（样例申请表或已有申请；不受理、不审批）",
)
def dry_run(request: HttpRequest, pk: int, payload: SmartDryRunIn):
    rule = _rule(request, pk)
    app = None
    if payload.application is not None:
        app = (
            scope_for(request.user)
            .filter(Application.objects.filter(implementation=rule.implementation, pk=payload.application))
            .select_related("implementation__region", "applicant_person", "applicant_enterprise")
            .first()
        )
        if app is None:
            return Status(
                422,
                {
                    "code": "smart-application-unknown",
                    "message": "未找到该事项的这件申请，或不在您的数据权限范围内。",
                },
            )
    evaluation = smart.dry_run(rule.implementation, rule.conditions, form_data=payload.form_data, app=app)
    return {
        "matched": evaluation.matched,
        "results": [
            {"index": r.index, "description": r.description, "passed": r.passed, "note": r.note}
            for r in evaluation.results
        ],
    }
