"""Which implementation-list items a member of staff may manage (数据权限 for the catalogue).

* A department's staff manage their own department's items (``tongban.accounts.scope``: own
  department, own region and below).
* Staff of the 政务服务管理机构 (Organisation.Kind.SERVICE_CENTRE, e.g. the 数据资源管理局 that runs
  the 政务服务中心, where the 编办-style catalogue administrators sit) manage every item of their
  region and below: they review and publish for all departments.
* Accounts without a staff profile (superusers, technical admin accounts) are limited by their
  Django permissions only.
"""

from __future__ import annotations

from django.db.models import QuerySet

from tongban.accounts.models import StaffProfile
from tongban.accounts.scope import scope_for
from tongban.catalog.models import ItemImplementation
from tongban.core.models import Organisation


def manageable(user, queryset: QuerySet[ItemImplementation] | None = None) -> QuerySet[ItemImplementation]:
    queryset = ItemImplementation.objects.all() if queryset is None else queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if user.is_superuser:
        return queryset
    profile = (
        StaffProfile.objects.select_related("department", "region").filter(user=user, is_active=True).first()
    )
    if profile is None:
        return queryset
    if profile.department.kind == Organisation.Kind.SERVICE_CENTRE:
        return queryset.filter(region__path__startswith=profile.region.path)
    return scope_for(user).filter(
        queryset, region_field="region", department_field="organisation", write=True
    )


def can_manage_organisation(user, organisation: Organisation) -> bool:
    """May ``user`` add items implemented by ``organisation`` (same rules as :func:`manageable`)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    profile = (
        StaffProfile.objects.select_related("department", "region").filter(user=user, is_active=True).first()
    )
    if profile is None:
        return True
    in_region = organisation.region.path.startswith(profile.region.path)
    if profile.department.kind == Organisation.Kind.SERVICE_CENTRE:
        return in_region
    return in_region and organisation.pk == profile.department_id
