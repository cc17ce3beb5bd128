"""Validators for national identifiers, with Chinese messages and stable error codes, and masking.

* 居民身份证号码 — GB 11643-1999: 6-digit region (GB/T 2260), 8-digit birth date, 3-digit
  sequence (odd: male, even: female), check character by ISO 7064 MOD 11-2 ('X' for 10).
  The check character and a real, plausible birth date are hard rules. The region prefix is
  only a warning: codes of abolished counties stay in valid IDs and new codes appear before any
  code list catches up.
* 统一社会信用代码 — GB 32100-2015: registration authority (1 char), organisation type
  (1 char), region (6 digits), entity code (9 chars), check character; alphabet of 31 chars
  without I, O, Z, S, V. python-stdnum 2.2 rejects codes whose first two positions are letters
  (farmers' cooperatives "N2…", other bodies "Y1…"), so the check is implemented here.
* 手机号码 — mainland mobile numbers (1[3-9] + 9 digits), with +86/0086 prefixes and separators.

Each validator raises ``django.core.exceptions.ValidationError`` with a Chinese message and a
stable ``code`` so the API, forms and admin report the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

# -- resident ID (GB 11643-1999) ----------------------------------------------------------------
_RIC_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
_RIC_CHECK = "10X98765432"  # check character for (sum mod 11)
_SEPARATORS = re.compile(r"[\s\-－—·.]")


@dataclass(frozen=True)
class IdCheck:
    """A valid resident ID number and what it says about its holder."""

    number: str
    birth_date: date
    gender: str  # "男" / "女"
    region_code: str
    warnings: list[str] = field(default_factory=list)


def resident_id_check_char(first17: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2) for 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _RIC_WEIGHTS, strict=True))
    return _RIC_CHECK[total % 11]


def _region_warning(region: str) -> str | None:
    try:
        from stdnum import numdb

        info = {k: v for _part, props in numdb.get("cn/loc").info(region) for k, v in props.items()}
    except Exception:  # the region database is an aid, never a reason to reject
        return None
    if "county" not in info:
        return f"地址码 {region} 不在行政区划代码库中（可能是已撤销或新设的区划），请核对。"
    return None


def validate_resident_id(value: str, *, today: date | None = None) -> IdCheck:
    """Validate an 18-digit resident ID number; raise ValidationError (Chinese) or return IdCheck."""
    number = _SEPARATORS.sub("", str(value or "")).upper()
    if not number:
        raise ValidationError("请填写身份证号码。", code="resident-id-required")
    if len(number) == 15 and number.isdigit():
        raise ValidationError(
            "这是 15 位旧身份证号码，请填写 18 位居民身份证号码。", code="resident-id-old-format"
        )
    if len(number) != 18:
        raise ValidationError(f"身份证号码应为 18 位，当前为 {len(number)} 位。", code="resident-id-length")
    if not (number[:17].isascii() and number[:17].isdigit()) or not (
        number[17].isdigit() or number[17] == "X"
    ):
        raise ValidationError(
            "身份证号码格式不正确：前 17 位应为数字，最后一位为数字或 X。", code="resident-id-format"
        )
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            f"身份证号码中的出生日期 {number[6:10]}-{number[10:12]}-{number[12:14]} 不存在。",
            code="resident-id-birth-date",
        ) from None
    today = today or timezone.localdate()  # China time: a birth "today" is not in the future
    if birth > today:
        raise ValidationError(
            f"身份证号码中的出生日期 {birth.isoformat()} 晚于今天。", code="resident-id-birth-date"
        )
    if birth.year < 1900:
        raise ValidationError(
            f"身份证号码中的出生日期 {birth.isoformat()} 早于 1900 年。", code="resident-id-birth-date"
        )
    if resident_id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            "身份证号码校验位不正确，请逐位核对（最后一位可能是 X）。", code="resident-id-checksum"
        )
    warnings = [w for w in [_region_warning(number[:6])] if w]
    gender = "男" if int(number[16]) % 2 else "女"
    return IdCheck(number=number, birth_date=birth, gender=gender, region_code=number[:6], warnings=warnings)


# -- unified social credit code (GB 32100-2015) -------------------------------------------------
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES = {c: i for i, c in enumerate(CREDIT_CODE_ALPHABET)}
_CREDIT_WEIGHTS = [
    3**i % 31 for i in range(17)
]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters (already upper case)."""
    if len(first17) != 17 or any(c not in _CREDIT_VALUES for c in first17):
        raise ValueError("need 17 characters of the credit-code alphabet")
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """Validate a unified social credit code; return it normalised (upper case, no spaces)."""
    code = _SEPARATORS.sub("", str(value or "")).upper()
    if not code:
        raise ValidationError("请填写统一社会信用代码。", code="credit-code-required")
    if len(code) != 18:
        raise ValidationError(
            f"统一社会信用代码应为 18 位，当前为 {len(code)} 位。", code="credit-code-length"
        )
    bad = sorted({c for c in code if c not in _CREDIT_VALUES})
    if bad:
        shown = "、".join(bad)
        raise ValidationError(
            f"统一社会信用代码含有不允许的字符：{shown}"
            "（不使用 I、O、Z、S、V，请核对是否把数字 1、0、2、5 误写为字母）。",
            code="credit-code-characters",
        )
    if not code[2:8].isdigit():
        raise ValidationError(
            "统一社会信用代码第 3–8 位应为登记管理机关的行政区划代码（6 位数字）。", code="credit-code-region"
        )
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError("统一社会信用代码校验位不正确，请逐位核对。", code="credit-code-checksum")
    return code


# -- mobile numbers -----------------------------------------------------------------------------
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def validate_mobile(value: str) -> str:
    """Validate a mainland mobile number; return its 11 digits (+86/0086 and separators removed)."""
    raw = str(value or "").strip()
    if not raw:
        raise ValidationError("请填写手机号码。", code="mobile-required")
    number = re.sub(r"[\s\-()（）.]", "", raw)
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    elif number.startswith("86") and len(number) == 13:
        number = number[2:]
    if number.startswith("+"):
        raise ValidationError("仅支持中国大陆手机号码（+86）。", code="mobile-country")
    if not number.isascii() or not number.isdigit():
        raise ValidationError("手机号码只能包含数字。", code="mobile-format")
    if len(number) != 11:
        raise ValidationError(f"手机号码应为 11 位，当前为 {len(number)} 位。", code="mobile-length")
    if not _MOBILE_RE.match(number):
        raise ValidationError("手机号码不正确：应以 13–19 开头的 11 位中国大陆手机号。", code="mobile-format")
    return number


# -- masking (pages and logs) -------------------------------------------------------------------
def mask_resident_id(value: str | None) -> str:
    """ "341502199001011234" -> "3415**********1234": region kept to the city, birth date hidden."""
    text = str(value or "").strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_mobile(value: str | None) -> str:
    """ "13800138000" -> "138****8000"."""
    text = str(value or "").strip()
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_name(value: str | None) -> str:
    """ "张三" -> "张*", "张小三" -> "张*三", "欧阳小明" -> "欧**明"."""
    text = str(value or "").strip()
    if len(text) <= 1:
        return "*" * len(text)
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]
