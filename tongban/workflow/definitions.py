"""Editing process definitions: drafts, validation, publishing, binding to implementation-list items.

Rules (one transaction per state change, with its audit event):

* A definition has at most one draft; ``new_draft`` copies the latest version's graph.
* ``save_draft`` only ever stores a graph that passes ``graph.validate`` (every department other
  than ``"self"`` must be a 统一社会信用代码 of an active department of the definition's region).
* ``publish`` validates again, retires the previously published version and publishes the draft.
  Published and retired versions are never changed: a running case keeps the version it was
  accepted with (``Application.process_version``, pinned by the runtime engine).
* Only definitions with a published version can be bound to an implementation-list item.

Who may edit: the ``workflow.manage_process`` permission (系统管理员, 事项管理员), narrowed by the data
scope: system administrators edit everything (including the built-in default process); staff of
the 政务服务管理机构 edit every definition of their region and below; other staff edit the
definitions of their own department. Reading also needs ``workflow.view_processdefinition``
(or ``manage_process``); supervisors read their region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from tongban.accounts.models import StaffProfile
from tongban.accounts.scope import scope_for
from tongban.core.audit import record_event
from tongban.core.models import Organisation, Region
from tongban.workflow import graph as graphs
from tongban.workflow.defaults import default_graph
from tongban.workflow.models import ProcessDefinition, ProcessVersion

V = ProcessVersion.State
MANAGE_PERMISSION = "workflow.manage_process"
VIEW_PERMISSION = "workflow.view_processdefinition"
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")


# ---- Scope -----------------------------------------------------------------------------------------


def can_view_definitions(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.has_perm(MANAGE_PERMISSION) or user.has_perm(VIEW_PERMISSION))
    )


def _profile(user) -> StaffProfile | None:
    return (
        StaffProfile.objects.select_related("department", "region").filter(user=user, is_active=True).first()
    )


def definitions_for(user, queryset: QuerySet | None = None, *, write: bool = False) -> QuerySet:
    """The definitions ``user`` may see (``write=True``: may edit), through the data scope."""
    queryset = ProcessDefinition.objects.all() if queryset is None else queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if not (user.has_perm(MANAGE_PERMISSION) if write else can_view_definitions(user)):
        return queryset.none()
    scope = scope_for(user)
    if scope.sees_everything:
        return queryset
    profile = _profile(user)
    if profile is None:
        return queryset.none()
    if profile.department.kind == Organisation.Kind.SERVICE_CENTRE and scope.region_path:
        # 政务服务管理机构: every department's definitions of the region and below.
        scoped = queryset.filter(region__path__startswith=scope.region_path)
    else:
        scoped = scope.filter(queryset, region_field="region", department_field="department", write=write)
    if write:
        return scoped
    # Everyone who may read definitions sees the built-in default process (read-only).
    return queryset.filter(Q(pk__in=scoped.values("pk")) | Q(region__isnull=True))


def regions_for(user) -> QuerySet[Region]:
    """Regions in which ``user`` may create definitions."""
    scope = scope_for(user)
    if scope.sees_everything and not scope.region_path:
        return Region.objects.filter(is_active=True, level__lte=Region.Level.COUNTY)
    if not user.has_perm(MANAGE_PERMISSION) or not scope.region_path:
        return Region.objects.none()
    return Region.objects.filter(
        is_active=True, path__startswith=scope.region_path, level__lte=Region.Level.COUNTY
    )


def _may_create_in(user, region: Region | None, department: Organisation | None) -> bool:
    scope = scope_for(user)
    if not user.has_perm(MANAGE_PERMISSION):
        return False
    if scope.sees_everything:
        return True
    profile = _profile(user)
    if profile is None or region is None or not scope.region_path:
        return False
    if not region.path.startswith(scope.region_path):
        return False
    if profile.department.kind == Organisation.Kind.SERVICE_CENTRE:
        return True
    return department is not None and department.pk == profile.department_id


def _require_edit(actor, definition: ProcessDefinition) -> None:
    if not definitions_for(actor, write=True).filter(pk=definition.pk).exists():
        raise PermissionDenied("您无权编辑该审批流程。")


def departments_for(definition: ProcessDefinition) -> QuerySet[Organisation]:
    """Departments a step may name: the active departments of the definition's region."""
    queryset = Organisation.objects.filter(is_active=True).select_related("region")
    if definition.region_id is None:
        return queryset.none()  # the built-in default process only uses the implementing department
    return queryset.filter(region_id=definition.region_id).order_by("name")


