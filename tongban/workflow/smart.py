"""智慧审批 — rule-based automatic acceptance and approval.

An administrator marks an implementation-list item as suitable (``ItemImplementation
.smart_approval``) and writes rules (``SmartRule``). When an application for such an item is
submitted and every condition of an active rule holds, the application is accepted and every
step of its process is approved automatically, and the case records which rule decided.
Anything outside the rules goes to a person, as before.

Condition language — ``SmartRule.conditions`` is a JSON list; ALL conditions must hold:

* ``{"source": "form", "field": "<form field>", "op": "<op>", "value": ...}`` on the
  application form. ``op`` is one of :data:`OPS`:

  - ``eq`` / ``ne``: equal / not equal (strings compared trimmed, numbers numerically);
  - ``in`` / ``not_in``: ``value`` is a list; for a multiple-choice (array) field ``in`` means
    every chosen option is in the list and ``not_in`` that none is;
  - ``gte`` / ``lte``: numbers, or ISO dates (``"2024-01-31"``) for date fields;
  - ``between``: ``value`` is ``[low, high]``, both included;
  - ``present`` / ``absent``: filled in / left empty (no ``value``);
  - ``matches``: ``value`` is a regular expression (at most :data:`MAX_REGEX_LENGTH`
    characters, no nested repetition) the whole value must match.

  A condition on an empty field is false (except ``absent``), so a missing answer never
  approves anything.

* ``{"source": "shared", "check": "<check>"}`` (some checks take ``"value"`` or ``"field"``):
  a named check against the shared data sources (共享数据) behind
  ``tongban.accounts.adapters`` — see :data:`SHARED_CHECKS`.

Evaluation is total: an unknown operator, a field missing from the form, a shared-data source
that is down or raises — each makes that condition false ("no match": a person handles the
case); it never raises.

Rules are validated when saved against the item's current (published) form schema, with
Chinese messages and stable codes (``smart-…``).

The flow (:func:`try_smart_approval`) runs after the citizen's submission has committed (a
``case_events_recorded`` receiver for action ``submit`` defers it with ``transaction.on_commit``),
so a submission never fails because of it. The automatic actions are taken by a per-department
service account (:func:`service_account`, see its docstring for why) through the same services
a person uses: ``cases.services.accept`` and the engine's ``claim`` / ``complete_task``.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from tongban.cases.hooks import case_events_recorded
from tongban.cases.models import EVENT_LABELS, Application, CaseEvent, Status
from tongban.core.audit import record_event
from tongban.workflow.models import SmartRule

logger = logging.getLogger(__name__)

OPS: dict[str, str] = {
    "eq": "等于",
    "ne": "不等于",
    "in": "属于",
    "not_in": "不属于",
    "gte": "不小于",
    "lte": "不大于",
    "between": "介于",
    "present": "已填写",
    "absent": "未填写",
    "matches": "符合正则表达式",
}
NO_VALUE_OPS = {"present", "absent"}
LIST_OPS = {"in", "not_in"}
ORDER_OPS = {"gte", "lte", "between"}
ARRAY_OPS = {"in", "not_in", "present", "absent"}

MAX_CONDITIONS = 20
MAX_LIST_VALUES = 100
MAX_REGEX_LENGTH = 200
MAX_MATCH_INPUT = 500
MAX_STRING_VALUE = 200
#: ``(a+)+``, ``(a*)*``, ``(a|aa){2,}`` …: repetition of a repeated group (catastrophic backtracking).
_NESTED_REPEAT = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

SMART_EVENT_LABELS = {k: EVENT_LABELS[k] for k in ("smart_approval", "smart_approval_declined")}
DECLINE_REASON = "未符合智慧审批规则，转工作人员办理"
HANDOVER = "electronic"  # 电子送达: the result is in the applicant's personal centre
MAX_STEPS = 50  # tasks completed automatically for one case before giving up (a loop guard)


# ---------------------------------------------------------------- shared-data checks


def _applicant_identity(app: Application) -> tuple[str, str]:
    """(name, ID number) of the natural person behind the application."""
    person = app.applicant_person
    if person is not None:
        return person.name, person.id_number or ""
    if app.applicant_enterprise_id:
        return "", ""  # a walk-in enterprise application names no person
    return app.applicant_name, app.applicant_id_number or ""


def _check_population(app: Application, cond: dict, form: dict) -> bool:
    from tongban.accounts.adapters import population_source

    name, number = _applicant_identity(app)
    return bool(name and number) and bool(population_source().matches(name, number))


def _check_level(minimum: int) -> Callable[[Application, dict, dict], bool]:
    def check(app: Application, cond: dict, form: dict) -> bool:
        person = app.applicant_person
        return person is not None and int(person.level) >= minimum

    return check


def _legal_entity(app: Application):
    from tongban.accounts.adapters import legal_entity_registry

    enterprise = app.applicant_enterprise
    if enterprise is None or not enterprise.credit_code:
        return None
    return legal_entity_registry().lookup(enterprise.credit_code)


def _check_enterprise_active(app: Application, cond: dict, form: dict) -> bool:
    entity = _legal_entity(app)
    return entity is not None and bool(entity.active)


def _check_enterprise_in_region(app: Application, cond: dict, form: dict) -> bool:
    from tongban.core.models import Region

    entity = _legal_entity(app)
    if entity is None or not entity.active or entity.region_id is None:
        return False
    path = Region.objects.filter(pk=entity.region_id).values_list("path", flat=True).first()
    return bool(path) and path.startswith(app.implementation.region.path)


def _check_age(app: Application, cond: dict, form: dict) -> bool:
    from tongban.core.identifiers import validate_resident_id

    _name, number = _applicant_identity(app)
    if not number:
        return False
    born = validate_resident_id(number).birth_date
    on = app.received_date or timezone.localdate()
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return age >= int(cond["value"])


def _check_social_security_card(app: Application, cond: dict, form: dict) -> bool:
    from tongban.accounts.adapters import social_security_source

    card = form.get(cond["field"])
    name, number = _applicant_identity(app)
    if not isinstance(card, str) or not card.strip() or not (name and number):
        return False
    return bool(social_security_source().matches(card, name, number))


@dataclass(frozen=True)
class SharedCheck:
    key: str
    label: str
    source: str  # 数据来源
    run: Callable[[Application, dict, dict], bool]
    param: str = ""  # "" | "age" (value: whole years) | "field" (form field holding a number)
    help: str = ""


SHARED_CHECKS: dict[str, SharedCheck] = {
    c.key: c
    for c in [
        SharedCheck(
            "population_verified",
            "人口库核验：申请人姓名与公民身份号码一致",
            "人口基础信息库",
            _check_population,
        ),
        SharedCheck(
            "id_verified_l2",
            "申请人实名认证等级不低于 L2（身份信息已核验）",
            "统一身份认证",
            _check_level(2),
            help="窗口登记、未注册的申请人没有实名等级，不符合。",
        ),
        SharedCheck(
            "id_verified_l3",
            "申请人实名认证等级为 L3（人脸识别已核验）",
            "统一身份认证",
            _check_level(3),
        ),
        SharedCheck(
            "enterprise_active",
            "法人库核验：申请单位已登记且状态为存续",
            "法人基础信息库",
            _check_enterprise_active,
        ),
        SharedCheck(
            "enterprise_in_region",
            "法人库核验：申请单位存续且登记在本事项实施区划内",
            "法人基础信息库",
            _check_enterprise_in_region,
        ),
        SharedCheck(
            "applicant_age_at_least",
            "申请人年满规定周岁（按公民身份号码中的出生日期，以收件日计）",
            "公民身份号码",
            _check_age,
            param="age",
        ),
        SharedCheck(
            "social_security_card_valid",
            "社保卡核验：申请表所填社会保障卡有效且属于申请人",
            "社会保障卡库",
            _check_social_security_card,
            param="field",
        ),
    ]
}


# ---------------------------------------------------------------- schema helpers


def form_schema(implementation) -> dict[str, Any]:
    """The item's current (published) composed form schema."""
    from tongban.catalog.forms_schema import compose_schema

    version = implementation.published_version
    if version is None:
        raise ValidationError(
            "该事项没有已发布的办事指南，不能配置智慧审批规则。", code="smart-item-not-published"
        )
    return compose_schema(version)


