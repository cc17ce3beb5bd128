"""Receivers: a newly loaded holiday schedule moves provisional task due dates."""

from django.dispatch import receiver

from tongban.core.models import CalendarYear
from tongban.core.workdays import calendar_year_loaded


@receiver(calendar_year_loaded, sender=CalendarYear)
def recompute_task_dates(sender, year: int, **kwargs) -> None:
    from tongban.workflow.services import recompute_provisional_task_dates

    recompute_provisional_task_dates(year)
