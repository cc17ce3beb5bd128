import pytest


@pytest.fixture
def calendar_2026(db):
    """The official working-day calendar (deadlines of generated cases are computed on it)."""
    from tongban.core.calendar_loader import seed_from_chinesecalendar

    seed_from_chinesecalendar()