def field_kind(prop: dict) -> str:
    """string | number | boolean | date | array (how a form field's values compare)."""
    kind = prop.get("type")
    if kind in ("number", "integer"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "array":
        return "array"
    if prop.get("format") == "date":
        return "date"
    return "string"


def field_choices(implementation) -> list[tuple[str, str]]:
    """(name, title) of the form fields, in form order — for the rule editor."""
    properties = form_schema(implementation).get("properties", {})
    ordered = sorted(properties.items(), key=lambda kv: kv[1].get("x-order", 0))
    return [(name, prop.get("title") or name) for name, prop in ordered]


def _enum_of(prop: dict) -> list | None:
    if field_kind(prop) == "array":
        return (prop.get("items") or {}).get("enum")
    return prop.get("enum")


# ---------------------------------------------------------------- validation


def _err(n: int, message: str, code: str, **params) -> ValidationError:
    return ValidationError(f"第{n}条条件：" + message, code=code, params=params or None)


_TRUE = {"true", "1", "是", "yes", "y"}
_FALSE = {"false", "0", "否", "no", "n"}


def _coerce(n: int, kind: str, value: Any, title: str) -> Any:
    """One scalar value for a field of ``kind`` (arrays compare their options as strings)."""
    if kind == "number":
        if isinstance(value, bool):
            raise _err(n, "“%(t)s”是数字字段，比较值须为数字。", "smart-value-type", t=title)
        if isinstance(value, int | float):
            number = value
        else:
            try:
                text = str(value).strip()
                number = int(text) if re.fullmatch(r"-?\d+", text) else float(text)
            except (TypeError, ValueError):
                raise _err(n, "“%(t)s”是数字字段，比较值须为数字。", "smart-value-type", t=title) from None
        if isinstance(number, float) and not math.isfinite(number):
            raise _err(n, "“%(t)s”的比较值须为有限的数字。", "smart-value-type", t=title)
        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise _err(n, "“%(t)s”是是否字段，比较值须为“是”或“否”。", "smart-value-type", t=title)
    if isinstance(value, dict | list) or value is None:
        raise _err(n, "“%(t)s”的比较值须为文字。", "smart-value-type", t=title)
    text = str(value).strip()
    if not text:
        raise _err(n, "请填写“%(t)s”的比较值。", "smart-value-missing", t=title)
    if len(text) > MAX_STRING_VALUE:
        raise _err(n, "比较值不能超过 %(m)s 个字符。", "smart-value-too-long", m=MAX_STRING_VALUE)
    if kind == "date":
        try:
            dt.date.fromisoformat(text)
            if not _ISO_DATE.match(text):
                raise ValueError
        except ValueError:
            raise _err(
                n, "“%(t)s”是日期字段，比较值须为“年-月-日”格式，如 2024-01-31。", "smart-value-type", t=title
            ) from None
    return text


def _check_enum(n: int, prop: dict, values: list, title: str) -> None:
    enum = _enum_of(prop)
    if enum is None:
        return
    allowed = {str(e) for e in enum}
    bad = [str(v) for v in values if str(v) not in allowed]
    if bad:
        raise _err(
            n,
            "“%(t)s”没有选项：%(b)s（可选：%(a)s）。",
            "smart-value-not-allowed",
            t=title,
            b="、".join(bad),
            a="、".join(str(e) for e in enum),
        )


def _split_list(value: Any) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part for part in re.split(r"[,，、;；\n]+", value) if part.strip()]
    return [value]


