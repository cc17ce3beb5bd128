"""Receivers: a bundle completes when its last child application reaches 办结."""

from django.dispatch import receiver

from tongban.cases.hooks import application_completed
from tongban.cases.models import Application


@receiver(application_completed, sender=Application, dispatch_uid="bundles-child-completed")
def child_completed(sender, application: Application, **kwargs) -> None:
    from tongban.bundles.services import on_child_completed

    on_child_completed(application)
