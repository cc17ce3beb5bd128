"""智慧审批 administration pages: which items are suitable, their rules (a form per condition
row, no JavaScript), and testing a rule against a sample form or an existing application.

Permissions: looking needs catalog.view_itemversion (or workflow.view_smartrule); marking items
and editing rules needs catalog.publish_itemversion (事项管理员) or workflow.change_smartrule.
Which items: the catalogue's data scope (``catalog.scope.manageable``); others answer 404.
Rules live in ``smart.py``; these views only translate forms.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tongban.accounts.scope import scope_for
from tongban.cases.models import Application, CaseEvent
from tongban.catalog.models import ItemImplementation
from tongban.catalog.scope import manageable
from tongban.workflow import smart
from tongban.workflow.models import SmartRule

EXTRA_ROWS = 3


def _require_view(request: HttpRequest) -> None:
    if not smart.can_view(request.user):
        raise PermissionDenied("您没有查看智慧审批配置的权限。")


def _require_manage(request: HttpRequest) -> None:
    if not smart.can_manage(request.user):
        raise PermissionDenied("您没有配置智慧审批的权限。")


def _impl(request: HttpRequest, code: str) -> ItemImplementation:
    _require_view(request)
    queryset = manageable(
        request.user,
        ItemImplementation.objects.select_related(
            "basic_item", "organisation", "region", "published_version"
        ),
    )
    return get_object_or_404(queryset, code=code)


def _rule(request: HttpRequest, pk: int) -> SmartRule:
    _require_view(request)
    rule = get_object_or_404(SmartRule.objects.select_related("implementation"), pk=pk)
    _impl(request, rule.implementation.code)  # scope: 404 when the item is not manageable
    return rule


def _fail(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# ---------------------------------------------------------------- forms


class RuleForm(forms.Form):
    name = forms.CharField(
        label="规则名称",
        max_length=100,
        error_messages={"required": "请填写规则名称。", "max_length": "规则名称不能超过 100 个字符。"},
    )
    is_active = forms.BooleanField(label="启用", required=False, initial=True)


class ConditionForm(forms.Form):
    source = forms.ChoiceField(
        label="数据来源",
        required=False,
        choices=[("", "（不使用此行）"), ("form", "申请表字段"), ("shared", "共享数据核验")],
    )
    field = forms.ChoiceField(label="申请表字段", required=False)
    op = forms.ChoiceField(label="比较方式", required=False, choices=[("", "—"), *smart.OPS.items()])
    value = forms.CharField(
        label="比较值",
        required=False,
        max_length=500,
        help_text="“属于/不属于”可列多个值，用顿号或逗号分隔；“介于”此处填下限；周岁核验填周岁数。",
    )
    value_to = forms.CharField(label="上限（仅“介于”）", required=False, max_length=200)
    check = forms.ChoiceField(
        label="共享数据核验项",
        required=False,
        choices=[("", "—"), *((c.key, c.label) for c in smart.SHARED_CHECKS.values())],
    )

    def __init__(self, *args, field_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", "—"), *field_choices]

    def condition(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        source = data.get("source")
        if not source or data.get("DELETE"):
            return None
        if source == "shared":
            cond: dict[str, Any] = {"source": "shared", "check": data.get("check") or ""}
            check = smart.SHARED_CHECKS.get(cond["check"])
            if check is not None and check.param == "age":
                cond["value"] = data.get("value", "")
            if check is not None and check.param == "field":
                cond["field"] = data.get("field", "")
            return cond
        cond = {"source": "form", "field": data.get("field") or "", "op": data.get("op") or ""}
        if cond["op"] == "between":
            cond["value"] = [data.get("value", ""), data.get("value_to", "")]
        elif cond["op"] not in smart.NO_VALUE_OPS:
            cond["value"] = data.get("value", "")
        return cond


ConditionFormSet = forms.formset_factory(
    ConditionForm, extra=EXTRA_ROWS, can_delete=True, max_num=smart.MAX_CONDITIONS
)


def _initial_rows(conditions: list[dict]) -> list[dict]:
    rows = []
    for cond in conditions or []:
        value = cond.get("value")
        row = {
            "source": cond.get("source", ""),
            "field": cond.get("field", ""),
            "op": cond.get("op", ""),
            "check": cond.get("check", ""),
        }
        if cond.get("op") == "between" and isinstance(value, list) and len(value) == 2:
            row["value"], row["value_to"] = str(value[0]), str(value[1])
        elif isinstance(value, list):
            row["value"] = "、".join(str(v) for v in value)
        elif isinstance(value, bool):
            row["value"] = "是" if value else "否"
        elif value is not None:
            row["value"] = str(value)
        rows.append(row)
    return rows


def _field_choices(impl: ItemImplementation) -> list[tuple[str, str]]:
    try:
        return [(name, f"{title}（{name}）") for name, title in smart.field_choices(impl)]
    except ValidationError:
        return []


def _edit(request: HttpRequest, impl: ItemImplementation, rule: SmartRule | None) -> HttpResponse:
    choices = _field_choices(impl)
    if request.method == "POST":
        form = RuleForm(request.POST)
        rows = ConditionFormSet(request.POST, prefix="c", form_kwargs={"field_choices": choices})
        if form.is_valid() and rows.is_valid():
            conditions = [c for c in (f.condition() for f in rows.forms if f.cleaned_data) if c]
            try:
                if rule is None:
                    rule = smart.create_rule(
                        impl,
                        name=form.cleaned_data["name"],
                        conditions=conditions,
                        is_active=form.cleaned_data["is_active"],
                        actor=request.user,
                        request=request,
                    )
                    messages.success(request, f"已新增规则《{rule.name}》。")
                else:
                    rule = smart.update_rule(
                        rule,
                        name=form.cleaned_data["name"],
                        conditions=conditions,
                        is_active=form.cleaned_data["is_active"],
                        actor=request.user,
                        request=request,
                    )
                    messages.success(request, f"已保存规则《{rule.name}》。")
                return redirect("smart:item", code=impl.code)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
    else:
        initial = {"name": rule.name, "is_active": rule.is_active} if rule else {"is_active": True}
        form = RuleForm(initial=initial)
        rows = ConditionFormSet(
            prefix="c",
            initial=_initial_rows(rule.conditions if rule else []),
            form_kwargs={"field_choices": choices},
        )
    return render(
        request,
        "workflow/smart/rule_form.html",
        {
            "impl": impl,
            "rule": rule,
            "form": form,
            "rows": rows,
            "checks": smart.SHARED_CHECKS.values(),
            "ops": smart.OPS,
            "max_regex": smart.MAX_REGEX_LENGTH,
            "no_schema": not choices,
        },
    )


SAMPLE_HELP = {
    "array": "多选：各选项用顿号或逗号分隔。",
    "boolean": "填写“是”或“否”。",
    "date": "格式：2026-01-31。",
    "number": "填写数字。",
}


class SampleForm(forms.Form):
    """One text input per form field of the item, and optionally an existing application."""

    reference = forms.CharField(
        label="已有申请的办件编号或申请编号（可选）",
        required=False,
        max_length=50,
        help_text="填写后，共享数据条件按该申请的申请人核验；下方未填任何字段时使用该申请的申请表。",
    )

    def __init__(self, *args, field_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.sample_names = []
        for name, title, kind in field_choices:
            self.fields[f"f_{name}"] = forms.CharField(
                label=title, required=False, max_length=500, help_text=SAMPLE_HELP.get(kind, "")
            )
            self.sample_names.append(name)

    def sample(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(f"f_{name}", "") for name in self.sample_names}


def _sample_fields(impl: ItemImplementation) -> list[tuple[str, str, str]]:
    try:
        properties = smart.form_schema(impl).get("properties", {})
    except ValidationError:
        return []
    ordered = sorted(properties.items(), key=lambda kv: kv[1].get("x-order", 0))
    return [(name, prop.get("title") or name, smart.field_kind(prop)) for name, prop in ordered]


def _find_application(request: HttpRequest, impl: ItemImplementation, reference: str) -> Application | None:
    reference = reference.strip().upper()
    queryset = scope_for(request.user).filter(
        Application.objects.filter(implementation=impl).select_related(
            "implementation__region", "applicant_person", "applicant_enterprise"
        )
    )
    if reference.startswith("SQ") and reference[2:].isdigit():
        return queryset.filter(pk=int(reference[2:])).first()
    return queryset.filter(case_number=reference).first()


# ---------------------------------------------------------------- pages


@login_required
def item_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    query = (request.GET.get("q") or "").strip()
    only = request.GET.get("suitable") == "1"
    queryset = manageable(
        request.user, ItemImplementation.objects.select_related("basic_item", "organisation", "region")
    )
    if query:
        queryset = queryset.filter(
            Q(basic_item__name__icontains=query)
            | Q(code__icontains=query)
            | Q(organisation__name__icontains=query)
        )
    if only:
        queryset = queryset.filter(smart_approval=True)
    page = Paginator(queryset.order_by("-smart_approval", "region__path", "basic_item__code"), 50).get_page(
        request.GET.get("page")
    )
    ids = [impl.pk for impl in page]
    active = dict(
        SmartRule.objects.filter(implementation__in=ids, is_active=True)
        .values_list("implementation")
        .annotate(n=Count("id"))
    )
    decided = dict(
        Application.objects.filter(implementation__in=ids, smart_rule__isnull=False)
        .values_list("implementation")
        .annotate(n=Count("id"))
    )
    for impl in page:
        impl.active_rules = active.get(impl.pk, 0)
        impl.smart_decided = decided.get(impl.pk, 0)
    return render(request, "workflow/smart/index.html", {"page": page, "query": query, "only": only})


@login_required
def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    impl = _impl(request, code)
    titles = smart.titles_for(impl)
    rules = list(impl.smart_rules.select_related("created_by"))
    for rule in rules:
        rule.described = [smart.describe(c, titles) for c in rule.conditions or []]
    decided = (
        Application.objects.filter(implementation=impl, smart_rule__isnull=False)
        .select_related("smart_rule")
        .order_by("-accepted_at")
    )
    declined = CaseEvent.objects.filter(application__implementation=impl, action="smart_approval_declined")
    return render(
        request,
        "workflow/smart/item.html",
        {
            "impl": impl,
            "rules": rules,
            "recent": decided[:10],
            "decided_count": decided.count(),
            "declined_count": declined.count(),
            "can_manage": smart.can_manage(request.user),
            "no_schema": not titles,
        },
    )


@login_required
@require_POST
def set_suitable(request: HttpRequest, code: str) -> HttpResponse:
    impl = _impl(request, code)
    _require_manage(request)
    enabled = request.POST.get("smart_approval") == "1"
    smart.set_smart_approval(impl, enabled, actor=request.user, request=request)
    if enabled:
        messages.success(request, "已设为适用智慧审批：符合已启用规则的申请将自动受理、自动审批。")
    else:
        messages.success(request, "已取消适用智慧审批：该事项的申请全部由工作人员办理。")
    return redirect("smart:item", code=impl.code)


@login_required
def rule_create(request: HttpRequest, code: str) -> HttpResponse:
    impl = _impl(request, code)
    _require_manage(request)
    return _edit(request, impl, None)


@login_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(request, pk)
    _require_manage(request)
    impl = _impl(request, rule.implementation.code)
    return _edit(request, impl, rule)


@login_required
@require_POST
def rule_active(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(request, pk)
    _require_manage(request)
    active = request.POST.get("is_active") == "1"
    rule = smart.set_rule_active(rule, active, actor=request.user, request=request)
    messages.success(request, f"已{'启用' if active else '停用'}规则《{rule.name}》。")
    return redirect("smart:item", code=rule.implementation.code)


@login_required
def rule_test(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(request, pk)
    impl = _impl(request, rule.implementation.code)
    choices = _sample_fields(impl)
    evaluation = None
    application = None
    if request.method == "POST":
        form = SampleForm(request.POST, field_choices=choices)
        if form.is_valid():
            reference = form.cleaned_data["reference"]
            if reference:
                application = _find_application(request, impl, reference)
                if application is None:
                    form.add_error("reference", "未找到该事项的这件申请，或不在您的数据权限范围内。")
            if not form.errors:
                sample = smart.parse_sample(impl, form.sample())
                use_app_form = application is not None and not sample
                evaluation = smart.dry_run(
                    impl, rule.conditions, form_data=None if use_app_form else sample, app=application
                )
    else:
        form = SampleForm(field_choices=choices)
    return render(
        request,
        "workflow/smart/test.html",
        {"impl": impl, "rule": rule, "form": form, "evaluation": evaluation, "application": application},
    )