def check_regex(pattern: Any, n: int = 1) -> str:
    if not isinstance(pattern, str) or not pattern.strip():
        raise _err(n, "请填写正则表达式。", "smart-regex-missing")
    if len(pattern) > MAX_REGEX_LENGTH:
        raise _err(
            n,
            "正则表达式不能超过 %(m)s 个字符（当前 %(l)s 个）。",
            "smart-regex-too-long",
            m=MAX_REGEX_LENGTH,
            l=len(pattern),
        )
    if _NESTED_REPEAT.search(pattern):
        raise _err(
            n, "正则表达式不能对已重复的分组再次重复（如 (a+)+），以免匹配耗时过长。", "smart-regex-unsafe"
        )
    try:
        re.compile(pattern)
    except re.error as exc:
        raise _err(n, "正则表达式无效：%(e)s。", "smart-regex-invalid", e=str(exc)) from None
    return pattern


def _clean_form(n: int, cond: dict, properties: dict) -> dict:
    name = cond.get("field")
    if not isinstance(name, str) or not name:
        raise _err(n, "请选择申请表字段。", "smart-field-missing")
    prop = properties.get(name)
    if prop is None:
        raise _err(n, "申请表中没有字段“%(f)s”。", "smart-field-unknown", f=name)
    title = prop.get("title") or name
    op = cond.get("op")
    if op not in OPS:
        raise _err(n, "不支持的比较方式“%(o)s”。", "smart-op-unknown", o=op)
    kind = field_kind(prop)
    out: dict[str, Any] = {"source": "form", "field": name, "op": op}
    if kind == "array" and op not in ARRAY_OPS:
        raise _err(
            n, "“%(t)s”是多选字段，只能使用属于、不属于、已填写或未填写。", "smart-op-not-applicable", t=title
        )
    if op in NO_VALUE_OPS:
        return out
    value = cond.get("value")
    if op in LIST_OPS:
        values = _split_list(value)
        if not values:
            raise _err(n, "“属于/不属于”须至少列出一个值。", "smart-value-missing")
        if len(values) > MAX_LIST_VALUES:
            raise _err(n, "列出的值不能超过 %(m)s 个。", "smart-value-too-many", m=MAX_LIST_VALUES)
        scalar = "string" if kind == "array" else kind
        cleaned = [_coerce(n, scalar, v, title) for v in values]
        _check_enum(n, prop, cleaned, title)
        out["value"] = cleaned
        return out
    if op in ORDER_OPS:
        if kind not in ("number", "date"):
            raise _err(n, "“%(t)s”不是数字或日期字段，不能比较大小。", "smart-op-not-applicable", t=title)
        if op == "between":
            values = _split_list(value) if not isinstance(value, list) else value
            if len(values) != 2:
                raise _err(n, "“介于”须填写下限和上限两个值。", "smart-value-type")
            low, high = (_coerce(n, kind, v, title) for v in values)
            if low > high:
                raise _err(n, "“介于”的下限不能大于上限。", "smart-value-range")
            out["value"] = [low, high]
        else:
            out["value"] = _coerce(n, kind, value, title)
        return out
    if op == "matches":
        if kind not in ("string", "date"):
            raise _err(n, "“%(t)s”不是文字字段，不能使用正则表达式。", "smart-op-not-applicable", t=title)
        out["value"] = check_regex(value, n)
        return out
    # eq / ne
    if value is None or value == "":
        raise _err(n, "请填写“%(t)s”的比较值。", "smart-value-missing", t=title)
    out["value"] = _coerce(n, kind, value, title)
    _check_enum(n, prop, [out["value"]], title)
    return out