def department_checker(definition: ProcessDefinition):
    codes = set(departments_for(definition).values_list("credit_code", flat=True))
    return lambda code: code in codes


def problems_of(definition: ProcessDefinition, graph: Any) -> list[graphs.Problem]:
    return graphs.problems(graph, department_exists=department_checker(definition))


def validate_graph(definition: ProcessDefinition, graph: Any) -> None:
    graphs.validate(graph, department_exists=department_checker(definition))


# ---- Definitions and drafts ----------------------------------------------------------------------


def latest_version(definition: ProcessDefinition) -> ProcessVersion | None:
    return definition.versions.order_by("-number").first()


def draft_of(definition: ProcessDefinition) -> ProcessVersion | None:
    return definition.versions.filter(status=V.DRAFT).order_by("-number").first()


def create_definition(
    *,
    actor,
    key: str,
    name: str,
    region: Region | None,
    department: Organisation | None = None,
    description: str = "",
    graph: dict | None = None,
    request: HttpRequest | None = None,
) -> ProcessDefinition:
    """A new definition with draft version 1 (the default 审查 → 审核 → 决定 → 送达 graph unless
    ``graph`` is given; a given graph must be valid)."""
    key = (key or "").strip().lower()
    name = (name or "").strip()
    if not KEY_PATTERN.match(key):
        raise ValidationError(
            "流程标识须为2至60位小写字母、数字或连字符，且以字母或数字开头。", code="definition-key-format"
        )
    if not name or len(name) > 100:
        raise ValidationError("请填写流程名称（不超过100字）。", code="definition-name-required")
    if region is None and not scope_for(actor).sees_everything:
        raise ValidationError("请选择所属区划。", code="definition-region-required")
    if department is not None and region is not None and department.region_id != region.pk:
        raise ValidationError("牵头部门须属于流程的所属区划。", code="definition-department-region")
    if not _may_create_in(actor, region, department):
        raise PermissionDenied("您无权在该区划或部门下新建审批流程。")
    if ProcessDefinition.objects.filter(key=key).exists():
        raise ValidationError(f"流程标识“{key}”已被使用。", code="definition-key-taken")
    definition = ProcessDefinition(
        key=key, name=name, region=region, department=department, description=description.strip()
    )
    graph = graph if graph is not None else default_graph()
    validate_graph(definition, graph)
    with transaction.atomic():
        definition.save()
        version = ProcessVersion.objects.create(
            definition=definition, number=1, status=V.DRAFT, graph=graph, note="新建", created_by=actor
        )
        record_event(
            "workflow.definition_create",
            f"新建审批流程“{name}”（{key}），草稿第1版",
            actor=actor,
            obj=definition,
            request=request,
            data={"version": version.pk},
        )
    return definition


def new_draft(
    definition: ProcessDefinition, *, actor, note: str = "", request: HttpRequest | None = None
) -> ProcessVersion:
    """A draft copying the latest version (published, retired or draft)."""
    _require_edit(actor, definition)
    with transaction.atomic():
        definition = ProcessDefinition.objects.select_for_update().get(pk=definition.pk)
        if definition.versions.filter(status=V.DRAFT).exists():
            raise ValidationError("该流程已有草稿，请直接修改草稿。", code="draft-exists")
        latest = latest_version(definition)
        version = ProcessVersion.objects.create(
            definition=definition,
            number=(latest.number + 1) if latest else 1,
            status=V.DRAFT,
            graph=latest.graph if latest else default_graph(),
            note=(note or "").strip()[:200],
            created_by=actor,
        )
        record_event(
            "workflow.draft_create",
            f"审批流程“{definition.name}”新建草稿第{version.number}版",
            actor=actor,
            obj=version,
            request=request,
            data={"definition": definition.pk, "copied_from": latest.number if latest else None},
        )
    return version


