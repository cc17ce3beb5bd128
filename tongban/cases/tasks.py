"""Periodic jobs of case acceptance."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tongban.cases.services import deem_overdue


@db_periodic_task(crontab(hour="0", minute="10"))
def deem_accepted_after_five_working_days() -> int:
    """《行政许可法》第三十二条: applications not answered within 5 working days are accepted."""
    return deem_overdue()
