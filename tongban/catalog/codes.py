"""National item codes (事项编码) and the GB/T 39046-2020 appendix A code sets.

Structure (see docs/catalog.md for what is confirmed and what is inferred):

* 基本编码 basic code, 12 characters: item type (2) + competent-department code (3)
  + main-item sequence (4) + sub-item sequence (3, ``000`` for a main item).
* 实施编码 implementation code, 31 characters: implementing body's unified social credit
  code (18) + exercise-level code (1) + basic code (12).
* 业务办理项编码 handling-item code, 33 characters: implementation code (31) + sequence (2).

Codes are generated here and only validated elsewhere; nobody types them by hand.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models

try:  # core-rules helper's validator (preferred: one source for check digits)
    from tongban.core.identifiers import validate_credit_code as _core_validate_credit_code
except ImportError:  # pragma: no cover - until tongban/core/identifiers.py lands
    _core_validate_credit_code = None


class ItemType(models.TextChoices):
    """事项类型 — GB/T 39046-2020 appendix A."""

    LICENSING = "01", "行政许可"
    PENALTY = "02", "行政处罚"
    COERCION = "03", "行政强制"
    LEVY = "04", "行政征收"
    PAYMENT = "05", "行政给付"
    INSPECTION = "06", "行政检查"
    CONFIRMATION = "07", "行政确认"
    REWARD = "08", "行政奖励"
    ADJUDICATION = "09", "行政裁决"
    OTHER = "10", "其他行政权力"
    PUBLIC_SERVICE = "20", "公共服务"


class ServiceObject(models.TextChoices):
    """服务对象."""

    PERSON = "1", "自然人"
    ENTERPRISE = "2", "企业法人"
    INSTITUTION = "3", "事业法人"
    SOCIAL_ORG = "4", "社会组织法人"
    GOVERNMENT = "5", "行政机关"
    OTHER = "6", "其他组织"


class ExerciseLevel(models.TextChoices):
    """行使层级."""

    NATIONAL = "1", "国家级"
    PROVINCE = "2", "省级"
    CITY = "3", "市级"
    COUNTY = "4", "县级"
    TOWN = "5", "镇（乡、街道）级"
    VILLAGE = "6", "村（社区）级"


class HandlingForm(models.TextChoices):
    """办理形式."""

    WINDOW = "1", "窗口办理"
    ONLINE = "2", "网上办理"
    MAIL = "3", "快递申请"


BASIC_CODE_RE = re.compile(r"^(?P<type>\d{2})(?P<dept>[0-9A-Z]{3})(?P<main>\d{4})(?P<sub>\d{3})$")
IMPLEMENTATION_CODE_RE = re.compile(r"^(?P<credit>[0-9A-Z]{18})(?P<level>[1-6])(?P<basic>[0-9A-Z]{12})$")
HANDLING_CODE_RE = re.compile(r"^(?P<impl>[0-9A-Z]{31})(?P<seq>\d{2})$")

# Competent-department codes used in the 3-character department part of our basic codes. The
# national list is not public in machine-readable form; these are our own (inferred) codes.
DEPARTMENT_CODES: dict[str, str] = {
    "market": "SCJ",
    "police": "GAB",
    "hrss": "RSB",
    "civil": "MZB",
    "health": "WJW",
    "resources": "ZRZ",
    "housing": "ZJB",
    "tax": "SWJ",
    "fund": "GJJ",
    "transport": "JTB",
    "data": "SJJ",
    "medicare": "YBJ",
    "disability": "CLJ",
}


def validate_credit_code(value: str) -> str:
    """Normalise and check a unified social credit code (GB 32100-2015)."""
    if _core_validate_credit_code is not None:
        return _core_validate_credit_code(value)
    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError as StdnumError

    try:
        return uscc.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            "统一社会信用代码无效：%(value)s", code="invalid-credit-code", params={"value": value}
        ) from exc


def make_basic_code(item_type: str, department_code: str, main_seq: int, sub_seq: int = 0) -> str:
    """Compose a basic code; ``sub_seq`` 0 means the main item itself."""
    if item_type not in ItemType.values:
        raise ValidationError("事项类型代码无效：%(v)s", code="invalid-item-type", params={"v": item_type})
    if not re.fullmatch(r"[0-9A-Z]{3}", department_code or ""):
        raise ValidationError("主管部门代码应为 3 位数字或大写字母", code="invalid-department-code")
    if not (1 <= main_seq <= 9999) or not (0 <= sub_seq <= 999):
        raise ValidationError(
            "主项序号应为 1–9999，子项序号应为 0–999", code="basic-code-sequence-out-of-range"
        )
    return f"{item_type}{department_code}{main_seq:04d}{sub_seq:03d}"


def parse_basic_code(code: str) -> dict[str, str]:
    match = BASIC_CODE_RE.match(code or "")
    if not match or match["type"] not in ItemType.values:
        raise ValidationError(
            "基本编码“%(code)s”格式错误：应为 12 位（事项类型 2 位 + 主管部门 3 位 + 主项 4 位 + 子项 3 位）",
            code="invalid-basic-code",
            params={"code": code},
        )
    if match["main"] == "0000":
        raise ValidationError(
            "基本编码“%(code)s”的主项序号不能为 0000", code="invalid-basic-code", params={"code": code}
        )
    return match.groupdict()


def validate_basic_code(code: str, *, item_type: str | None = None, is_sub_item: bool | None = None) -> str:
    parts = parse_basic_code(code)
    if item_type is not None and parts["type"] != item_type:
        raise ValidationError(
            "基本编码“%(code)s”的类型位与事项类型不一致",
            code="basic-code-type-mismatch",
            params={"code": code},
        )
    if is_sub_item is not None and (parts["sub"] != "000") != is_sub_item:
        raise ValidationError(
            "基本编码“%(code)s”的子项位与主项/子项关系不一致",
            code="basic-code-sub-mismatch",
            params={"code": code},
        )
    return code


def make_implementation_code(credit_code: str, level: str, basic_code: str) -> str:
    credit = validate_credit_code(credit_code)
    if str(level) not in ExerciseLevel.values:
        raise ValidationError("行使层级代码无效：%(v)s", code="invalid-exercise-level", params={"v": level})
    parse_basic_code(basic_code)
    return f"{credit}{level}{basic_code}"


def validate_implementation_code(code: str) -> dict[str, str]:
    match = IMPLEMENTATION_CODE_RE.match(code or "")
    if not match:
        raise ValidationError(
            "实施编码“%(code)s”格式错误：应为 31 位"
            "（统一社会信用代码 18 位 + 行使层级 1 位 + 基本编码 12 位）",
            code="invalid-implementation-code",
            params={"code": code},
        )
    validate_credit_code(match["credit"])
    parse_basic_code(match["basic"])
    return match.groupdict()


def make_handling_code(implementation_code: str, seq: int) -> str:
    validate_implementation_code(implementation_code)
    if not 1 <= seq <= 99:
        raise ValidationError("业务办理项序号应为 01–99", code="invalid-handling-sequence")
    return f"{implementation_code}{seq:02d}"


def validate_handling_code(code: str) -> dict[str, str]:
    match = HANDLING_CODE_RE.match(code or "")
    if not match or match["seq"] == "00":
        raise ValidationError(
            "业务办理项编码“%(code)s”格式错误：应为实施编码 31 位 + 序号 2 位",
            code="invalid-handling-code",
            params={"code": code},
        )
    validate_implementation_code(match["impl"])
    return match.groupdict()


def level_for_region_level(region_level: int) -> str:
    """Map core.Region.level (1 province … 5 village) to the exercise-level code (2 … 6)."""
    return str(int(region_level) + 1)
