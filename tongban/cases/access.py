"""Who may open and edit an application (shared by API and pages)."""

from __future__ import annotations

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from tongban.accounts.scope import scope_for
from tongban.cases.models import Application
from tongban.cases.rows import read_case

PROGRESS_LIMIT = 10  # queries per client address per hour (no enumeration of case numbers)


def can_edit(user, app: Application) -> bool:
    """The applicant, or the clerk/helper who registered the application for them."""
    return user.is_authenticated and user.pk in (app.owner_id, app.registered_by_id)


def can_view(user, app: Application) -> bool:
    if can_edit(user, app):
        return True
    return scope_for(user).can_see(app, region_field="region", department_field="department")


def get_for(user, pk: int, *, edit: bool = False) -> Application:
    app = read_case(pk)
    if app is None or not (can_edit(user, app) if edit else can_view(user, app)):
        raise Http404("办件不存在")
    return app


def locate_for_change(user, pk: int, *, edit: bool = False) -> Application:
    """The case as far as the access check and ``apply_deemed_acceptance`` need it, for a
    state change whose service reads it whole again under its row lock: the wide read (the
    case's fifty columns with its item, version and department) is then done once."""
    app = (
        Application.objects.select_related("region")
        .only("status", "received_date", "owner", "registered_by", "department", "region", "region__path")
        .filter(pk=pk)
        .first()
    )
    if app is None or not (can_edit(user, app) if edit else can_view(user, app)):
        raise Http404("办件不存在")
    return app


def throttle_progress(address: str | None) -> None:
    key = f"cases:progress:{address or 'unknown'}"
    cache.add(key, 0, 3600)  # the hour starts at the first query
    try:
        count = cache.incr(key)
    except ValueError:  # expired or evicted in between: a new hour
        cache.set(key, count := 1, 3600)
    if count > PROGRESS_LIMIT:
        raise ValidationError("查询过于频繁，请一小时后再试。", code="rate-limited")


__all__ = ["PermissionDenied", "can_edit", "can_view", "get_for", "locate_for_change", "throttle_progress"]
