"""Settings of electronic supervision, each overridable in Django settings."""

from __future__ import annotations

from django.conf import settings


def notice_response_days() -> int:
    """督办单 default written-response limit, in working days after issue."""
    return int(getattr(settings, "SUPERVISION_NOTICE_RESPONSE_DAYS", 3))


def complaint_answer_days() -> int:
    """投诉 answer limit, in working days after registration."""
    return int(getattr(settings, "SUPERVISION_COMPLAINT_ANSWER_DAYS", 5))


def stats_live_days() -> int:
    """How many recent days the periodic job re-summarises on every run."""
    return int(getattr(settings, "SUPERVISION_STATS_REFRESH_DAYS", 2))
