import datetime as dt

import pytest


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
