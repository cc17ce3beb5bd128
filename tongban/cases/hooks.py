"""Signals other apps listen to. Both are sent inside the state change's transaction.

- ``case_event_recorded(event=CaseEvent)``: every case event, right after its row is written
  (the ledger appends it to the case's hash chain in the same transaction).
- ``application_completed(application=Application)``: an application reached 办结
  (bundles complete their parent when the last child completes).
"""

from django.dispatch import Signal

case_event_recorded = Signal()
application_completed = Signal()
