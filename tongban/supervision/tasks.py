"""Periodic jobs of electronic supervision (Huey; registered when djhuey imports app tasks)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tongban.supervision import services, stats


@db_periodic_task(crontab(minute="*/15"))
def scan_supervision_alerts() -> int:
    """临期/超期预警 once per threshold crossing (the Alert key makes reruns harmless); overdue
    督办单 and complaints once each."""
    return services.scan_alerts() + services.scan_overdue_notices() + services.scan_overdue_complaints()


@db_periodic_task(crontab(minute="*/5"))
def refresh_supervision_stats_today() -> int:
    """Today's summary rows (the dashboard shows when they were built)."""
    return stats.refresh_recent(days=0)


@db_periodic_task(crontab(minute="20"))
def refresh_supervision_stats() -> int:
    """The last closed days again, for anything recorded late (and yesterday's last minutes)."""
    return stats.refresh_recent()
