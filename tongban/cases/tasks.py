"""Periodic jobs of case acceptance."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tongban.cases.notify import retry_pending
from tongban.cases.services import deem_overdue


@db_periodic_task(crontab(hour="0", minute="10"))
def deem_accepted_after_five_working_days() -> int:
    """《行政许可法》第三十二条: applications not answered within 5 working days are accepted."""
    return deem_overdue()


@db_periodic_task(crontab(minute="*"))
def retry_case_sms() -> int:
    """The SMS outbox: retry notifications the gateway did not take (backoff in notify.py)."""
    return retry_pending()
