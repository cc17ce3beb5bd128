"""Periodic jobs of the catalogue."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tongban.catalog.services import publish_due


@db_periodic_task(crontab(minute="*/15"))
def publish_scheduled_versions() -> int:
    """Switch on approved versions whose effective date (生效日期) has come."""
    return publish_due()
