"""流程图 as server-side SVG: no JavaScript, readable by screen readers, with a text alternative.

Layout: nodes are placed in layers by their longest distance from the start (top to bottom); a
parallel group (split → branches → join) gets one column per branch, so every branch reads as its
own lane and joins sit centred under their split. Graphs that are not series-parallel (a draft
being previewed with mistakes) fall back to a generic layering; unreachable steps go in a last
row, drawn dashed. Edges are orthogonal polylines with arrowheads.

``render(graph, ...)`` returns the ``<svg>`` markup (safe to insert in a template);
``outline(graph, ...)`` returns the same flow as a list of sentences for a text list.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tongban.workflow.graph import JOIN_POLICIES, STAGES, TASK_ROLES, Graph

BOX_W, BOX_H = 176, 72
DIAMOND_W, DIAMOND_H = 150, 64
END_W, END_H = 104, 40
COL_W = BOX_W + 28
ROW_H = BOX_H + 52
MARGIN = 16
START_H = 44  # room for the 开始 marker above the first row
FONT = 13
_ids = itertools.count(1)

POLICY_SHORT = {"all": "全部完成后继续", "first_refusal": "一票否决"}


@dataclass
class Placed:
    key: str
    node: dict[str, Any]
    layer: int
    x: float  # centre, in pixels
    reachable: bool = True
    lines: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.node.get("type") or "")

    @property
    def size(self) -> tuple[int, int]:
        if self.kind in {"split", "join"}:
            return DIAMOND_W, DIAMOND_H
        if self.kind == "end":
            return END_W, END_H
        return BOX_W, BOX_H


def _text_width(text: str, size: int = FONT) -> float:
    return sum(size if ord(ch) > 0x2E7F else size * 0.6 for ch in text)


def _fit(text: str, width: float, size: int = FONT) -> str:
    if _text_width(text, size) <= width:
        return text
    while text and _text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def department_label(code: str, departments: dict[str, str] | None) -> str:
    if not code or code == "self":
        return "本部门"
    return (departments or {}).get(code, code)


# ---- Layout ---------------------------------------------------------------------------------------


def _layers(graph: Graph) -> dict[str, int]:
    """Longest distance from the start (back edges of a cycle are ignored)."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(key: str) -> None:
        state[key] = 1
        for nxt in graph.successors(key):
            if nxt in graph.nodes and state.get(nxt) is None:
                visit(nxt)
        state[key] = 2
        order.append(key)

    if graph.start in graph.nodes:
        visit(graph.start)
    order.reverse()
    position = {k: i for i, k in enumerate(order)}
    layer = dict.fromkeys(order, 0)
    for key in order:
        for nxt in graph.successors(key):
            if nxt in position and position[nxt] > position[key]:
                layer[nxt] = max(layer[nxt], layer[key] + 1)
    return layer


class _NotSeriesParallel(Exception):
    pass


def _series_parallel_columns(graph: Graph) -> dict[str, float]:
    """Column (centre, in column units) of every node of a well-formed series-parallel graph."""
    columns: dict[str, float] = {}

    def sequence(start: str, stop: str) -> list[str]:
        seq, key, seen = [], start, set()
        while key and key != stop:
            if key in seen or key not in graph.nodes:
                raise _NotSeriesParallel
            seen.add(key)
            seq.append(key)
            node = graph.nodes[key]
            key = node.get("join") if node.get("type") == "split" else node.get("next")
            if node.get("type") == "end":
                break
        if stop and key != stop:
            raise _NotSeriesParallel
        return seq

    def width(start: str, stop: str, depth: int = 0) -> int:
        if depth > 50:
            raise _NotSeriesParallel
        result = 1
        for key in sequence(start, stop):
            node = graph.nodes[key]
            if node.get("type") == "split":
                branches = node.get("branches") or []
                result = max(result, sum(width(b, node.get("join"), depth + 1) for b in branches))
        return result

    def place(start: str, stop: str, left: float, depth: int = 0) -> None:
        total = width(start, stop, depth)
        for key in sequence(start, stop):
            if key in columns:
                raise _NotSeriesParallel
            columns[key] = left + total / 2
            node = graph.nodes[key]
            if node.get("type") == "split":
                branches = node.get("branches") or []
                widths = [width(b, node.get("join"), depth + 1) for b in branches]
                offset = left + (total - sum(widths)) / 2
                for branch, w in zip(branches, widths, strict=True):
                    place(branch, node.get("join"), offset, depth + 1)
                    offset += w

    place(graph.start, "", 0)
    if set(columns) != {k for k in graph.nodes if k in _layers(graph)}:
        raise _NotSeriesParallel
    return columns


