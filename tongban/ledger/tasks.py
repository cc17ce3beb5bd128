"""Periodic job of the ledger: commit the changed chain heads into a Merkle root."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tongban.ledger.services import commit_now

#: Every 10 minutes: a case event is covered by a Merkle root at most ~10 minutes after it happened.
COMMIT_SCHEDULE = crontab(minute="*/10")


@db_periodic_task(COMMIT_SCHEDULE)
def commit_ledger() -> int | None:
    commit = commit_now()
    return commit.number if commit else None
