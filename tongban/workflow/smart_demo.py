"""Demo 智慧审批 (idempotent): 金安区民政局's 高龄津贴申领 is marked suitable, with one rule.

Call :func:`load` after the catalogue demo (``tongban.catalog.demo.load``). Running it again
changes nothing; it returns the rule (or None when the demo item is not loaded).
"""

from __future__ import annotations

from tongban.catalog.models import ItemImplementation
from tongban.workflow import smart
from tongban.workflow.models import SmartRule

REGION = "341502"
CANDIDATES = ["高龄津贴申领", "就业创业证申领"]
RULE_NAME = "本人申请、实名核验一致且年满80周岁"
CONDITIONS = [
    {"source": "shared", "check": "id_verified_l2"},
    {"source": "shared", "check": "population_verified"},
    {"source": "shared", "check": "applicant_age_at_least", "value": 80},
    {"source": "form", "field": "applicant_mobile", "op": "present"},
]
FALLBACK_CONDITIONS = CONDITIONS[:2] + CONDITIONS[3:]


def load(stdout=None) -> SmartRule | None:
    write = stdout.write if stdout is not None else (lambda s: None)
    for name in CANDIDATES:
        impl = (
            ItemImplementation.objects.select_related(
                "basic_item", "organisation", "region", "published_version"
            )
            .filter(basic_item__name=name, region__code=REGION, published_version__isnull=False)
            .first()
        )
        if impl is not None:
            break
    else:
        write("智慧审批演示：未找到演示事项（请先加载事项目录演示数据），已跳过。\n")
        return None
    if not impl.smart_approval:
        smart.set_smart_approval(impl, True)
    rule_name = RULE_NAME if name == CANDIDATES[0] else "本人申请且实名核验一致"
    rule = SmartRule.objects.filter(implementation=impl, name=rule_name).first()
    if rule is None:
        conditions = CONDITIONS if name == CANDIDATES[0] else FALLBACK_CONDITIONS
        rule = smart.create_rule(impl, name=rule_name, conditions=conditions)
        write(
            f"智慧审批演示：{impl.basic_item.name}（{impl.organisation.name}）设为适用，新增规则《{rule_name}》。\n"
        )
    return rule
