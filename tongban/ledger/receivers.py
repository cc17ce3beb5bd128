"""Every case event goes into its case's hash chain, in the state change's transaction."""

from django.dispatch import receiver

from tongban.cases.hooks import case_event_recorded
from tongban.ledger import services


@receiver(case_event_recorded, dispatch_uid="ledger.append")
def chain_case_event(sender, event, **kwargs) -> None:
    services.append(event)