def _clean_shared(n: int, cond: dict, properties: dict) -> dict:
    key = cond.get("check")
    check = SHARED_CHECKS.get(key) if isinstance(key, str) else None
    if check is None:
        raise _err(n, "没有共享数据核验项“%(c)s”。", "smart-check-unknown", c=key)
    out: dict[str, Any] = {"source": "shared", "check": key}
    if check.param == "age":
        value = cond.get("value")
        try:
            age = int(str(value).strip()) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            age = None
        if age is None or not 0 < age <= 150:
            raise _err(n, "请填写 1 至 150 之间的周岁数。", "smart-value-type")
        out["value"] = age
    elif check.param == "field":
        name = cond.get("field")
        if not isinstance(name, str) or name not in properties:
            raise _err(n, "请选择填写社会保障卡号的申请表字段。", "smart-field-unknown", f=name)
        out["field"] = name
    return out


def clean_conditions(implementation, conditions: Any) -> list[dict]:
    """The conditions normalised for storage, or a ValidationError listing every problem."""
    if not isinstance(conditions, list) or not conditions:
        raise ValidationError("规则须至少有一个条件。", code="smart-conditions-empty")
    if len(conditions) > MAX_CONDITIONS:
        raise ValidationError(
            "一条规则最多 %(m)s 个条件。", code="smart-too-many-conditions", params={"m": MAX_CONDITIONS}
        )
    properties = form_schema(implementation).get("properties", {})
    cleaned, errors = [], []
    for n, cond in enumerate(conditions, start=1):
        try:
            if not isinstance(cond, dict):
                raise _err(n, "条件格式不正确。", "smart-condition-invalid")
            source = cond.get("source")
            if source == "form":
                cleaned.append(_clean_form(n, cond, properties))
            elif source == "shared":
                cleaned.append(_clean_shared(n, cond, properties))
            else:
                raise _err(n, "数据来源须为申请表或共享数据。", "smart-source-unknown")
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors)
    return cleaned


def error_code(exc: ValidationError) -> str:
    codes = [getattr(e, "code", None) for e in exc.error_list] if hasattr(exc, "error_list") else []
    codes = [c for c in codes if c]
    return codes[0] if len(set(codes)) == 1 else ("smart-rule-invalid" if codes else "invalid-input")


# ---------------------------------------------------------------- rules (administration)


def can_view(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.has_perm("catalog.view_itemversion") or user.has_perm("workflow.view_smartrule"))
    )


