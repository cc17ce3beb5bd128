"""流程图 — the node format of a process version and its validation rules.

A graph is ``{"start": "<key>", "nodes": [<node>, ...]}``. Node types::

    {"key": "review", "type": "task", "name": "审查", "stage": "review", "role": "approver",
     "department": "self", "share": 30, "next": "joint"}
    {"key": "joint", "type": "split", "name": "并联审查", "branches": ["fire", "plan"], "join": "joined"}
    {"key": "joined", "type": "join", "policy": "all", "next": "decide"}
    {"key": "end", "type": "end"}

* ``department`` is ``"self"`` (the implementing department of the case) or the 统一社会信用代码
  of another department (并联审批 by other departments).
* ``share`` is the step's share of the time limit in percent; along every path from start to
  end the shares add up to 100 (parallel branches each count once on their own path).
* ``policy`` of a join: ``all`` (continue when every branch has finished) or ``first_refusal``
  (continue at the first refusal, cancelling the other branches; otherwise when all finished).
* Exactly one ``decide`` step on every path: that step's outcome is the decision.

Returns (退回) are not edges: at run time a task may be sent back to any task that precedes it.
Every rule has a stable code and a Chinese message; ``validate`` returns all problems at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

NODE_TYPES = {"task", "split", "join", "end"}
STAGES = {
    "review": "审查",
    "audit": "审核",
    "joint": "会审",
    "decide": "决定",
    "complete": "办结",
    "deliver": "送达",
}
TASK_ROLES = {"approver": "审批人员", "department_head": "部门负责人", "window_clerk": "综合窗口人员"}
JOIN_POLICIES = {"all": "全部完成后继续", "first_refusal": "任一部门不同意即结束并联"}
MAX_PATHS = 500


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    node: str = ""


class Graph:
    """A parsed graph (assumed valid for the run-time helpers; call ``validate`` first)."""

    def __init__(self, data: dict[str, Any]):
        self.data = data or {}
        self.start: str = self.data.get("start", "")
        self.nodes: dict[str, dict[str, Any]] = {}
        for node in self.data.get("nodes", []) or []:
            if isinstance(node, dict) and node.get("key"):
                self.nodes.setdefault(str(node["key"]), node)

    def node(self, key: str) -> dict[str, Any]:
        return self.nodes[key]

    def successors(self, key: str) -> list[str]:
        node = self.nodes.get(key, {})
        if node.get("type") == "split":
            return list(node.get("branches") or [])
        nxt = node.get("next")
        return [nxt] if nxt else []

    def paths(self) -> list[list[str]]:
        """Every path start → end (the graph is a DAG; capped at MAX_PATHS)."""
        found: list[list[str]] = []

        def walk(key: str, path: list[str]) -> None:
            if len(found) >= MAX_PATHS or key in path:
                return
            path = [*path, key]
            succ = self.successors(key)
            if not succ:
                found.append(path)
            for nxt in succ:
                if nxt in self.nodes:
                    walk(nxt, path)

        if self.start in self.nodes:
            walk(self.start, [])
        return found

    def enclosing_split(self) -> dict[str, str]:
        """Node key → key of the innermost split it runs inside ("" outside any split)."""
        result: dict[str, str] = {}

        def walk(key: str, stack: tuple[str, ...]) -> None:
            node = self.nodes.get(key)
            if node is None or key in result:
                return
            if node.get("type") == "join":
                stack = stack[:-1]
            result[key] = stack[-1] if stack else ""
            if node.get("type") == "split":
                for branch in node.get("branches") or []:
                    walk(branch, (*stack, key))
            else:
                for nxt in self.successors(key):
                    walk(nxt, stack)

        if self.start in self.nodes:
            walk(self.start, ())
        return result

    def join_of(self, split_key: str) -> str:
        return self.nodes[split_key].get("join", "")

    def split_of_join(self, join_key: str) -> str:
        for key, node in self.nodes.items():
            if node.get("type") == "split" and node.get("join") == join_key:
                return key
        return ""

    def task_keys(self) -> list[str]:
        return [k for k, n in self.nodes.items() if n.get("type") == "task"]

    def precedes(self, earlier: str, later: str) -> bool:
        """Whether ``earlier`` lies before ``later`` on some path."""
        return any(earlier in p and later in p and p.index(earlier) < p.index(later) for p in self.paths())


def problems(data: Any, *, department_exists=None) -> list[Problem]:
    """Every problem of a graph; ``department_exists(credit_code) -> bool`` checks departments."""
    out: list[Problem] = []
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or not data["nodes"]:
        return [Problem("graph-empty", "流程图没有任何环节。")]
    keys: list[str] = []
    for index, node in enumerate(data["nodes"], start=1):
        if not isinstance(node, dict) or not str(node.get("key") or "").strip():
            out.append(Problem("node-key-missing", f"第{index}个环节缺少标识。"))
            continue
        keys.append(str(node["key"]))
    for key in {k for k in keys if keys.count(k) > 1}:
        out.append(Problem("node-key-duplicate", f"环节标识“{key}”重复。", key))
    graph = Graph(data)
    if graph.start not in graph.nodes:
        out.append(Problem("start-missing", "请指定存在的开始环节。"))
        return out

    ends = [k for k, n in graph.nodes.items() if n.get("type") == "end"]
    if len(ends) != 1:
        out.append(Problem("end-count", "流程须有且只有一个结束环节。"))
    for key, node in graph.nodes.items():
        kind = node.get("type")
        name = node.get("name") or key
        if kind not in NODE_TYPES:
            out.append(Problem("node-type-unknown", f"环节“{name}”的类型无效。", key))
            continue
        for nxt in graph.successors(key):
            if nxt not in graph.nodes:
                out.append(Problem("next-unknown", f"环节“{name}”指向不存在的环节“{nxt}”。", key))
        if kind in {"task", "join"} and not node.get("next"):
            out.append(Problem("next-missing", f"环节“{name}”没有下一环节。", key))
        if kind == "task":
            if node.get("stage") not in STAGES:
                out.append(Problem("stage-unknown", f"环节“{name}”的环节类别无效。", key))
            if node.get("role") not in TASK_ROLES:
                out.append(Problem("role-unknown", f"环节“{name}”的办理角色无效。", key))
            share = node.get("share")
            if not isinstance(share, int) or isinstance(share, bool) or not 0 <= share <= 100:
                out.append(Problem("share-invalid", f"环节“{name}”的时限占比须是0至100的整数。", key))
            dept = node.get("department") or ""
            if dept != "self" and (department_exists is None or not department_exists(dept)):
                out.append(Problem("department-unknown", f"环节“{name}”的办理部门不存在。", key))
            if not str(node.get("name") or "").strip():
                out.append(Problem("name-missing", f"环节“{key}”缺少名称。", key))
        if kind == "split":
            branches = node.get("branches") or []
            if len(branches) < 2:
                out.append(Problem("split-branches", f"并联环节“{name}”至少要有两个分支。", key))
            join = graph.nodes.get(node.get("join") or "")
            if join is None or join.get("type") != "join":
                out.append(Problem("split-join-missing", f"并联环节“{name}”没有对应的汇聚环节。", key))
        if kind == "join" and node.get("policy", "all") not in JOIN_POLICIES:
            out.append(Problem("join-policy", f"汇聚环节“{name}”的规则无效。", key))
        if kind == "join" and not graph.split_of_join(key):
            out.append(Problem("join-without-split", f"汇聚环节“{name}”没有对应的并联环节。", key))
    if any(p.code in {"next-unknown", "node-type-unknown", "node-key-duplicate"} for p in out):
        return out

    # Cycles: returns are run-time actions, never edges.
    state: dict[str, int] = {}

    def has_cycle(key: str) -> bool:
        state[key] = 1
        for nxt in graph.successors(key):
            if state.get(nxt) == 1 or (state.get(nxt) is None and has_cycle(nxt)):
                return True
        state[key] = 2
        return False

    if has_cycle(graph.start):
        return [*out, Problem("cycle", "流程不能有回路（退回在办理时操作，不画成连线）。")]

    reachable = {k for p in graph.paths() for k in p}
    for key, node in graph.nodes.items():
        if key not in reachable:
            out.append(Problem("unreachable", f"环节“{node.get('name') or key}”从开始环节无法到达。", key))

    for path in graph.paths():
        last = graph.nodes[path[-1]]
        if last.get("type") != "end":
            out.append(Problem("dead-end", f"从“{path[-1]}”无法到达结束环节。", path[-1]))
            continue
        tasks = [graph.nodes[k] for k in path if graph.nodes[k].get("type") == "task"]
        total = sum(t.get("share") or 0 for t in tasks if isinstance(t.get("share"), int))
        route = " → ".join(str(graph.nodes[k].get("name") or k) for k in path)
        if total != 100:
            out.append(Problem("shares-sum", f"路径“{route}”的时限占比合计为{total}%，应为100%。"))
        decides = sum(1 for t in tasks if t.get("stage") == "decide")
        if decides != 1:
            out.append(Problem("decide-count", f"路径“{route}”须有且只有一个“决定”环节。"))
        # Every split on the path is closed by its own join before the end, in nesting order.
        stack: list[str] = []
        for key in path:
            node = graph.nodes[key]
            if node.get("type") == "split":
                stack.append(key)
            elif node.get("type") == "join":
                if not stack or graph.nodes[stack[-1]].get("join") != key:
                    out.append(Problem("join-mismatch", f"汇聚环节“{key}”与并联分支不对应。", key))
                    break
                stack.pop()
            elif node.get("type") == "end" and stack:
                out.append(Problem("branch-not-joined", f"并联环节“{stack[-1]}”有分支未汇聚。", stack[-1]))
    # Branches are separate lanes: no step may be reached from two branches of one split before
    # its join (it would run twice), and a branch is not listed twice.
    for key, node in graph.nodes.items():
        if node.get("type") != "split":
            continue
        branches = list(node.get("branches") or [])
        name = node.get("name") or key
        if len(set(branches)) != len(branches):
            out.append(Problem("split-branch-duplicate", f"并联环节“{name}”的分支重复。", key))
            continue
        seen: dict[str, str] = {}
        for branch in branches:
            todo, lane = [branch], set()
            while todo:
                current = todo.pop()
                if current in lane or current == node.get("join") or current not in graph.nodes:
                    continue
                lane.add(current)
                todo.extend(graph.successors(current))
            shared = sorted(k for k in lane if k in seen)
            if shared:
                other = graph.nodes[seen[shared[0]]].get("name") or seen[shared[0]]
                common = graph.nodes[shared[0]].get("name") or shared[0]
                out.append(
                    Problem(
                        "branch-overlap",
                        f"并联环节“{name}”的分支“{graph.nodes[branch].get('name') or branch}”与“{other}”"
                        f"相互连通（“{common}”），各分支须各自汇聚。",
                        key,
                    )
                )
                break
            seen.update(dict.fromkeys(lane, branch))
    enclosing = graph.enclosing_split()
    for key, node in graph.nodes.items():
        if node.get("type") == "task" and node.get("stage") == "decide" and enclosing.get(key):
            out.append(Problem("decide-in-branch", "“决定”环节不能放在并联分支内。", key))
    # Deduplicate (many paths report the same problem).
    unique: dict[tuple[str, str], Problem] = {}
    for p in out:
        unique.setdefault((p.code, p.message), p)
    return list(unique.values())


def validate(data: Any, *, department_exists=None) -> None:
    """Raise one ValidationError listing every problem (each with its code)."""
    found = problems(data, department_exists=department_exists)
    if found:
        raise ValidationError([ValidationError(p.message, code=p.code) for p in found])
