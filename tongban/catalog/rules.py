"""Publishing rules (发布校验): small checks with stable codes and Chinese messages.

Each rule returns a list of problems; :func:`check_version` runs them all so an editor sees
every problem at once ("一次性告知" applies to our own staff too).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from tongban.catalog import codes
from tongban.catalog.models import ItemVersion


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    field: str = ""

    def as_error(self) -> ValidationError:
        return ValidationError(self.message, code=self.code)


def rule_mandatory_elements(version: ItemVersion) -> list[Problem]:
    required = {
        "acceptance_conditions": "受理条件",
        "place": "办理地点",
        "office_hours": "办理时间",
        "consult_phone": "咨询电话",
        "complaint_phone": "监督投诉电话",
        "result_name": "审批结果名称",
    }
    problems = [
        Problem("missing-element", f"缺少必填要素：{label}", field)
        for field, label in required.items()
        if not str(getattr(version, field) or "").strip()
    ]
    if version.legal_limit_days is None and not version.legal_limit_note:
        problems.append(
            Problem(
                "missing-element", "缺少必填要素：法定办结时限（无法定时限的请填写说明）", "legal_limit_days"
            )
        )
    if version.promised_limit_days is None:
        problems.append(Problem("missing-element", "缺少必填要素：承诺办结时限", "promised_limit_days"))
    if not version.materials.exists():
        problems.append(Problem("missing-element", "缺少必填要素：申请材料（至少一项）", "materials"))
    if not version.is_free and not version.fees.exists():
        problems.append(Problem("missing-element", "收费事项须列明收费项目、标准和依据", "fees"))
    if not version.steps.exists():
        problems.append(Problem("missing-element", "缺少必填要素：办理流程", "steps"))
    return problems


def rule_time_limits(version: ItemVersion) -> list[Problem]:
    problems = []
    legal, promised = version.legal_limit_days, version.promised_limit_days
    if legal is not None and promised is not None and promised > legal:
        problems.append(
            Problem(
                "promised-exceeds-legal",
                f"承诺办结时限（{promised} 个工作日）不得超过法定办结时限（{legal} 个工作日）",
                "promised_limit_days",
            )
        )
    if version.is_on_the_spot and promised not in (None, 0):
        problems.append(
            Problem(
                "on-the-spot-with-limit",
                "即办件的承诺办结时限应为 0 个工作日（当场办结）",
                "promised_limit_days",
            )
        )
    if not version.is_on_the_spot and promised == 0:
        problems.append(
            Problem(
                "promised-zero",
                "承诺件的承诺办结时限应至少 1 个工作日；当场办结的请选择“即办件”",
                "handling_kind",
            )
        )
    return problems


def rule_proofs_listed(version: ItemVersion) -> list[Problem]:
    problems = []
    for material in version.materials.select_related("proof"):
        if material.is_proof and (material.proof is None or not material.proof.is_active):
            problems.append(
                Problem(
                    "proof-not-listed",
                    f"材料“{material.name}”属于证明材料，但未列入证明清单，不得要求申请人提供",
                    "materials",
                )
            )
    return problems


def rule_situations_consistent(version: ItemVersion) -> list[Problem]:
    known = {
        f"{q.key}={o.key}" for q in version.questions.prefetch_related("options") for o in q.options.all()
    }
    problems = []
    for material in version.materials.all():
        if material.requirement == material.Requirement.SITUATIONAL and not material.condition_keys():
            problems.append(
                Problem("situation-missing", f"情形必要材料“{material.name}”未指定适用情形", "materials")
            )
        for key in material.condition_keys():
            if key not in known:
                problems.append(
                    Problem(
                        "situation-unknown",
                        f"材料“{material.name}”引用了不存在的情形选项“{key}”",
                        "materials",
                    )
                )
    return problems


def rule_codes_valid(version: ItemVersion) -> list[Problem]:
    impl = version.implementation
    item = impl.basic_item
    try:
        codes.validate_basic_code(item.code, item_type=item.item_type, is_sub_item=item.is_sub_item)
        parts = codes.validate_implementation_code(impl.code)
        if (
            parts["basic"] != item.code
            or parts["credit"] != impl.organisation.credit_code
            or parts["level"] != impl.exercise_level
        ):
            raise ValidationError(
                "实施编码与实施主体、行使层级或基本编码不一致", code="implementation-code-mismatch"
            )
    except ValidationError as exc:
        return [Problem(exc.code or "invalid-code", " ".join(exc.messages), "code")]
    return []


def rule_form_schema(version: ItemVersion) -> list[Problem]:
    from tongban.catalog.forms_schema import compose_schema

    try:
        compose_schema(version)
    except ValidationError as exc:
        return [Problem(exc.code or "invalid-form", " ".join(exc.messages), "form_schema")]
    return []


RULES = [
    rule_codes_valid,
    rule_mandatory_elements,
    rule_time_limits,
    rule_proofs_listed,
    rule_situations_consistent,
    rule_form_schema,
]


def check_version(version: ItemVersion) -> list[Problem]:
    problems: list[Problem] = []
    for rule in RULES:
        problems.extend(rule(version))
    return problems


def raise_for_problems(problems: list[Problem]) -> None:
    if problems:
        raise ValidationError([p.as_error() for p in problems])
