"""The graph rules of tongban.workflow.graph: one example per problem code, and properties over
random series-parallel graphs (valid ones always validate; one broken edge, a dropped join or a
share off by one always yields the right code)."""

from __future__ import annotations

import copy
import itertools

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tongban.workflow.defaults import default_graph, parallel_graph
from tongban.workflow.graph import MAX_PATHS, Graph, problems, validate


def task(key, nxt, share=0, stage="review", **extra):
    node = {
        "key": key,
        "type": "task",
        "name": key,
        "stage": stage,
        "role": "approver",
        "department": "self",
        "share": share,
        "next": nxt,
    }
    node.update(extra)
    return node


END = {"key": "end", "type": "end", "name": "办结"}


def codes(graph, **kwargs) -> set[str]:
    return {p.code for p in problems(graph, **kwargs)}


def test_the_built_in_graphs_are_valid():
    validate(default_graph())
    validate(parallel_graph([("self", "甲"), ("self", "乙"), ("self", "丙")], policy="first_refusal"))


def test_validate_raises_every_problem_with_its_code():
    graph = default_graph()
    graph["nodes"][0]["share"] = 49
    graph["nodes"][1]["role"] = "nobody"
    with pytest.raises(ValidationError) as exc:
        validate(graph)
    assert {e.code for e in exc.value.error_list} == {"shares-sum", "role-unknown"}
    assert all(m for m in exc.value.messages)


def _with(mutator):
    graph = parallel_graph([("self", "甲"), ("self", "乙")])
    mutator(graph)
    return graph


def _nodes(graph):
    return {n["key"]: n for n in graph["nodes"]}


CASES = [
    ("graph-empty", lambda: {"start": "a", "nodes": []}),
    ("graph-empty", lambda: None),
    ("node-key-missing", lambda: _with(lambda g: g["nodes"].append({"type": "end"}))),
    ("node-key-duplicate", lambda: _with(lambda g: g["nodes"].append(dict(END)))),
    ("start-missing", lambda: _with(lambda g: g.update(start="nowhere"))),
    ("end-count", lambda: _with(lambda g: _nodes(g)["end"].update(type="task"))),
    ("node-type-unknown", lambda: _with(lambda g: _nodes(g)["deliver"].update(type="robot"))),
    ("next-unknown", lambda: _with(lambda g: _nodes(g)["deliver"].update(next="gone"))),
    ("next-missing", lambda: _with(lambda g: _nodes(g)["deliver"].pop("next"))),
    ("stage-unknown", lambda: _with(lambda g: _nodes(g)["review"].update(stage="lunch"))),
    ("role-unknown", lambda: _with(lambda g: _nodes(g)["review"].update(role="mayor"))),
    ("share-invalid", lambda: _with(lambda g: _nodes(g)["review"].update(share="20"))),
    ("share-invalid", lambda: _with(lambda g: _nodes(g)["review"].update(share=True))),
    ("department-unknown", lambda: _with(lambda g: _nodes(g)["parallel-1"].update(department="91340000X"))),
    ("name-missing", lambda: _with(lambda g: _nodes(g)["review"].update(name=" "))),
    ("split-branches", lambda: _with(lambda g: _nodes(g)["joint"].update(branches=["parallel-1"]))),
    ("split-join-missing", lambda: _with(lambda g: _nodes(g)["joint"].update(join="decide"))),
    ("join-policy", lambda: _with(lambda g: _nodes(g)["joined"].update(policy="majority"))),
    (
        "join-without-split",
        lambda: {
            "start": "a",
            "nodes": [
                task("a", "j", 25),
                {"key": "j", "type": "join", "next": "d"},
                task("d", "end", 75, stage="decide"),
                END,
            ],
        },
    ),
    ("cycle", lambda: _with(lambda g: _nodes(g)["deliver"].update(next="review"))),
    ("unreachable", lambda: _with(lambda g: g["nodes"].append(task("lost", "end")))),
    (
        "dead-end",
        lambda: {
            "start": "a",
            "nodes": [
                task("a", "b", 100, stage="decide"),
                {"key": "b", "type": "end", "next": "c"},
                {"key": "c", "type": "join", "policy": "all"},
            ],
        },
    ),
    ("shares-sum", lambda: _with(lambda g: _nodes(g)["parallel-2"].update(share=51))),
    ("decide-count", lambda: _with(lambda g: _nodes(g)["review"].update(stage="decide"))),
    ("decide-count", lambda: _with(lambda g: _nodes(g)["decide"].update(stage="audit"))),
    ("join-mismatch", lambda: _with(lambda g: _nodes(g)["review"].update(next="joined"))),
    ("branch-not-joined", lambda: _with(lambda g: _nodes(g)["parallel-1"].update(next="decide"))),
    (
        "split-branch-duplicate",
        lambda: _with(
            lambda g: _nodes(g)["joint"].update(branches=["parallel-1", "parallel-1", "parallel-2"])
        ),
    ),
    (
        "branch-overlap",
        lambda: _with(lambda g: _nodes(g)["parallel-1"].update(next="parallel-2", share=0)),
    ),
    (
        "decide-in-branch",
        lambda: _with(
            lambda g: (
                _nodes(g)["parallel-1"].update(stage="decide"),
                _nodes(g)["decide"].update(stage="audit"),
            )
        ),
    ),
]


@pytest.mark.parametrize(("code", "build"), CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CASES)])
def test_each_rule_reports_its_code(code, build):
    found = problems(build(), department_exists=lambda c: c == "91340000KNOWN")
    assert code in {p.code for p in found}, found
    assert all(p.message for p in found)