def can_manage(user) -> bool:
    """Marking items suitable and editing rules: 事项管理员 who may publish guides
    (catalog.publish_itemversion), or anyone given workflow.change_smartrule. Which items:
    the catalogue's data scope (``tongban.catalog.scope.manageable``)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.has_perm("catalog.publish_itemversion") or user.has_perm("workflow.change_smartrule"))
    )


def _clean_name(name: Any) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError("请填写规则名称。", code="smart-name-missing")
    if len(name) > 100:
        raise ValidationError("规则名称不能超过 100 个字符。", code="smart-name-too-long")
    return name


def describe(cond: dict, titles: dict[str, str] | None = None) -> str:
    """One condition in Chinese, for pages, events and decision opinions."""
    titles = titles or {}
    try:
        if cond.get("source") == "shared":
            check = SHARED_CHECKS.get(cond.get("check"))
            if check is None:
                return f"共享数据核验“{cond.get('check')}”（未知）"
            if check.param == "age":
                return f"申请人年满 {cond.get('value')} 周岁（按身份号码出生日期）"
            if check.param == "field":
                return f"{check.label}（卡号字段：{titles.get(cond.get('field'), cond.get('field'))}）"
            return check.label
        name = cond.get("field")
        title = titles.get(name, name)
        op = cond.get("op")
        label = OPS.get(op, op)
        value = cond.get("value")
        if op in NO_VALUE_OPS:
            return f"“{title}”{label}"
        if op == "between" and isinstance(value, list) and len(value) == 2:
            return f"“{title}”介于 {value[0]} 至 {value[1]}"
        if isinstance(value, list):
            value = "、".join(str(v) for v in value)
        if isinstance(value, bool):
            value = "是" if value else "否"
        return f"“{title}”{label} {value}"
    except Exception:  # describing must never fail either
        return str(cond)[:200]


def titles_for(implementation) -> dict[str, str]:
    try:
        return dict(field_choices(implementation))
    except ValidationError:
        return {}


def _audit(action: str, summary: str, *, actor, obj, data: dict, request=None) -> None:
    record_event(f"workflow.{action}", summary, actor=actor, obj=obj, data=data, request=request)


def create_rule(
    implementation, *, name: str, conditions: Any, is_active: bool = True, actor=None, request=None
) -> SmartRule:
    name = _clean_name(name)
    cleaned = clean_conditions(implementation, conditions)
    with transaction.atomic():
        rule = SmartRule.objects.create(
            implementation=implementation,
            name=name,
            conditions=cleaned,
            is_active=bool(is_active),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _audit(
            "smart_rule_create",
            f"新增智慧审批规则《{name}》（{implementation.basic_item.name}）",
            actor=actor,
            obj=rule,
            data={"implementation": implementation.code, "conditions": cleaned, "is_active": rule.is_active},
            request=request,
        )
    return rule


def update_rule(
    rule: SmartRule, *, name: str, conditions: Any, is_active: bool | None = None, actor=None, request=None
) -> SmartRule:
    """A rule that already decided cases keeps its id: the record of which rule decided shows the
    conditions in the case event, and the audit trail keeps every earlier version."""
    name = _clean_name(name)
    cleaned = clean_conditions(rule.implementation, conditions)
    with transaction.atomic():
        rule = SmartRule.objects.select_for_update().get(pk=rule.pk)
        before = {"name": rule.name, "conditions": rule.conditions, "is_active": rule.is_active}
        rule.name = name
        rule.conditions = cleaned
        if is_active is not None:
            rule.is_active = bool(is_active)
        rule.save(update_fields=["name", "conditions", "is_active"])
        _audit(
            "smart_rule_update",
            f"修改智慧审批规则《{name}》",
            actor=actor,
            obj=rule,
            data={"before": before, "conditions": cleaned, "is_active": rule.is_active},
            request=request,
        )
    return rule


def set_rule_active(rule: SmartRule, active: bool, *, actor=None, request=None) -> SmartRule:
    with transaction.atomic():
        rule = SmartRule.objects.select_for_update().get(pk=rule.pk)
        if rule.is_active != bool(active):
            rule.is_active = bool(active)
            rule.save(update_fields=["is_active"])
            _audit(
                "smart_rule_activate" if active else "smart_rule_deactivate",
                f"{'启用' if active else '停用'}智慧审批规则《{rule.name}》",
                actor=actor,
                obj=rule,
                data={"is_active": rule.is_active},
                request=request,
            )
    return rule


def set_smart_approval(implementation, enabled: bool, *, actor=None, request=None):
    from tongban.catalog.models import ItemImplementation

    with transaction.atomic():
        impl = ItemImplementation.objects.select_for_update().get(pk=implementation.pk)
        if impl.smart_approval != bool(enabled):
            impl.smart_approval = bool(enabled)
            impl.save(update_fields=["smart_approval"])
            _audit(
                "smart_approval_on" if enabled else "smart_approval_off",
                f"{'设为' if enabled else '取消'}适用智慧审批："
                f"{impl.basic_item.name}（{impl.organisation.name}）",
                actor=actor,
                obj=impl,
                data={"smart_approval": impl.smart_approval},
                request=request,
            )
    implementation.smart_approval = impl.smart_approval
    return impl


# ---------------------------------------------------------------- evaluation


@dataclass
class ConditionResult:
    index: int
    condition: dict
    description: str
    passed: bool | None  # None: not checked (testing without an application)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "condition": self.condition,
            "description": self.description,
            "passed": self.passed,
            "note": self.note,
        }


@dataclass
class Evaluation:
    matched: bool
    results: list[ConditionResult] = field(default_factory=list)

    @property
    def first_failure(self) -> ConditionResult | None:
        return next((r for r in self.results if r.passed is not True), None)

    @property
    def unchecked(self) -> int:
        return sum(1 for r in self.results if r.passed is None)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value in ([], {})


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _scalar_equal(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool):
        return isinstance(actual, bool) and actual is expected
    if isinstance(expected, int | float):
        number = _as_number(actual)
        return number is not None and number == float(expected)
    if isinstance(actual, dict | list) or actual is None or isinstance(actual, bool):
        return False
    return str(actual).strip() == str(expected).strip()


def _ordered(actual: Any, expected: Any) -> tuple[Any, Any] | None:
    """(actual, expected) as numbers or dates, or None when they do not compare."""
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        number = _as_number(actual)
        return None if number is None else (number, float(expected))
    low = _as_date(expected)
    high = _as_date(actual)
    return None if low is None or high is None else (high, low)


def _eval_form(cond: dict, form_data: dict) -> bool:
    op = cond["op"]
    actual = form_data.get(cond["field"])
    if op == "present":
        return not _empty(actual)
    if op == "absent":
        return _empty(actual)
    if _empty(actual):
        return False
    value = cond.get("value")
    if op == "eq":
        return _scalar_equal(actual, value)
    if op == "ne":
        return not isinstance(actual, list) and not _scalar_equal(actual, value)
    if op in LIST_OPS:
        options = list(value)
        items = actual if isinstance(actual, list) else [actual]
        hits = [any(_scalar_equal(item, option) for option in options) for item in items]
        return all(hits) if op == "in" else not any(hits)
    if op in ("gte", "lte"):
        pair = _ordered(actual, value)
        if pair is None:
            return False
        return pair[0] >= pair[1] if op == "gte" else pair[0] <= pair[1]
    if op == "between":
        low, high = _ordered(actual, value[0]), _ordered(actual, value[1])
        return low is not None and high is not None and low[1] <= low[0] <= high[1]
    if op == "matches":
        if not isinstance(actual, str) or len(actual) > MAX_MATCH_INPUT:
            return False
        if not isinstance(value, str) or len(value) > MAX_REGEX_LENGTH or _NESTED_REPEAT.search(value):
            return False
        return re.fullmatch(value, actual) is not None
    return False  # unknown operator: no match


def evaluate(
    conditions: Any,
    *,
    form_data: dict | None,
    app: Application | None = None,
    titles: dict[str, str] | None = None,
) -> Evaluation:
    """Every condition checked; never raises. Shared checks need ``app`` (without it they are
    reported as not checked and the rule does not match)."""
    form_data = form_data if isinstance(form_data, dict) else {}
    if not isinstance(conditions, list) or not conditions:
        return Evaluation(False, [])
    results: list[ConditionResult] = []
    for n, cond in enumerate(conditions, start=1):
        text = describe(cond, titles) if isinstance(cond, dict) else str(cond)[:200]
        passed: bool | None
        note = ""
        try:
            if not isinstance(cond, dict):
                passed, note = False, "条件格式不正确"
            elif cond.get("source") == "form":
                passed = _eval_form(cond, form_data)
            elif cond.get("source") == "shared":
                check = SHARED_CHECKS.get(cond.get("check"))
                if check is None:
                    passed, note = False, "未知的共享数据核验项"
                elif app is None:
                    passed, note = None, "未检验：测试时未指定申请，共享数据只在真实申请中核验"
                else:
                    passed = bool(check.run(app, cond, form_data))
            else:
                passed, note = False, "未知的数据来源"
        except Exception as exc:  # a source that is down or errors: no match, goes to a person
            logger.warning("smart approval condition %s failed: %s", n, exc, exc_info=True)
            passed = False
            shared = isinstance(cond, dict) and cond.get("source") == "shared"
            note = "共享数据暂不可用或核验出错，按不符合处理" if shared else "条件无法判断"
        results.append(ConditionResult(n, cond if isinstance(cond, dict) else {}, text, passed, note))
    return Evaluation(all(r.passed is True for r in results), results)


def evaluate_rule(rule: SmartRule, app: Application) -> Evaluation:
    return evaluate(rule.conditions, form_data=app.form_data, app=app, titles=titles_for(rule.implementation))


def parse_sample(implementation, raw: dict[str, str]) -> dict[str, Any]:
    """Sample form values typed into the test page (text) → form data shaped like an application's."""
    properties = form_schema(implementation).get("properties", {})
    data: dict[str, Any] = {}
    for name, prop in properties.items():
        text = (raw.get(name) or "").strip()
        if not text:
            continue
        kind = field_kind(prop)
        if kind == "number":
            number = _as_number(text)
            if number is None:
                data[name] = text  # kept as typed: a numeric condition on it will not hold
            else:
                data[name] = int(number) if number.is_integer() else number
        elif kind == "boolean":
            data[name] = True if text.lower() in _TRUE else False if text.lower() in _FALSE else text
        elif kind == "array":
            data[name] = [part.strip() for part in _split_list(text)]
        else:
            data[name] = text
    return data


