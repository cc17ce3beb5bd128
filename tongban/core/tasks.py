"""Periodic jobs of the core app."""

from huey import crontab
from huey.contrib.djhuey import HUEY, periodic_task

from tongban.core.services import record_worker_heartbeat


@HUEY.on_startup()
def heartbeat_on_startup() -> None:
    record_worker_heartbeat()


@periodic_task(crontab(minute="*"))
def worker_heartbeat() -> None:
    """Lets /readyz see that at least one consumer is running."""
    record_worker_heartbeat()
