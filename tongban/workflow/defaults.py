"""Built-in process graphs: the default 审查 → 审核 → 决定 → 送达 of the implementing department
(used by every item without its own definition), and a builder for 并联审批 graphs."""

from __future__ import annotations

from typing import Any

DEFAULT_KEY = "default-promised"


def default_graph() -> dict[str, Any]:
    return {
        "start": "review",
        "nodes": [
            _task("review", "审查", "review", "approver", 50, "audit"),
            _task("audit", "审核", "audit", "approver", 20, "decide"),
            _task("decide", "决定", "decide", "department_head", 25, "deliver"),
            _task("deliver", "送达", "deliver", "window_clerk", 5, "end"),
            {"key": "end", "type": "end", "name": "办结"},
        ],
    }


def parallel_graph(departments: list[tuple[str, str]], *, policy: str = "all") -> dict[str, Any]:
    """审查 (self) → 并联审查 by ``departments`` [(credit code or "self", step name)] → 决定 → 送达."""
    branches = [f"parallel-{i}" for i in range(1, len(departments) + 1)]
    nodes: list[dict[str, Any]] = [
        _task("review", "受理审查", "review", "approver", 20, "joint"),
        {"key": "joint", "type": "split", "name": "并联审查", "branches": branches, "join": "joined"},
    ]
    for key, (dept, name) in zip(branches, departments, strict=True):
        nodes.append(_task(key, name, "joint", "approver", 50, "joined", department=dept))
    nodes += [
        {"key": "joined", "type": "join", "name": "汇聚", "policy": policy, "next": "decide"},
        _task("decide", "决定", "decide", "department_head", 25, "deliver"),
        _task("deliver", "送达", "deliver", "window_clerk", 5, "end"),
        {"key": "end", "type": "end", "name": "办结"},
    ]
    return {"start": "review", "nodes": nodes}


def _task(
    key: str, name: str, stage: str, role: str, share: int, nxt: str, *, department: str = "self"
) -> dict[str, Any]:
    return {
        "key": key,
        "type": "task",
        "name": name,
        "stage": stage,
        "role": role,
        "department": department,
        "share": share,
        "next": nxt,
    }
