"""Staff pages for process definitions: list, versions with diagrams and diffs, draft editing as a
form of steps (no JavaScript needed), publishing with confirmation, binding to items.

Business rules live in ``definitions.py``; these views only translate forms to graphs and back.
Out-of-scope definitions answer 404 (no hint that they exist).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tongban.catalog.models import ItemImplementation
from tongban.core.models import Organisation, Region
from tongban.workflow import definitions as svc
from tongban.workflow import diagram
from tongban.workflow.graph import JOIN_POLICIES, STAGES, TASK_ROLES, Graph, Problem
from tongban.workflow.models import ProcessDefinition, ProcessVersion

V = ProcessVersion.State
NODE_TYPES = {"task": "办理环节", "split": "并联开始", "join": "并联汇聚", "end": "结束"}
ROW_FIELDS = (
    "key",
    "type",
    "name",
    "stage",
    "role",
    "department",
    "share",
    "next",
    "branches",
    "join",
    "policy",
)
MAX_ROWS = 80


def _require_view(request: HttpRequest) -> None:
    if not svc.can_view_definitions(request.user):
        raise PermissionDenied("您没有查看审批流程的权限。")


def _definition(request: HttpRequest, key: str, *, write: bool = False) -> ProcessDefinition:
    _require_view(request)
    queryset = svc.definitions_for(request.user, write=write).select_related("region", "department")
    return get_object_or_404(queryset, key=key)


def _fail(request: HttpRequest, exc: ValidationError | PermissionDenied) -> None:
    for message in getattr(exc, "messages", None) or [str(exc)]:
        messages.error(request, message)


def department_names(definition: ProcessDefinition, graph: Any = None) -> dict[str, str]:
    names = {o.credit_code: o.short_name or o.name for o in svc.departments_for(definition)}
    codes = {str(n.get("department")) for n in Graph(graph or {}).nodes.values() if n.get("department")}
    missing = codes - set(names) - {"self"}
    if missing:
        names.update(
            {
                o.credit_code: o.short_name or o.name
                for o in Organisation.objects.filter(credit_code__in=missing)
            }
        )
    return names


def _version_view(version: ProcessVersion, names: dict[str, str], previous: ProcessVersion | None) -> dict:
    title = f"{version.definition.name} 第{version.number}版流程图"
    return {
        "version": version,
        "svg": diagram.render(version.graph, title=title, departments=names),
        "outline": diagram.outline(version.graph, departments=names),
        "diff": svc.diff_graphs(previous.graph, version.graph) if previous else None,
        "previous": previous,
    }


# ---- List and create -------------------------------------------------------------------------------


@login_required
def definition_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    query = (request.GET.get("q") or "").strip()
    queryset = (
        svc.definitions_for(request.user)
        .select_related("region", "department")
        .annotate(
            n_impl=Count("implementations", distinct=True),
            published_number=Count("versions", filter=Q(versions__status=V.PUBLISHED), distinct=True),
            draft_count=Count("versions", filter=Q(versions__status=V.DRAFT), distinct=True),
        )
        .order_by("region__path", "key")
    )
    if query:
        queryset = queryset.filter(Q(name__icontains=query) | Q(key__icontains=query))
    editable = set(svc.definitions_for(request.user, write=True).values_list("pk", flat=True))
    definitions = list(queryset[:200])
    for d in definitions:
        d.editable = d.pk in editable
    regions = list(svc.regions_for(request.user).order_by("path")[:200])
    return render(
        request,
        "workflow/definitions/list.html",
        {
            "definitions": definitions,
            "query": query,
            "regions": regions,
            "departments": Organisation.objects.filter(region__in=regions, is_active=True)
            .select_related("region")
            .order_by("region__path", "name")[:300]
            if regions
            else [],
            "form": {},
        },
    )


@login_required
@require_POST
def definition_create(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    region = Region.objects.filter(code=request.POST.get("region") or "").first()
    department = Organisation.objects.filter(pk=request.POST.get("department") or 0).first()
    try:
        definition = svc.create_definition(
            actor=request.user,
            key=request.POST.get("key", ""),
            name=request.POST.get("name", ""),
            region=region,
            department=department,
            description=request.POST.get("description", ""),
            request=request,
        )
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
        return redirect("processes:list")
    messages.success(request, "已新建审批流程，草稿第1版为默认的审查 → 审核 → 决定 → 送达，请按需修改。")
    return redirect("processes:edit", key=definition.key)


# ---- Detail --------------------------------------------------------------------------------------


@login_required
def definition_detail(request: HttpRequest, key: str) -> HttpResponse:
    definition = _definition(request, key)
    editable = svc.definitions_for(request.user, write=True).filter(pk=definition.pk).exists()
    versions = list(definition.versions.select_related("created_by", "published_by").order_by("-number"))
    by_number = sorted(versions, key=lambda v: v.number)
    names = department_names(definition, {"nodes": [n for v in versions for n in v.graph.get("nodes", [])]})
    views = []
    for i, version in enumerate(by_number):
        views.append(_version_view(version, names, by_number[i - 1] if i else None))
    views.reverse()
    current = next((v for v in views if v["version"].status == V.PUBLISHED), None)
    draft = next((v for v in views if v["version"].status == V.DRAFT), None)
    draft_problems = svc.problems_of(definition, draft["version"].graph) if draft else []
    implementations = ItemImplementation.objects.filter(process=definition).select_related(
        "basic_item", "organisation", "region"
    )
    bindable = (
        svc.bindable_implementations(definition, request.user).exclude(process=definition)[:300]
        if editable and current
        else []
    )
    return render(
        request,
        "workflow/definitions/detail.html",
        {
            "definition": definition,
            "editable": editable,
            "current": current,
            "draft": draft,
            "draft_problems": draft_problems,
            "history": [v for v in views if v is not current and v is not draft],
            "implementations": implementations,
            "bindable": bindable,
        },
    )


# ---- Drafts --------------------------------------------------------------------------------------


@login_required
@require_POST
def draft_create(request: HttpRequest, key: str) -> HttpResponse:
    definition = _definition(request, key, write=True)
    try:
        svc.new_draft(definition, actor=request.user, note=request.POST.get("note", ""), request=request)
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
        return redirect("processes:detail", key=key)
    messages.success(request, "已复制最新版本为新草稿。")
    return redirect("processes:edit", key=key)


@login_required
@require_POST
def draft_discard(request: HttpRequest, key: str) -> HttpResponse:
    definition = _definition(request, key, write=True)
    draft = svc.draft_of(definition)
    if draft is None:
        messages.error(request, "没有可放弃的草稿。")
    else:
        try:
            svc.discard_draft(draft, actor=request.user, request=request)
            messages.success(request, "已放弃草稿。")
        except (ValidationError, PermissionDenied) as exc:
            _fail(request, exc)
    return redirect("processes:detail", key=key)


def graph_to_rows(graph: Any) -> tuple[str, list[dict[str, str]]]:
    data = graph if isinstance(graph, dict) else {}
    rows = []
    for node in data.get("nodes") or []:
        if not isinstance(node, dict):
            continue
        row = {f: "" for f in ROW_FIELDS}
        for f in ROW_FIELDS:
            value = node.get(f)
            if f == "branches":
                row[f] = "，".join(str(b) for b in value or [])
            elif value is not None:
                row[f] = str(value)
        row["type"] = row["type"] or "task"
        if row["type"] == "join" and not row["policy"]:
            row["policy"] = "all"
        rows.append(row)
    return str(data.get("start") or ""), rows


def _split_keys(text: str) -> list[str]:
    for sep in ("，", "、", ";", "；", " "):
        text = text.replace(sep, ",")
    return [k.strip() for k in text.split(",") if k.strip()]


def rows_to_graph(start: str, rows: list[dict[str, str]]) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []
    for row in rows:
        kind = row.get("type") or "task"
        node: dict[str, Any] = {"key": row.get("key", "").strip(), "type": kind}
        if row.get("name", "").strip():
            node["name"] = row["name"].strip()
        if kind == "task":
            share = row.get("share", "").strip()
            node.update(
                stage=row.get("stage", ""),
                role=row.get("role", ""),
                department=row.get("department") or "self",
                share=int(share) if share.lstrip("-").isdigit() else share,
                next=row.get("next", "").strip(),
            )
        elif kind == "split":
            node.update(branches=_split_keys(row.get("branches", "")), join=row.get("join", "").strip())
        elif kind == "join":
            node.update(policy=row.get("policy") or "all", next=row.get("next", "").strip())
        nodes.append(node)
    return {"start": start.strip(), "nodes": nodes}


def _posted_rows(post) -> list[dict[str, str]]:
    try:
        count = min(int(post.get("s-count", "0")), MAX_ROWS)
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        if post.get(f"s-{i}-delete"):
            continue
        row = {f: (post.get(f"s-{i}-{f}") or "").strip() for f in ROW_FIELDS}
        if not any(row[f] for f in ("key", "name")) and row["type"] == "task" and not row["next"]:
            continue  # an untouched blank row
        rows.append(row)
    return rows


def _fresh_key(rows: list[dict[str, str]], base: str) -> str:
    keys = {r["key"] for r in rows}
    n = 1
    while f"{base}-{n}" in keys or any(k.startswith(f"{base}-{n}-") for k in keys):
        n += 1
    return f"{base}-{n}"


def _blank(**values: str) -> dict[str, str]:
    row = {f: "" for f in ROW_FIELDS}
    row.update(values)
    return row


def _insert_before_end(rows: list[dict[str, str]], new: list[dict[str, str]]) -> None:
    index = next((i for i, r in enumerate(rows) if r["type"] == "end"), len(rows))
    rows[index:index] = new


def add_step(rows: list[dict[str, str]]) -> None:
    end = next((r["key"] for r in rows if r["type"] == "end"), "")
    key = _fresh_key(rows, "step")
    _insert_before_end(
        rows,
        [
            _blank(
                key=key,
                type="task",
                name="新环节",
                stage="review",
                role="approver",
                department="self",
                share="0",
                next=end,
            )
        ],
    )


def add_parallel_group(rows: list[dict[str, str]]) -> None:
    """并联组: split, two branches (this department; choose others), join → the end step."""
    end = next((r["key"] for r in rows if r["type"] == "end"), "")
    base = _fresh_key(rows, "parallel")
    join = f"{base}-join"
    branches = [f"{base}-a", f"{base}-b"]
    new = [_blank(key=base, type="split", name="并联审查", branches="，".join(branches), join=join)]
    for i, branch in enumerate(branches, start=1):
        new.append(
            _blank(
                key=branch,
                type="task",
                name=f"并联部门{i}",
                stage="joint",
                role="approver",
                department="self",
                share="0",
                next=join,
            )
        )
    new.append(_blank(key=join, type="join", name="汇聚", policy="all", next=end))
    _insert_before_end(rows, new)


def _attach(rows: list[dict[str, str]], problems: list[Problem]) -> list[Problem]:
    """Problems of one step go to its row; the rest are returned for the top of the page."""
    by_key: dict[str, list[Problem]] = {}
    general: list[Problem] = []
    keys = {r["key"] for r in rows}
    for p in problems:
        (by_key.setdefault(p.node, []) if p.node in keys and p.node else general).append(p)
    for row in rows:
        row["problems"] = by_key.get(row["key"], [])
    return general


@login_required
def draft_edit(request: HttpRequest, key: str) -> HttpResponse:
    definition = _definition(request, key, write=True)
    draft = svc.draft_of(definition)
    if draft is None:
        messages.error(request, "该流程没有草稿，请先新建草稿。")
        return redirect("processes:detail", key=key)
    note = draft.note
    problems: list[Problem] = []
    checked = False
    json_text = ""
    if request.method == "POST":
        action = request.POST.get("action", "save")
        then_publish = action == "save_publish"
        action = "save" if then_publish else action
        note = request.POST.get("note", draft.note)[:200]
        if action == "save_json":
            json_text = request.POST.get("graph_json", "")
            try:
                graph = json.loads(json_text)
            except ValueError:
                graph = None
                messages.error(request, "JSON 格式不正确，未保存。")
            start, rows = graph_to_rows(graph) if isinstance(graph, dict) else graph_to_rows(draft.graph)
            if graph is None:
                return _render_edit(request, definition, draft, start, rows, note, [], False, json_text)
        else:
            start, rows = request.POST.get("start", ""), _posted_rows(request.POST)
            if action == "add_step":
                add_step(rows)
            elif action == "add_group":
                add_parallel_group(rows)
            graph = rows_to_graph(start, rows)
        if action in {"save", "save_json", "preview"}:
            problems = svc.problems_of(definition, graph)
            checked = True
            if action != "preview" and not problems:
                try:
                    svc.save_draft(draft, graph, actor=request.user, note=note, request=request)
                except (ValidationError, PermissionDenied) as exc:
                    _fail(request, exc)
                else:
                    messages.success(request, "草稿已保存，校验通过。")
                    if then_publish:
                        return redirect("processes:publish", key=key)
                    return redirect("processes:edit", key=key)
            elif not problems:
                messages.success(request, "校验通过（尚未保存）。")
        return _render_edit(request, definition, draft, start, rows, note, problems, checked, json_text)
    start, rows = graph_to_rows(draft.graph)
    return _render_edit(request, definition, draft, start, rows, note, problems, checked, json_text)


def _render_edit(request, definition, draft, start, rows, note, problems, checked, json_text) -> HttpResponse:
    graph = rows_to_graph(start, rows)
    general = _attach(rows, problems)
    names = department_names(definition, graph)
    departments = [("self", "本部门（实施主体）")] + [
        (o.credit_code, o.name) for o in svc.departments_for(definition)
    ]
    known = {c for c, _ in departments}
    for row in rows:
        if row.get("department") and row["department"] not in known:
            departments.append(
                (row["department"], f"{names.get(row['department'], row['department'])}（不可选）")
            )
            known.add(row["department"])
    problem_nodes = {p.node for p in problems if p.node}
    return render(
        request,
        "workflow/definitions/edit.html",
        {
            "definition": definition,
            "draft": draft,
            "start": start,
            "rows": rows,
            "count": len(rows),
            "note": note,
            "general_problems": general,
            "problems": problems,
            "checked": checked,
            "svg": diagram.render(
                graph,
                title=f"{definition.name} 草稿流程图（预览）",
                departments=names,
                problem_nodes=problem_nodes,
            ),
            "outline": diagram.outline(graph, departments=names),
            "node_types": NODE_TYPES,
            "stages": STAGES,
            "roles": TASK_ROLES,
            "policies": JOIN_POLICIES,
            "departments": departments,
            "keys": [r["key"] for r in rows if r["key"]],
            "json_text": json_text or json.dumps(graph, ensure_ascii=False, indent=2),
        },
        status=422 if checked and problems and request.POST.get("action") != "preview" else 200,
    )


# ---- Publish and bind ------------------------------------------------------------------------------


@login_required
def draft_publish(request: HttpRequest, key: str) -> HttpResponse:
    definition = _definition(request, key, write=True)
    draft = svc.draft_of(definition)
    if draft is None:
        messages.error(request, "没有可发布的草稿。")
        return redirect("processes:detail", key=key)
    if request.method == "POST":
        if not request.POST.get("confirm"):
            messages.error(request, "请勾选确认后再发布。")
        else:
            try:
                version = svc.publish(draft, actor=request.user, request=request)
            except (ValidationError, PermissionDenied) as exc:
                _fail(request, exc)
                return redirect("processes:detail", key=key)
            messages.success(
                request, f"已发布第{version.number}版。此后受理的案件按新版本办理，在办案件仍按原版本办理。"
            )
            return redirect("processes:detail", key=key)
    current = definition.published
    names = department_names(definition, draft.graph)
    return render(
        request,
        "workflow/definitions/publish.html",
        {
            "definition": definition,
            "draft": _version_view(draft, names, current),
            "current": current,
            "problems": svc.problems_of(definition, draft.graph),
            "n_impl": ItemImplementation.objects.filter(process=definition).count(),
        },
    )


@login_required
@require_POST
def bind(request: HttpRequest, key: str) -> HttpResponse:
    definition = _definition(request, key, write=True)
    impl = ItemImplementation.objects.filter(code=request.POST.get("implementation") or "").first()
    if impl is None:
        messages.error(request, "请选择实施清单事项。")
        return redirect("processes:detail", key=key)
    try:
        svc.bind_implementation(impl, definition, actor=request.user, request=request)
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    else:
        messages.success(request, f"“{impl.basic_item.name}”此后受理的案件按本流程办理。")
    return redirect("processes:detail", key=key)


@login_required
@require_POST
def unbind(request: HttpRequest, key: str) -> HttpResponse:
    definition = _definition(request, key, write=True)
    impl = get_object_or_404(
        ItemImplementation, code=request.POST.get("implementation") or "", process=definition
    )
    try:
        svc.unbind_implementation(impl, actor=request.user, request=request)
    except (ValidationError, PermissionDenied) as exc:
        _fail(request, exc)
    else:
        messages.success(request, f"“{impl.basic_item.name}”改用默认流程（在办案件不受影响）。")
    return redirect("processes:detail", key=key)
