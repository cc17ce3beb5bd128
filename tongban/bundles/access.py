"""Who may open a bundle case (shared by API and pages)."""

from __future__ import annotations

from django.http import Http404

from tongban.accounts.scope import scope_for
from tongban.bundles.models import BundleCase


def can_edit(user, bc: BundleCase) -> bool:
    return user.is_authenticated and user.pk == bc.owner_id


def can_view(user, bc: BundleCase) -> bool:
    if can_edit(user, bc):
        return True
    return scope_for(user).can_see(bc, region_field="region", department_field="lead_department")


def get_for(user, pk: int, *, edit: bool = False) -> BundleCase:
    bc = BundleCase.objects.select_related("bundle", "region", "lead_department").filter(pk=pk).first()
    if bc is None or not (can_edit(user, bc) if edit else can_view(user, bc)):
        raise Http404("一件事申请不存在")
    return bc
