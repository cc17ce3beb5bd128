"""Opening hours of halls: validation and a Chinese description."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

WEEKDAY_NAMES = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def validate_opening_hours(periods: object) -> None:
    """A list of {"days": [1..7], "open": "HH:MM", "close": "HH:MM"} with open before close."""
    if not isinstance(periods, list):
        raise ValidationError("办公时间应为时段列表。", code="opening-hours-not-list")
    for index, period in enumerate(periods, start=1):
        if not isinstance(period, dict) or set(period) - {"days", "open", "close"}:
            raise ValidationError(
                f"第 {index} 个时段格式不正确，应包含 days、open、close。", code="opening-hours-format"
            )
        days = period.get("days")
        if not isinstance(days, list) or not days or any(d not in WEEKDAY_NAMES for d in days):
            raise ValidationError(
                f"第 {index} 个时段的星期应为 1（周一）到 7（周日）的列表。", code="opening-hours-days"
            )
        opens, closes = period.get("open", ""), period.get("close", "")
        if not (
            isinstance(opens, str)
            and _TIME_RE.match(opens)
            and isinstance(closes, str)
            and _TIME_RE.match(closes)
        ):
            raise ValidationError(
                f"第 {index} 个时段的时间应写成 09:00 这样的格式。", code="opening-hours-time"
            )
        if opens >= closes:
            raise ValidationError(f"第 {index} 个时段的开始时间应早于结束时间。", code="opening-hours-order")


def _describe_days(days: list[int]) -> str:
    days = sorted(set(days))
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{WEEKDAY_NAMES[days[0]]}至{WEEKDAY_NAMES[days[-1]]}"
    return "、".join(WEEKDAY_NAMES[d] for d in days)


def describe_opening_hours(periods: list[dict]) -> str:
    """E.g. "周一至周五 09:00-12:00、13:30-17:00；周六 09:00-12:00"."""
    grouped: dict[tuple[int, ...], list[str]] = {}
    for period in periods or []:
        key = tuple(sorted(set(period.get("days", []))))
        grouped.setdefault(key, []).append(f"{period.get('open')}-{period.get('close')}")
    return "；".join(f"{_describe_days(list(days))} {'、'.join(times)}" for days, times in grouped.items())
