"""The rows a case's state change joins, from each process's row cache (``tongban.core.rowcache``):
its item (with the basic item), guide version, department and region — all shown on the
catalogue's pages, so their saves bump ``PAGES``."""

from __future__ import annotations

from django.db.models import QuerySet

from tongban.cases.models import Application
from tongban.catalog.models import ItemImplementation, ItemVersion
from tongban.catalog.queries import PAGES
from tongban.core.models import Organisation, Region
from tongban.core.rowcache import RowCache, attach

IMPLEMENTATIONS = RowCache(
    PAGES, lambda pk: ItemImplementation.objects.select_related("basic_item").get(pk=pk)
)
VERSIONS = RowCache(PAGES, lambda pk: ItemVersion.objects.get(pk=pk))
DEPARTMENTS = RowCache(PAGES, lambda pk: Organisation.objects.get(pk=pk))
REGIONS = RowCache(PAGES, lambda pk: Region.objects.get(pk=pk))

CASE_ROWS = {
    "implementation": IMPLEMENTATIONS,
    "version": VERSIONS,
    "department": DEPARTMENTS,
    "region": REGIONS,
}
#: How each is joined when read with the case.
JOINS = {"implementation": "implementation__basic_item"}


def lock_case(pk: int, **more: RowCache) -> Application:
    """The case row, locked, with its item, version, department, region (and ``more``): from the
    row caches, or joined to the case when this transaction changed rows of their kind (not yet
    committed, so not for the caches).

    Only the case row is locked: locking its item/version/department rows too serialised every
    state change of a department and deadlocked with concurrent creates.
    """
    query, caches = _with_rows(Application.objects.select_for_update(of=("self",)), more)
    return attach(query.get(pk=pk), **caches)


#: The applicant's encrypted columns: a page that does not show them need not decrypt them.
PERSONAL_COLUMNS = ("applicant_id_number", "applicant_phone", "form_data")


def read_case(pk: int, *, defer: tuple[str, ...] = (), **more: RowCache) -> Application | None:
    """As ``lock_case``, without the lock and without the ``defer`` columns; None when there is
    no such case."""
    query, caches = _with_rows(Application.objects.defer(*defer), more)
    app = query.filter(pk=pk).first()
    return attach(app, **caches) if app is not None else None


def _with_rows(query: QuerySet, more: dict[str, RowCache]) -> tuple[QuerySet, dict[str, RowCache]]:
    caches = {**CASE_ROWS, **more}
    if any(rows.generation.changed_in_this_transaction() for rows in caches.values()):
        return query.select_related(*(JOINS.get(field, field) for field in caches)), {}
    return query, caches