def save_draft(
    version: ProcessVersion,
    graph: Any,
    *,
    actor,
    note: str | None = None,
    request: HttpRequest | None = None,
) -> ProcessVersion:
    """Store ``graph`` in the draft if it is valid; otherwise raise and change nothing."""
    definition = version.definition
    _require_edit(actor, definition)
    if version.status != V.DRAFT:
        raise ValidationError("已发布或已停用的流程版本不能修改，请新建草稿。", code="version-not-draft")
    validate_graph(definition, graph)
    with transaction.atomic():
        locked = ProcessVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != V.DRAFT:
            raise ValidationError("已发布或已停用的流程版本不能修改，请新建草稿。", code="version-not-draft")
        changes = diff_graphs(locked.graph, graph)
        locked.graph = graph
        if note is not None:
            locked.note = note.strip()[:200]
        locked.save(update_fields=["graph", "note"])
        record_event(
            "workflow.draft_save",
            f"保存审批流程“{definition.name}”草稿第{locked.number}版（{len(changes)}处变更）",
            actor=actor,
            obj=locked,
            request=request,
            data={"changes": [c.as_dict() for c in changes][:50]},
        )
    return locked


def publish(version: ProcessVersion, *, actor, request: HttpRequest | None = None) -> ProcessVersion:
    """Publish the draft: validated again, the previous published version retired, one transaction."""
    definition = version.definition
    _require_edit(actor, definition)
    with transaction.atomic():
        ProcessDefinition.objects.select_for_update().get(pk=definition.pk)
        locked = ProcessVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != V.DRAFT:
            raise ValidationError("只有草稿可以发布。", code="version-not-draft")
        validate_graph(definition, locked.graph)
        previous = list(
            ProcessVersion.objects.select_for_update().filter(definition=definition, status=V.PUBLISHED)
        )
        ProcessVersion.objects.filter(pk__in=[p.pk for p in previous]).update(status=V.RETIRED)
        locked.status = V.PUBLISHED
        locked.published_by = actor
        locked.published_at = timezone.now()
        locked.save(update_fields=["status", "published_by", "published_at"])
        record_event(
            "workflow.publish",
            f"发布审批流程“{definition.name}”第{locked.number}版"
            + (f"，停用第{'、'.join(str(p.number) for p in previous)}版" if previous else ""),
            actor=actor,
            obj=locked,
            request=request,
            data={"definition": definition.pk, "retired": [p.pk for p in previous]},
        )
    return locked


def discard_draft(version: ProcessVersion, *, actor, request: HttpRequest | None = None) -> None:
    """Delete a draft that was never published (version 1 of a new definition cannot be discarded)."""
    definition = version.definition
    _require_edit(actor, definition)
    with transaction.atomic():
        locked = ProcessVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != V.DRAFT:
            raise ValidationError("只有草稿可以放弃。", code="version-not-draft")
        if not definition.versions.exclude(pk=locked.pk).exists():
            raise ValidationError("流程的第一个版本不能放弃。", code="draft-only-version")
        number = locked.number
        locked.delete()
        record_event(
            "workflow.draft_discard",
            f"放弃审批流程“{definition.name}”草稿第{number}版",
            actor=actor,
            obj=definition,
            request=request,
        )


# ---- Binding to implementation-list items -----------------------------------------------------------


def bindable_implementations(definition: ProcessDefinition, user) -> QuerySet:
    """Implementation-list items of the definition's region that ``user`` manages (the other
    departments a step names are departments of that region, so the item must be there too)."""
    from tongban.catalog.models import ItemImplementation
    from tongban.catalog.scope import manageable

    queryset = manageable(
        user, ItemImplementation.objects.select_related("basic_item", "organisation", "region")
    )
    if definition.region_id is not None:
        queryset = queryset.filter(region_id=definition.region_id)
    return queryset.order_by("region__path", "basic_item__code")


