"""数据权限 — the ONE place that decides which records a member of staff may see or change.

Every module that lists or opens records on behalf of staff (cases, hotline, supervision…) goes
through this layer instead of writing its own filters::

    from tongban.accounts.scope import scope_for

    scope = scope_for(request.user)
    cases = scope.filter(Case.objects.all(), region_field="region",
                         department_field="department", assignee_field="assignee")
    if not scope.can_change(case, region_field="region", department_field="department",
                            assignee_field="assignee"):
        raise PermissionDenied

Rules (roles are RoleAssignment rows; a person may hold several and gets the union):

==================  ========================================================  ============
role                sees                                                      may change
==================  ========================================================  ============
system_admin        everything                                                everything
supervisor          every department, own region and all regions below        nothing
department staff    own department, own region and all regions below          same
(window_clerk, approver, department_head, catalogue_admin, hotline_agent,
hall_manager, village_helper, data_officer)
anyone              records assigned to them (``assignee_field``)             same
no staff profile    nothing (citizens reach their own data through their own  nothing
                    services, never through this layer)
==================  ========================================================  ============

``department_head`` additionally has ``can_approve_extensions``.

The filter is one SQL WHERE clause: ``region.path LIKE '<staff path>%'`` (the indexed
materialised path of core.Region) combined with department equality, OR'ed with the assignee;
no per-row Python, so it stays fast on large tables. ``can_see`` / ``can_change`` decide the
same rule for one record: in Python when the record's region was read with it
(``select_related("region")``, as the case reads do — one statement less per check on every
state change), otherwise by running the filter against its primary key.
``tests/accounts/test_scope.py`` checks that both answers agree for every role and record shape.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from django.core.signals import request_finished, request_started
from django.db.models import Model, Q, QuerySet
from django.db.models.signals import post_delete, post_save

from tongban.accounts.models import Role, RoleAssignment, StaffProfile

DEPARTMENT_ROLES = frozenset(
    {
        Role.WINDOW_CLERK,
        Role.APPROVER,
        Role.DEPARTMENT_HEAD,
        Role.CATALOGUE_ADMIN,
        Role.HOTLINE_AGENT,
        Role.HALL_MANAGER,
        Role.VILLAGE_HELPER,
        Role.DATA_OFFICER,
    }
)


def roles_of(user) -> frozenset[str]:
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_tongban_roles", None)
    if cached is None:
        cached = frozenset(
            RoleAssignment.objects.filter(user=user, revoked_at__isnull=True).values_list("role", flat=True)
        )
        user._tongban_roles = cached
    return cached


def has_role(user, role: str) -> bool:
    return role in roles_of(user)


@dataclass(frozen=True)
class DataScope:
    """What one member of staff may see and change. Build it with ``scope_for(user)``."""

    user_id: int | None
    roles: frozenset[str] = field(default_factory=frozenset)
    region_path: str | None = None
    department_id: int | None = None

    # -- what the roles add up to --
    @property
    def sees_everything(self) -> bool:
        return Role.SYSTEM_ADMIN in self.roles

    @property
    def sees_region_all_departments(self) -> bool:
        return Role.SUPERVISOR in self.roles and self.region_path is not None

    @property
    def sees_department(self) -> bool:
        return (
            bool(self.roles & DEPARTMENT_ROLES)
            and self.region_path is not None
            and self.department_id is not None
        )

    @property
    def can_approve_extensions(self) -> bool:
        return Role.DEPARTMENT_HEAD in self.roles or self.sees_everything

    @property
    def read_only(self) -> bool:
        return not (self.sees_everything or self.sees_department)

    # -- the filters --
    def _q(
        self,
        *,
        write: bool,
        region_field: str | None,
        department_field: str | None,
        assignee_field: str | None,
    ) -> Q | None:
        """The WHERE clause, or None for "everything". An empty Q(pk__in=[]) means nothing."""
        if self.sees_everything:
            return None
        q = Q(pk__in=[])
        if region_field is not None and self.region_path is not None:
            in_region = Q(**{f"{region_field}__path__startswith": self.region_path})
            if self.sees_department and department_field is not None:
                q |= in_region & Q(**{f"{department_field}_id": self.department_id})
            elif self.sees_department and department_field is None:
                pass  # a record without a department belongs to nobody's department: not visible
            if not write and self.sees_region_all_departments:
                q |= in_region
        if assignee_field is not None and self.user_id is not None:
            q |= Q(**{f"{assignee_field}_id": self.user_id})
        return q

    def filter(
        self,
        queryset: QuerySet,
        *,
        region_field: str | None = "region",
        department_field: str | None = "department",
        assignee_field: str | None = None,
        write: bool = False,
    ) -> QuerySet:
        """Records this user may see (``write=True``: may change). ``region_field`` names a
        ForeignKey to core.Region, ``department_field`` a ForeignKey to core.Organisation,
        ``assignee_field`` a ForeignKey to the user model; pass None for a field the model lacks."""
        q = self._q(
            write=write,
            region_field=region_field,
            department_field=department_field,
            assignee_field=assignee_field,
        )
        return queryset if q is None else queryset.filter(q)

    def _allows(
        self,
        obj: Model,
        *,
        write: bool,
        region_field: str | None,
        department_field: str | None,
        assignee_field: str | None,
    ) -> bool | None:
        """``_q`` decided on the record in memory; None when its region was not read with it."""
        if self.sees_everything:
            return True
        mine = assignee_field is not None and self.user_id is not None
        if mine and getattr(obj, f"{assignee_field}_id") == self.user_id:
            return True
        if region_field is None or self.region_path is None:
            return False
        if not obj._meta.get_field(region_field).is_cached(obj):
            return None
        region = getattr(obj, region_field)
        if region is None or not region.path.startswith(self.region_path):
            return False
        own_department = self.sees_department and department_field is not None
        if own_department and getattr(obj, f"{department_field}_id") == self.department_id:
            return True
        return not write and self.sees_region_all_departments

    def _check(self, obj: Model, *, write: bool, **fields) -> bool:
        fields = {
            "region_field": "region",
            "department_field": "department",
            "assignee_field": None,
            **fields,
        }
        allowed = self._allows(obj, write=write, **fields)
        if allowed is not None:
            return allowed
        return self.filter(type(obj)._default_manager.filter(pk=obj.pk), write=write, **fields).exists()

    def can_see(self, obj: Model, **fields) -> bool:
        return self._check(obj, write=False, **fields)

    def can_change(self, obj: Model, **fields) -> bool:
        return self._check(obj, write=True, **fields)


# Memo (one request asks the database once for the staff profile, however many checks the view
# and the service make). It lives on the user object and is only used while a request runs:
# request_started gives each request a fresh token and request_finished clears it, so code
# outside a request (tasks, commands, tests calling services directly) always reads afresh.
# A profile or role saved during the request bumps the generation and rebuilds the scope.
_request: ContextVar[object | None] = ContextVar("tongban_scope_request", default=None)
_generation = 0


def _request_begins(**kwargs) -> None:
    _request.set(object())


def _request_ends(**kwargs) -> None:
    _request.set(None)


def _bump_generation(**kwargs) -> None:
    global _generation
    _generation += 1


request_started.connect(_request_begins, dispatch_uid="scope-memo-request-started")
request_finished.connect(_request_ends, dispatch_uid="scope-memo-request-finished")
for _model in (StaffProfile, RoleAssignment):
    post_save.connect(_bump_generation, sender=_model, dispatch_uid=f"scope-memo-save-{_model.__name__}")
    post_delete.connect(_bump_generation, sender=_model, dispatch_uid=f"scope-memo-delete-{_model.__name__}")


def scope_for(user) -> DataScope:
    """The data scope of ``user``; citizens and anonymous users get an empty scope.

    Within a request it is memoised on the user object (like ``roles_of``), see ``_request``."""
    if user is None or not user.is_authenticated or not user.is_active:
        return DataScope(user_id=None)
    request = _request.get()
    if request is None:
        return _build_scope(user)
    key = (request, _generation, user.pk, user.is_superuser)
    cached = getattr(user, "_tongban_scope", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    scope = _build_scope(user)
    user._tongban_scope = (key, scope)
    return scope


def generation() -> int:
    """This process's count of staff profile and role changes (see ``_request``)."""
    return _generation


def _build_scope(user) -> DataScope:
    if user.is_superuser:
        return DataScope(user_id=user.pk, roles=frozenset({Role.SYSTEM_ADMIN}))
    primed = getattr(user, "_tongban_profile", None)  # tongban.accounts.identity.prime
    if primed is not None and primed[0] == _generation:
        staff_profile = primed[1]
    else:
        profile = StaffProfile.objects.select_related("region").filter(user=user, is_active=True).first()
        staff_profile = (profile.region.path, profile.department_id) if profile is not None else None
    if staff_profile is None:
        # Not (or no longer) staff: nothing, not even records still assigned to the account.
        return DataScope(user_id=None)
    region_path, department_id = staff_profile
    return DataScope(
        user_id=user.pk, roles=roles_of(user), region_path=region_path, department_id=department_id
    )
