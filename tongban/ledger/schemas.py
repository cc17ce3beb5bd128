"""Input types of the public verification (Chinese messages, like tongban.core.schemas)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

_CASE_NUMBER = re.compile(r"^[0-9A-Za-z-]{1,50}$")


def _as_text(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def clean_case_number(value: str) -> str:
    """办件编号: letters, digits and hyphens, at most 50 characters (实施编码 + 日期 + 序号)."""
    text = (value or "").strip().upper()
    if not text:
        raise ValueError("请填写办件编号。")
    if not _CASE_NUMBER.match(text):
        raise ValueError("办件编号格式不正确：应由字母、数字组成，最长50位。")
    return text


CaseNumber = Annotated[str, BeforeValidator(_as_text), AfterValidator(clean_case_number)]
