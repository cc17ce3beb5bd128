"""Business rules of the core app: reference data, halls and worker health.

The working-day calendar lives in ``tongban.core.workdays`` and identifiers in
``tongban.core.identifiers``.
"""

from __future__ import annotations

import time

from django.conf import settings
from huey.contrib.djhuey import HUEY

from tongban.core.models import Region, ServiceHall

HEARTBEAT_KEY = "tongban:worker-heartbeat"


def record_worker_heartbeat() -> None:
    HUEY.put(HEARTBEAT_KEY, time.time())


def worker_is_alive(max_age_seconds: int | None = None) -> bool:
    """True when a Huey consumer wrote its heartbeat recently (shared Huey storage)."""
    max_age = max_age_seconds or settings.WORKER_HEARTBEAT_SECONDS * 4
    try:
        beat = HUEY.get(HEARTBEAT_KEY, peek=True)
    except Exception:
        return False
    return beat is not None and time.time() - float(beat) <= max_age


def platform_region() -> Region | None:
    return Region.objects.filter(code=settings.PLATFORM_REGION_CODE).first()


def home_page_context() -> dict:
    region = platform_region()
    halls = ServiceHall.objects.filter(is_active=True).select_related("region")
    if region is not None:
        halls = halls.filter(region__path__startswith=region.path)
    halls = list(halls.filter(kind__in=[ServiceHall.Kind.CENTRE, ServiceHall.Kind.TOWN_CENTRE])[:12])
    counties = list(region.children.filter(is_active=True)) if region is not None else []
    return {"region": region, "halls": halls, "counties": counties}
