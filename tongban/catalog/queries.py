"""Read side shared by the pages and the API: only published versions are ever shown."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tongban.catalog.models import ItemImplementation
from tongban.core.generations import Generation
from tongban.core.models import Region

#: Public pages rendered from the catalogue (a guide's body, search results) are reused until
#: anything they show is saved (``PAGES``, bumped by the receivers in ``CatalogConfig`` and after
#: bulk updates), and for at most an hour.
PAGE_CACHE_SECONDS = 3600
PAGES = Generation("catalogue-pages")


def published() -> QuerySet[ItemImplementation]:
    return ItemImplementation.objects.filter(
        published_version__isnull=False, basic_item__is_active=True
    ).select_related("basic_item", "organisation", "region", "published_version")


def serving_region(
    queryset: QuerySet[ItemImplementation], region_code: str | None
) -> QuerySet[ItemImplementation]:
    """Items of the region, below it, and of the levels above it that also serve it."""
    if not region_code:
        return queryset
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        return queryset.none()
    codes = region.path.strip("/").split("/")
    return queryset.filter(Q(region__path__startswith=region.path) | Q(region__code__in=codes))


def filtered(
    *,
    region: str | None = None,
    department: str | None = None,
    life: str | None = None,
    stage: str | None = None,
    organisation: int | None = None,
    high_frequency: bool | None = None,
    max_visits: int | None = None,
    item_type: str | None = None,
) -> QuerySet[ItemImplementation]:
    queryset = serving_region(published(), region)
    if department:
        queryset = queryset.filter(basic_item__department_key=department)
    if life:
        queryset = queryset.filter(basic_item__life_events__contains=f",{life},")
    if stage:
        queryset = queryset.filter(basic_item__enterprise_stages__contains=f",{stage},")
    if organisation:
        queryset = queryset.filter(organisation_id=organisation)
    if high_frequency:
        queryset = queryset.filter(basic_item__is_high_frequency=True)
    if max_visits is not None:
        queryset = queryset.filter(published_version__visits__lte=max_visits)
    if item_type:
        queryset = queryset.filter(basic_item__item_type=item_type)
    return queryset.order_by("basic_item__code", "region__path")


def one_per_item(implementations, region_code: str | None = None) -> list[ItemImplementation]:
    """One implementation per basic item: the one of ``region_code`` if any, else the highest level."""
    chosen: dict[int, ItemImplementation] = {}
    for impl in implementations:
        current = chosen.get(impl.basic_item_id)
        if current is None or (impl.region.code == region_code and current.region.code != region_code):
            chosen[impl.basic_item_id] = impl
    return list(chosen.values())