def test_problems_name_the_step_they_concern():
    graph = _with(lambda g: _nodes(g)["parallel-1"].update(role="mayor"))
    (problem,) = problems(graph)
    assert (problem.code, problem.node) == ("role-unknown", "parallel-1")


def test_department_exists_is_consulted_for_other_departments():
    graph = parallel_graph([("self", "甲"), ("91340000KNOWN", "乙")])
    assert codes(graph, department_exists=lambda c: c == "91340000KNOWN") == set()
    assert codes(graph) == {"department-unknown"}


# ---- Random series-parallel graphs --------------------------------------------------------------------


# A flow is a list of elements; an element is "task" or ("par", [flow, flow, ...]).
def _group(inner):
    return st.tuples(
        st.just("par"), st.lists(st.lists(inner, min_size=1, max_size=2), min_size=2, max_size=3)
    )


element = st.recursive(st.just("task"), _group, max_leaves=7)
top_flow = st.lists(element, min_size=0, max_size=3)


def _composition(data, total: int, parts: int) -> list[int]:
    cuts = sorted(data.draw(st.lists(st.integers(0, total), min_size=parts - 1, max_size=parts - 1)))
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


def build_graph(data, flow) -> tuple[dict, list[tuple[str, int]]]:
    """A valid graph for ``flow``: one 决定 step on the main line, shares adding up to 100 on every
    path (each branch gets its group's whole budget). Also returns (join key, nesting depth)."""
    counter = itertools.count(1)
    nodes: list[dict] = []
    joins: list[tuple[str, int]] = []

    def emit(seq, budget: int, nxt: str, depth: int) -> str:
        shares = _composition(data, budget, len(seq))
        first = nxt
        for item, share in reversed(list(zip(seq, shares, strict=True))):
            n = next(counter)
            if item == "decide":
                nodes.append(task(f"t{n}", first, share, stage="decide", role="department_head"))
                first = f"t{n}"
            elif item == "task":
                stage = data.draw(st.sampled_from(["review", "audit", "joint", "deliver"]))
                nodes.append(task(f"t{n}", first, share, stage=stage))
                first = f"t{n}"
            else:
                join = f"j{n}"
                policy = data.draw(st.sampled_from(["all", "first_refusal"]))
                nodes.append({"key": join, "type": "join", "name": join, "policy": policy, "next": first})
                joins.append((join, depth))
                branches = [emit(branch, share, join, depth + 1) for branch in item[1]]
                nodes.append(
                    {"key": f"s{n}", "type": "split", "name": f"s{n}", "branches": branches, "join": join}
                )
                first = f"s{n}"
        return first

    position = data.draw(st.integers(0, len(flow)))
    main = [*flow[:position], "decide", *flow[position:]]
    start = emit(main, 100, "end", 0)
    order = data.draw(st.permutations([*nodes, dict(END)]))  # node order never matters
    return {"start": start, "nodes": list(order)}, joins


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(data=st.data(), flow=top_flow)
def test_random_series_parallel_graphs_always_validate(data, flow):
    graph, _ = build_graph(data, flow)
    assume(len(Graph(graph).paths()) < MAX_PATHS)
    assert problems(graph) == []


@SETTINGS
@given(data=st.data(), flow=top_flow)
def test_an_edge_to_an_unknown_step_is_reported(data, flow):
    graph, _ = build_graph(data, flow)
    assume(len(Graph(graph).paths()) < MAX_PATHS)
    broken = copy.deepcopy(graph)
    with_edges = [n for n in broken["nodes"] if n.get("next") or n.get("branches")]
    node = data.draw(st.sampled_from(with_edges))
    if node["type"] == "split":
        node["branches"][data.draw(st.integers(0, len(node["branches"]) - 1))] = "missing-step"
    else:
        node["next"] = "missing-step"
    found = problems(broken)
    assert "next-unknown" in {p.code for p in found}
    assert any(p.code == "next-unknown" and p.node == node["key"] for p in found)


@SETTINGS
@given(data=st.data(), flow=top_flow.filter(lambda f: any(e != "task" for e in f)))
def test_a_dropped_join_is_reported(data, flow):
    graph, joins = build_graph(data, flow)
    assume(len(Graph(graph).paths()) < MAX_PATHS)
    join, depth = data.draw(st.sampled_from(joins))
    by_key = {n["key"]: n for n in graph["nodes"]}
    after = by_key[join]["next"]

    # 1. The join step deleted: its split has no join any more.
    removed = copy.deepcopy(graph)
    removed["nodes"] = [n for n in removed["nodes"] if n["key"] != join]
    assert "split-join-missing" in codes(removed)

    # 2. One branch bypasses the join: the branch is never joined (or joins the wrong group).
    bypass = copy.deepcopy(graph)
    into_join = [n for n in bypass["nodes"] if n.get("next") == join]
    data.draw(st.sampled_from(into_join))["next"] = after
    expected = "branch-not-joined" if depth == 0 else "join-mismatch"
    assert expected in codes(bypass)


@SETTINGS
@given(data=st.data(), flow=top_flow, delta=st.sampled_from([-1, 1]))
def test_a_share_off_by_one_is_reported(data, flow, delta):
    graph, _ = build_graph(data, flow)
    assume(len(Graph(graph).paths()) < MAX_PATHS)
    broken = copy.deepcopy(graph)
    node = data.draw(st.sampled_from([n for n in broken["nodes"] if n["type"] == "task"]))
    node["share"] += delta if 0 <= node["share"] + delta <= 100 else -delta
    assert "shares-sum" in codes(broken)
    assert codes(broken) <= {"shares-sum"}