def _generic_columns(graph: Graph, layer: dict[str, int]) -> dict[str, float]:
    """Barycentric ordering inside each layer, each layer centred."""
    rows: dict[int, list[str]] = {}
    for key in graph.nodes:  # document order first
        if key in layer:
            rows.setdefault(layer[key], []).append(key)
    predecessors: dict[str, list[str]] = {}
    for key in graph.nodes:
        for nxt in graph.successors(key):
            predecessors.setdefault(nxt, []).append(key)
    width = max((len(r) for r in rows.values()), default=1)
    columns: dict[str, float] = {}
    for index in sorted(rows):
        row = rows[index]
        if index > 0:

            def weight(key: str, row=row) -> float:
                xs = [columns[p] for p in predecessors.get(key, []) if p in columns]
                return sum(xs) / len(xs) if xs else float(row.index(key))

            row.sort(key=weight)
        left = (width - len(row)) / 2
        for i, key in enumerate(row):
            columns[key] = left + i + 0.5
    return columns


def layout(data: Any) -> tuple[list[Placed], int, int]:
    """Placed nodes, and the drawing's width and height in pixels."""
    graph = Graph(data if isinstance(data, dict) else {})
    layer = _layers(graph)
    try:
        columns = _series_parallel_columns(graph)
    except (_NotSeriesParallel, TypeError, KeyError, ValueError):
        columns = _generic_columns(graph, layer)
    n_cols = max((c + 0.5 for c in columns.values()), default=1)
    last = max(layer.values(), default=-1)
    placed: list[Placed] = []
    for key, node in graph.nodes.items():
        if key in layer:
            placed.append(Placed(key, node, layer[key], MARGIN + columns[key] * COL_W))
    lost = [k for k in graph.nodes if k not in layer]
    if lost:
        n_cols = max(n_cols, len(lost))
        for i, key in enumerate(lost):
            placed.append(
                Placed(key, graph.nodes[key], last + 1, MARGIN + (i + 0.5) * COL_W, reachable=False)
            )
        last += 1
    width = int(MARGIN * 2 + max(n_cols, 1) * COL_W)
    height = int(START_H + MARGIN * 2 + (last + 1) * ROW_H - (ROW_H - BOX_H))
    return placed, width, max(height, START_H + BOX_H + MARGIN * 2)


def _y(layer: int) -> float:
    """Top of a row."""
    return MARGIN + START_H + layer * ROW_H


# ---- Drawing --------------------------------------------------------------------------------------


def _node_lines(p: Placed, departments: dict[str, str] | None) -> list[tuple[str, str]]:
    node, kind = p.node, p.kind
    name = str(node.get("name") or p.key)
    if kind == "task":
        share = node.get("share")
        role = TASK_ROLES.get(node.get("role"), str(node.get("role") or "未指定角色"))
        return [
            ("wf-name", name),
            ("wf-meta", department_label(str(node.get("department") or ""), departments)),
            ("wf-meta", f"{role} · {share if share not in (None, '') else '?'}%"),
        ]
    if kind == "split":
        return [("wf-name", name), ("wf-meta", "并联开始")]
    if kind == "join":
        return [("wf-name", name), ("wf-meta", POLICY_SHORT.get(node.get("policy", "all"), "规则无效"))]
    if kind == "end":
        return [("wf-name", name)]
    return [("wf-name", name), ("wf-meta", "类型无效")]


