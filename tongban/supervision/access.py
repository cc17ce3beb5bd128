"""Who may use supervision, and what they see — always through ``scope_for`` (accounts.scope).

* 电子监察人员 (supervisor): every department of their region and below; read-only on cases,
  issues 督办单, assigns and closes complaints.
* 部门负责人 (department head): their department in their region and below; answers 督办单,
  assigns complaints within the department.
* 系统管理员: everything.
* Other department staff: only complaints of their department (and alerts addressed to them).
"""

from __future__ import annotations

import contextlib

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from tongban.accounts.models import Role
from tongban.accounts.scope import DEPARTMENT_ROLES
from tongban.accounts.scope import scope_for as _scope_for
from tongban.cases.models import Application
from tongban.supervision.models import Complaint, SupervisionNotice
from tongban.workflow.models import Task

CASE_FIELDS = {"region_field": "region", "department_field": "department"}
TASK_FIELDS = {"region_field": "region", "department_field": "department", "assignee_field": "assignee"}
COMPLAINT_FIELDS = {
    "region_field": "region",
    "department_field": "assigned_department",
    "assignee_field": "assignee",
}


def scope_for(user):
    """``accounts.scope.scope_for``, computed once per user object (one request)."""
    if user is None:
        return _scope_for(user)
    cached = getattr(user, "_supervision_scope", None)
    if cached is None:
        cached = _scope_for(user)
        with contextlib.suppress(AttributeError):  # AnonymousUser and the like
            user._supervision_scope = cached
    return cached


def is_supervisor(user) -> bool:
    """电子监察人员 of a region (or a system administrator)."""
    scope = scope_for(user)
    return scope.sees_everything or scope.sees_region_all_departments


def is_head(user) -> bool:
    scope = scope_for(user)
    return scope.sees_everything or (Role.DEPARTMENT_HEAD in scope.roles and scope.sees_department)


def can_supervise(user) -> bool:
    """The supervision workbench: supervisors and department heads (and system administrators)."""
    scope = scope_for(user)
    if scope.user_id is None:
        return False
    return (
        scope.sees_everything
        or scope.sees_region_all_departments
        or (Role.DEPARTMENT_HEAD in scope.roles and scope.sees_department)
    )


def is_department_staff(user) -> bool:
    scope = scope_for(user)
    return scope.sees_everything or (bool(scope.roles & DEPARTMENT_ROLES) and scope.sees_department)


def require_supervise(user) -> None:
    if not can_supervise(user):
        raise PermissionDenied("您没有电子监察权限。")


def cases_for(user) -> QuerySet:
    return scope_for(user).filter(Application.objects.all(), **CASE_FIELDS)


def tasks_for(user) -> QuerySet:
    return scope_for(user).filter(Task.objects.all(), **TASK_FIELDS)


def notices_for(user) -> QuerySet:
    return scope_for(user).filter(SupervisionNotice.objects.all(), **CASE_FIELDS)


def complaints_for(user) -> QuerySet:
    return scope_for(user).filter(Complaint.objects.all(), **COMPLAINT_FIELDS)


def get_case(user, pk: int) -> Application:
    require_supervise(user)
    app = (
        cases_for(user)
        .select_related("implementation__basic_item", "department", "region", "version", "window__hall")
        .filter(pk=pk)
        .first()
    )
    if app is None:
        raise Http404("办件不存在")
    return app


def get_notice(user, pk: int) -> SupervisionNotice:
    notice = notices_for(user).select_related("application", "department", "issued_by").filter(pk=pk).first()
    if notice is None:
        raise Http404("督办单不存在")
    return notice


def get_complaint(user, pk: int) -> Complaint:
    complaint = (
        complaints_for(user)
        .select_related("application", "window__hall", "assigned_department", "assignee", "region")
        .filter(pk=pk)
        .first()
    )
    if complaint is None:
        raise Http404("投诉不存在")
    return complaint
