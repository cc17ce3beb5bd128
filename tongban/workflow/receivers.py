"""Receivers: a newly loaded holiday schedule moves provisional task due dates; a saved or
deleted process definition or version drops the cached published versions."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tongban.core.models import CalendarYear
from tongban.core.workdays import calendar_year_loaded
from tongban.workflow.models import ProcessDefinition, ProcessVersion


@receiver(calendar_year_loaded, sender=CalendarYear)
def recompute_task_dates(sender, year: int, **kwargs) -> None:
    from tongban.workflow.services import recompute_provisional_task_dates

    recompute_provisional_task_dates(year)


def _published_changed(**kwargs) -> None:
    from tongban.workflow.services import PUBLISHED

    PUBLISHED.bump()


for _model in (ProcessDefinition, ProcessVersion):
    for _signal, _name in ((post_save, "save"), (post_delete, "delete")):
        _signal.connect(
            _published_changed, sender=_model, dispatch_uid=f"workflow-published-{_name}-{_model.__name__}"
        )