def dry_run(
    implementation, conditions: Any, *, form_data: dict | None = None, app: Application | None = None
) -> Evaluation:
    """Try conditions (a saved rule's or a draft) against a sample form or an existing application.
    With ``app`` and no ``form_data``, the application's own form is used."""
    if app is not None and form_data is None:
        form_data = app.form_data
    return evaluate(conditions, form_data=form_data or {}, app=app, titles=titles_for(implementation))


# ---------------------------------------------------------------- the flow


def service_account(department):
    """The 智慧审批 account of one department (created on first use).

    Automatic acceptance and approval go through the same services as a person, so they need an
    actor those services admit. ``workflow.services.system_user()`` is deliberately inactive and
    holds no role, so ``cases.services.accept`` (needs cases.accept_application in scope) and the
    engine's ``can_handle`` (needs the step's role in scope) refuse it. Instead each department
    gets one service account: a staff profile in that department (its region and below) with the
    roles 综合窗口人员 (acceptance) and 部门负责人 (every step of the department), and an
    unusable password, so nobody can log in as it. It can act only on its own department's
    cases: a process with a step in another department is left to people (the attempt rolls back).
    """
    from django.contrib.auth import get_user_model

    from tongban.accounts.models import Role, StaffProfile
    from tongban.accounts.services import create_staff

    username = f"system-smart-approval-{department.pk}"
    user = get_user_model().objects.filter(username=username).first()
    if (
        user is not None
        and user.is_active
        and StaffProfile.objects.filter(user=user, department=department, is_active=True).exists()
    ):
        return user
    profile = create_staff(
        username=username,
        name="智慧审批",
        department=department,
        region=department.region,
        roles=[Role.WINDOW_CLERK, Role.DEPARTMENT_HEAD],
        title="智慧审批服务账号（不可登录）",
    )
    user = profile.user
    user.display_name = f"智慧审批（{department.short_name or department.name}）"
    user.is_active = True
    user.set_unusable_password()
    user.save(update_fields=["display_name", "is_active", "password"])
    return user


