"""Receivers: provisional deadlines follow a newly loaded holiday schedule."""

from django.dispatch import receiver

from tongban.core.models import CalendarYear
from tongban.core.workdays import calendar_year_loaded


@receiver(calendar_year_loaded, sender=CalendarYear)
def recompute_deadlines(sender, year: int, **kwargs) -> None:
    from tongban.cases.services import recompute_provisional_deadlines

    recompute_provisional_deadlines(year)