def _shape(p: Placed, top: float, css: str, *, problem: bool) -> str:
    w, h = p.size
    x = p.x
    fill, stroke = {
        "split": ("#fff7e6", "#b26a00"),
        "join": ("#fff7e6", "#b26a00"),
        "end": ("#e8f3ec", "#1e7b45"),
    }.get(p.kind, ("#ffffff", "#1f4e8c"))
    stroke_attrs = f'stroke="{stroke}" stroke-width="1.5"'
    if problem:
        stroke_attrs = 'stroke="#b3261e" stroke-width="3"'
    if not p.reachable:
        stroke_attrs += ' stroke-dasharray="5 3"'
    common = f'class="{css}" fill="{fill}" {stroke_attrs}'
    if p.kind in {"split", "join"}:
        points = f"{x},{top} {x + w / 2},{top + h / 2} {x},{top + h} {x - w / 2},{top + h / 2}"
        return f'<polygon {common} points="{points}"/>'
    radius = h / 2 if p.kind == "end" else 6
    return f'<rect {common} x="{x - w / 2}" y="{top}" width="{w}" height="{h}" rx="{radius}"/>'


def render(
    data: Any,
    *,
    title: str = "流程图",
    departments: dict[str, str] | None = None,
    problem_nodes: set[str] | frozenset[str] = frozenset(),
) -> SafeString:
    """The graph as an inline ``<svg>`` with ``<title>``/``<desc>``; problem nodes drawn in red."""
    placed, width, height = layout(data)
    by_key = {p.key: p for p in placed}
    graph = Graph(data if isinstance(data, dict) else {})
    uid = next(_ids)
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="wf-diagram" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="wf-t{uid} wf-d{uid}" '
        f'font-family="sans-serif" font-size="{FONT}">',
        f'<title id="wf-t{uid}">{escape(title)}</title>',
        f'<desc id="wf-d{uid}">{escape(summary(data, departments=departments))}</desc>',
        f'<defs><marker id="wf-arrow{uid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/>'
        "</marker></defs>",
    ]
    arrow = f'marker-end="url(#wf-arrow{uid})"'
    # Start marker.
    start = by_key.get(graph.start)
    if start is not None:
        cy = MARGIN + 12
        parts.append(
            f'<g class="wf-start" aria-hidden="true"><circle cx="{start.x}" cy="{cy}" r="12" fill="#1f4e8c"/>'
            f'<text x="{start.x + 18}" y="{cy + 4}" fill="#333">开始</text>'
            f'<path d="M{start.x},{cy + 12} V{_y(start.layer) - 1}" fill="none" stroke="#444" '
            f'stroke-width="1.5" {arrow}/></g>'
        )
    # Edges first, so boxes sit on top.
    parts.append('<g class="wf-edges" aria-hidden="true">')
    for p in placed:
        _, h = p.size
        sy = _y(p.layer) + (BOX_H + h) / 2
        for nxt in graph.successors(p.key):
            q = by_key.get(nxt)
            if q is None:
                continue
            _, qh = q.size
            ty = _y(q.layer) + (BOX_H - qh) / 2
            if q.layer <= p.layer:  # a cycle: route around the right-hand side
                right = max(pp.x for pp in placed) + COL_W / 2
                d = f"M{p.x + p.size[0] / 2},{sy - h / 2} H{right} V{ty + qh / 2} H{q.x + q.size[0] / 2}"
                parts.append(f'<path d="{d}" fill="none" stroke="#b3261e" stroke-dasharray="4 3" {arrow}/>')
                continue
            mid = ty - (ROW_H - BOX_H) / 2 if abs(q.x - p.x) > 1 else ty
            if p.kind == "split" and abs(q.x - p.x) > 1:
                mid = sy + (ROW_H - BOX_H) / 2 - 4
            d = f"M{p.x},{sy} V{mid} H{q.x} V{ty - 1}" if abs(q.x - p.x) > 1 else f"M{p.x},{sy} V{ty - 1}"
            parts.append(f'<path d="{d}" fill="none" stroke="#444" stroke-width="1.5" {arrow}/>')
    parts.append("</g>")
    # Nodes.
    for p in placed:
        w, h = p.size
        top = _y(p.layer) + (BOX_H - h) / 2
        css = ["wf-node", f"wf-{p.kind or 'unknown'}"]
        if p.key in problem_nodes:
            css.append("wf-problem")
        if not p.reachable:
            css.append("wf-unreachable")
        shape = _shape(p, top, " ".join(css), problem=p.key in problem_nodes or not p.reachable)
        parts.append(f'<g class="wf-node-group" data-key="{escape(p.key)}">{shape}')
        lines = _node_lines(p, departments)
        inner = (w - 16) if p.kind not in {"split", "join"} else (w * 0.62)
        line_h = FONT + 5
        first = top + h / 2 - (len(lines) - 1) * line_h / 2 + FONT / 2 - 2
        for i, (cls, text) in enumerate(lines):
            weight = ' font-weight="bold"' if cls == "wf-name" else ""
            fill = "#1a1a1a" if cls == "wf-name" else "#4a4a4a"
            size = FONT if cls == "wf-name" else FONT - 1
            parts.append(
                f'<text class="{cls}" x="{p.x}" y="{first + i * line_h}" text-anchor="middle" '
                f'fill="{fill}" font-size="{size}"{weight}>{escape(_fit(text, inner, size))}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped


# ---- Text alternative -----------------------------------------------------------------------------


def _ordered(graph: Graph) -> list[str]:
    layer = _layers(graph)
    reachable = sorted(layer, key=lambda k: (layer[k], list(graph.nodes).index(k)))
    return reachable + [k for k in graph.nodes if k not in layer]


def outline(data: Any, *, departments: dict[str, str] | None = None) -> list[str]:
    """One sentence per step, in flow order, for the list next to the diagram."""
    graph = Graph(data if isinstance(data, dict) else {})
    layer = _layers(graph)

    def name(key: str) -> str:
        node = graph.nodes.get(key)
        return f"“{(node or {}).get('name') or key}”" if node else f"“{key}”（不存在）"

    result = []
    for key in _ordered(graph):
        node = graph.nodes[key]
        kind = node.get("type")
        label = str(node.get("name") or key)
        prefix = "（开始）" if key == graph.start else ""
        suffix = "" if key in layer else "（从开始环节无法到达）"
        if kind == "task":
            share = node.get("share")
            text = (
                f"{prefix}{label}：{STAGES.get(node.get('stage'), '类别无效')}，"
                f"{department_label(str(node.get('department') or ''), departments)}"
                f"{TASK_ROLES.get(node.get('role'), '角色无效')}办理，时限占比{share}%"
            )
            text += f"；下一环节{name(node['next'])}" if node.get("next") else "；没有下一环节"
        elif kind == "split":
            branches = "、".join(name(b) for b in node.get("branches") or [])
            text = f"{prefix}{label}：并联开始，分支{branches}同时办理，在{name(node.get('join') or '')}汇聚"
        elif kind == "join":
            policy = JOIN_POLICIES.get(node.get("policy", "all"), "规则无效")
            text = f"{prefix}{label}：汇聚（{policy}）"
            text += f"；下一环节{name(node['next'])}" if node.get("next") else "；没有下一环节"
        elif kind == "end":
            text = f"{prefix}{label}：流程结束"
        else:
            text = f"{prefix}{label}：类型无效"
        result.append(text + suffix)
    return result


def summary(data: Any, *, departments: dict[str, str] | None = None) -> str:
    """One paragraph for the SVG ``<desc>``."""
    return "；".join(outline(data, departments=departments)) or "流程图没有任何环节。"