def bind_implementation(implementation, definition: ProcessDefinition, *, actor, request=None):
    """Cases of ``implementation`` accepted from now on follow ``definition``'s published version."""
    _require_edit(actor, definition)
    if not bindable_implementations(definition, actor).filter(pk=implementation.pk).exists():
        raise ValidationError(
            "只能为本区划内、您有权管理的实施清单事项指定审批流程。", code="implementation-out-of-scope"
        )
    if not definition.versions.filter(status=V.PUBLISHED).exists():
        raise ValidationError("该流程还没有发布的版本，发布后才能用于事项。", code="definition-not-published")
    with transaction.atomic():
        impl = type(implementation).objects.select_for_update().get(pk=implementation.pk)
        previous = impl.process
        impl.process = definition
        impl.save(update_fields=["process"])
        record_event(
            "workflow.bind",
            f"事项“{impl.basic_item.name}”（{impl.code}）改用审批流程“{definition.name}”",
            actor=actor,
            obj=impl,
            request=request,
            data={"definition": definition.pk, "previous": previous.pk if previous else None},
        )
    return impl


def unbind_implementation(implementation, *, actor, request=None):
    """Back to the default process (running cases keep their pinned version)."""
    definition = implementation.process
    if definition is None:
        return implementation
    _require_edit(actor, definition)
    if not bindable_implementations(definition, actor).filter(pk=implementation.pk).exists():
        raise ValidationError("您无权管理该实施清单事项。", code="implementation-out-of-scope")
    with transaction.atomic():
        impl = type(implementation).objects.select_for_update().get(pk=implementation.pk)
        impl.process = None
        impl.save(update_fields=["process"])
        record_event(
            "workflow.unbind",
            f"事项“{impl.basic_item.name}”（{impl.code}）不再使用审批流程“{definition.name}”，改用默认流程",
            actor=actor,
            obj=impl,
            request=request,
            data={"definition": definition.pk},
        )
    return impl


# ---- Differences between versions ---------------------------------------------------------------------

FIELD_LABELS = {
    "type": "类型",
    "name": "名称",
    "stage": "环节类别",
    "role": "办理角色",
    "department": "办理部门",
    "share": "时限占比",
    "next": "下一环节",
    "branches": "并联分支",
    "join": "汇聚环节",
    "policy": "汇聚规则",
}


@dataclass(frozen=True)
class Change:
    kind: str  # added / removed / changed / start
    node: str
    summary: str

    @property
    def kind_name(self) -> str:
        return {"added": "新增", "removed": "删除", "changed": "修改", "start": "开始环节"}[self.kind]

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "node": self.node, "summary": self.summary}


def _show(field: str, value: Any) -> str:
    if value in (None, "", []):
        return "（空）"
    if field == "stage":
        return graphs.STAGES.get(value, str(value))
    if field == "role":
        return graphs.TASK_ROLES.get(value, str(value))
    if field == "policy":
        return graphs.JOIN_POLICIES.get(value, str(value))
    if field == "department" and value == "self":
        return "本部门"
    if field == "share":
        return f"{value}%"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def diff_graphs(old: Any, new: Any) -> list[Change]:
    """Node-by-node changes from ``old`` to ``new`` (by node key)."""
    a, b = (
        graphs.Graph(old if isinstance(old, dict) else {}),
        graphs.Graph(new if isinstance(new, dict) else {}),
    )
    changes: list[Change] = []
    if a.start != b.start:
        changes.append(Change("start", b.start, f"开始环节：{a.start or '（空）'} → {b.start or '（空）'}"))
    for key, node in b.nodes.items():
        name = node.get("name") or key
        if key not in a.nodes:
            changes.append(Change("added", key, f"新增环节“{name}”（{key}）"))
            continue
        before = a.nodes[key]
        parts = [
            f"{label}：{_show(field, before.get(field))} → {_show(field, node.get(field))}"
            for field, label in FIELD_LABELS.items()
            if before.get(field) != node.get(field)
        ]
        if parts:
            changes.append(Change("changed", key, f"环节“{name}”（{key}）" + "；".join(parts)))
    for key, node in a.nodes.items():
        if key not in b.nodes:
            changes.append(Change("removed", key, f"删除环节“{node.get('name') or key}”（{key}）"))
    return changes


def previous_version(version: ProcessVersion) -> ProcessVersion | None:
    return version.definition.versions.filter(number__lt=version.number).order_by("-number").first()