@dataclass
class SmartOutcome:
    """What :func:`try_smart_approval` did: approved | declined | not-suitable | skipped."""

    result: str
    rule: SmartRule | None = None
    evaluation: Evaluation | None = None
    reason: str = ""


def _already_tried(app: Application) -> bool:
    return CaseEvent.objects.filter(
        application=app, action__in=list(SMART_EVENT_LABELS), data__round=app.round
    ).exists() or bool(app.smart_rule_id)


def _decline(app_id: int, *, data: dict, actor) -> None:
    with transaction.atomic():
        app = Application.objects.select_for_update().get(pk=app_id)
        if app.status != Status.SUBMITTED or _already_tried(app):
            return
        from tongban.cases.services import record_case_event

        record_case_event(
            app,
            "smart_approval_declined",
            app.status,
            actor=actor,
            reason=DECLINE_REASON,
            data={"round": app.round, **data},
        )


def _approve(app_id: int, rule: SmartRule, evaluation: Evaluation) -> bool:
    """Accept and approve every step as the department's service account, in one transaction:
    either the case is completed by the rule, or nothing happened."""
    from tongban.cases.services import accept, record_case_event
    from tongban.workflow import services as engine
    from tongban.workflow.models import Outcome, Task, TaskStatus

    with transaction.atomic():
        app = Application.objects.select_for_update().get(pk=app_id)
        if app.status != Status.SUBMITTED or _already_tried(app):
            return False
        actor = service_account(app.department)
        from_status = app.status
        app = accept(app, clerk=actor)
        Application.objects.filter(pk=app.pk).update(smart_rule=rule)
        app.smart_rule = rule
        opinion = f"智慧审批：符合规则《{rule.name}》"
        record_case_event(
            app,
            "smart_approval",
            from_status,
            actor=actor,
            reason=opinion,
            data={
                "round": app.round,
                "rule": rule.pk,
                "rule_name": rule.name,
                "conditions": [r.as_dict() for r in evaluation.results],
            },
        )
        for _ in range(MAX_STEPS):
            task = (
                Task.objects.filter(application=app, status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED])
                .order_by("id")
                .first()
            )
            if task is None:
                break
            engine.claim(task, user=actor)
            engine.complete_task(
                task,
                user=actor,
                outcome=Outcome.APPROVE,
                opinion=opinion,
                handover=HANDOVER if task.stage == "deliver" else "",
            )
        app.refresh_from_db()
        if app.status != Status.COMPLETED:
            raise RuntimeError(f"smart approval left {app.reference} in {app.status}")
    return True


