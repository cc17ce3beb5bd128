"""Signals other apps listen to. Both are sent inside the state change's transaction.

- ``case_events_recorded(events=list[CaseEvent])``: case events right after their rows are
  written — one event, or all the events of a state change written together (see
  ``cases.services.state_change``), in the order they happened. The ledger appends them to their
  cases' hash chains in the same transaction.
- ``application_completed(application=Application)``: an application reached 办结
  (bundles complete their parent when the last child completes).
"""

from django.dispatch import Signal

case_events_recorded = Signal()
application_completed = Signal()
