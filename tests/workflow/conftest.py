import datetime as dt

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def calendar_2026(db):
    """The official 2026 schedule: 中秋 09-25, 国庆 10-01..07; 09-20 and 10-10 are make-up workdays."""
    from tongban.core.calendar_loader import seed_from_chinesecalendar

    seed_from_chinesecalendar()


class Clock:
    """Sets "today" for the case and workflow services (deadlines are counted from it)."""

    def __init__(self, monkeypatch):
        self.today = dt.date(2026, 9, 23)
        for target in ("tongban.cases.services._today", "tongban.workflow.services._today"):
            monkeypatch.setattr(target, lambda: self.today)

    def set(self, day: dt.date) -> None:
        self.today = day


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)