def try_smart_approval(app: Application | int) -> SmartOutcome:
    """Accept and approve ``app`` automatically if its item is suitable and an active rule
    matches; otherwise leave it for a person. Idempotent; never raises."""
    app_id = app if isinstance(app, int) else app.pk
    try:
        return _try(app_id)
    except Exception:  # the citizen's submission stands; a person handles the case
        logger.exception("smart approval of application %s failed", app_id)
        return SmartOutcome("skipped", reason="error")


def _in_bundle(app_id: int) -> bool:
    """一件事 children are accepted together at one window (bundles app), never one by one."""
    from django.apps import apps

    if not apps.is_installed("tongban.bundles"):
        return False
    member = apps.get_model("bundles", "BundleMember")
    return member.objects.filter(application_id=app_id).exists()


def _try(app_id: int) -> SmartOutcome:
    app = (
        Application.objects.select_related(
            "implementation__region", "applicant_person", "applicant_enterprise", "department"
        )
        .filter(pk=app_id)
        .first()
    )
    if app is None or app.status != Status.SUBMITTED:
        return SmartOutcome("skipped", reason="not-submitted")
    if not app.implementation.smart_approval:
        return SmartOutcome("not-suitable")
    if _in_bundle(app_id):
        return SmartOutcome("skipped", reason="bundle")
    if _already_tried(app):
        return SmartOutcome("skipped", reason="already-tried")
    rules = list(SmartRule.objects.filter(implementation=app.implementation, is_active=True).order_by("id"))
    from tongban.workflow.services import system_user

    actor = system_user()  # declines are recorded as 系统; approvals act as the department's account
    if not rules:
        _decline(app_id, data={"why": "no-active-rule"}, actor=actor)
        return SmartOutcome("declined", reason="no-active-rule")
    # Shared-data calls happen outside any transaction: no row is locked while a source answers.
    first: tuple[SmartRule, Evaluation] | None = None
    for rule in rules:
        evaluation = evaluate_rule(rule, app)
        if evaluation.matched:
            try:
                if _approve(app_id, rule, evaluation):
                    return SmartOutcome("approved", rule, evaluation)
                return SmartOutcome("skipped", rule, evaluation, reason="changed-meanwhile")
            except Exception as exc:
                logger.warning(
                    "smart approval of %s by rule %s rolled back: %s", app_id, rule.pk, exc, exc_info=True
                )
                _decline(
                    app_id,
                    data={"why": "automatic-handling-failed", "rule": rule.pk, "rule_name": rule.name},
                    actor=actor,
                )
                return SmartOutcome("declined", rule, evaluation, reason="automatic-handling-failed")
        if first is None:
            first = (rule, evaluation)
    rule, evaluation = first
    failure = evaluation.first_failure
    _decline(
        app_id,
        data={
            "why": "no-rule-matched",
            "rules_checked": len(rules),
            "rule": rule.pk,
            "rule_name": rule.name,
            "first_failing": failure.as_dict() if failure else None,
        },
        actor=actor,
    )
    return SmartOutcome("declined", rule, evaluation, reason="no-rule-matched")


@receiver(case_events_recorded, dispatch_uid="workflow.smart.on_submit")
def _on_submit(sender, events: list[CaseEvent], **kwargs) -> None:
    """After a submission commits, try smart approval (only for items marked suitable)."""
    for event in events:
        if event.action != "submit":
            continue
        app = event.application  # the instance submit() locked, with its implementation loaded
        if getattr(getattr(app, "implementation", None), "smart_approval", False):
            transaction.on_commit(functools.partial(try_smart_approval, event.application_id))
