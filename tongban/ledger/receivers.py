"""Every case event goes into its case's hash chain, in the state change's transaction."""

from django.dispatch import receiver

from tongban.cases.hooks import case_events_recorded
from tongban.ledger import services


@receiver(case_events_recorded, dispatch_uid="ledger.append")
def chain_case_events(sender, events, **kwargs) -> None:
    services.append_many(events)
