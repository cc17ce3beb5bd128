"""Editing process definitions: services, scope, diagram, staff pages and API."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from tests.accounts.helpers import make_staff
from tests.catalog.factories import department, liuan, login_staff, published_item
from tongban.accounts.models import Role
from tongban.core.models import AuditEvent, Organisation
from tongban.workflow import definitions as svc
from tongban.workflow import diagram
from tongban.workflow.defaults import default_graph, parallel_graph
from tongban.workflow.models import ProcessDefinition, ProcessVersion

pytestmark = pytest.mark.django_db
V = ProcessVersion.State


class City:
    def __init__(self):
        regions = liuan()
        self.city, self.yuan = regions["city"], regions["yuan"]
        self.market = department(self.city)
        self.planning = department(self.city, "自然资源", "自然资源和规划局")
        self.centre = department(self.city, "数据资源", "数据资源管理局")
        self.centre.kind = Organisation.Kind.SERVICE_CENTRE
        self.centre.save()
        self.yuan_market = department(self.yuan)
        self.admin = make_staff(
            username="centre-admin", department=self.centre, region=self.city, roles=[Role.CATALOGUE_ADMIN]
        )
        self.market_admin = make_staff(
            username="market-admin", department=self.market, region=self.city, roles=[Role.CATALOGUE_ADMIN]
        )
        self.head = make_staff(
            username="market-head", department=self.market, region=self.city, roles=[Role.DEPARTMENT_HEAD]
        )
        self.clerk = make_staff(
            username="clerk", department=self.centre, region=self.city, roles=[Role.WINDOW_CLERK]
        )
        self.yuan_admin = make_staff(
            username="yuan-admin", department=self.yuan_market, region=self.yuan, roles=[Role.CATALOGUE_ADMIN]
        )
        self.sysadmin = make_staff(
            username="sysadmin", department=self.centre, region=self.city, roles=[Role.SYSTEM_ADMIN]
        )

    def parallel(self, policy: str = "all") -> dict:
        return parallel_graph(
            [("self", "质量安全审查"), (self.planning.credit_code, "规划核验")], policy=policy
        )

    def definition(self, key: str = "food-parallel", **kwargs) -> ProcessDefinition:
        values = {"actor": self.admin, "key": key, "name": "食品经营许可并联审批", "region": self.city}
        values.update(kwargs)
        return svc.create_definition(**values)


@pytest.fixture
def town():
    return City()


def codes(exc: ValidationError) -> set[str]:
    return {e.code for e in exc.error_list}


# ---- Services --------------------------------------------------------------------------------------


def test_create_definition_starts_with_the_default_draft_and_is_audited(town):
    definition = town.definition()
    draft = definition.versions.get()
    assert (draft.number, draft.status, draft.graph) == (1, V.DRAFT, default_graph())
    assert AuditEvent.objects.filter(
        action="workflow.definition_create", object_id=str(definition.pk)
    ).exists()
    with pytest.raises(ValidationError) as exc:
        town.definition()
    assert codes(exc.value) == {"definition-key-taken"}
    with pytest.raises(ValidationError) as exc:
        town.definition(key="Bad Key")
    assert codes(exc.value) == {"definition-key-format"}


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (
            lambda g: g["nodes"].append(
                {
                    "key": "orphan",
                    "type": "task",
                    "name": "孤立环节",
                    "stage": "review",
                    "role": "approver",
                    "department": "self",
                    "share": 0,
                    "next": "end",
                }
            ),
            "unreachable",
        ),
        (lambda g: g["nodes"][2].update(next="end"), "branch-not-joined"),
        (lambda g: g["nodes"][0].update(share=21), "shares-sum"),
        (lambda g: g["nodes"][0].update(next="nowhere"), "next-unknown"),
        (lambda g: g["nodes"][2].update(department="91340000MA2NOTREAL"), "department-unknown"),
    ],
)
def test_invalid_drafts_are_rejected_with_the_right_code_and_nothing_changes(town, mutate, code):
    definition = town.definition()
    draft = definition.versions.get()
    graph = town.parallel()
    svc.save_draft(draft, graph, actor=town.admin)
    broken = copy.deepcopy(graph)
    mutate(broken)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        svc.save_draft(draft, broken, actor=town.admin)
    assert code in codes(exc.value)
    draft.refresh_from_db()
    assert draft.graph == graph
    assert AuditEvent.objects.count() == events


def test_department_of_another_region_is_refused(town):
    draft = town.definition().versions.get()
    graph = parallel_graph([("self", "审查"), (town.yuan_market.credit_code, "裕安区核验")])
    with pytest.raises(ValidationError) as exc:
        svc.save_draft(draft, graph, actor=town.admin)
    assert codes(exc.value) == {"department-unknown"}


def test_publishing_retires_the_previous_version_and_published_versions_are_immutable(town):
    definition = town.definition()
    v1 = definition.versions.get()
    svc.publish(v1, actor=town.admin)
    v1.refresh_from_db()
    assert v1.status == V.PUBLISHED and v1.published_by == town.admin
    with pytest.raises(ValidationError) as exc:
        svc.save_draft(v1, town.parallel(), actor=town.admin)
    assert codes(exc.value) == {"version-not-draft"}
    v2 = svc.new_draft(definition, actor=town.admin, note="增加规划核验")
    assert (v2.number, v2.graph) == (2, v1.graph)
    with pytest.raises(ValidationError) as exc:
        svc.new_draft(definition, actor=town.admin)
    assert codes(exc.value) == {"draft-exists"}
    svc.save_draft(v2, town.parallel(), actor=town.admin)
    svc.publish(v2, actor=town.admin)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (V.RETIRED, V.PUBLISHED)
    assert v1.graph == default_graph()
    assert definition.published == v2
    with pytest.raises(ValidationError) as exc:
        svc.publish(v2, actor=town.admin)
    assert codes(exc.value) == {"version-not-draft"}
    assert AuditEvent.objects.filter(action="workflow.publish").count() == 2


def test_publish_validates_again(town):
    """A draft written around the services (e.g. a data fix) is still checked when published."""
    draft = town.definition().versions.get()
    ProcessVersion.objects.filter(pk=draft.pk).update(graph={"start": "x", "nodes": []})
    draft.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        svc.publish(draft, actor=town.admin)
    assert codes(exc.value) == {"graph-empty"}
    draft.refresh_from_db()
    assert draft.status == V.DRAFT


def test_scope_service_centre_edits_the_region_departments_their_own(town):
    own = town.definition("market-process", department=town.market, actor=town.market_admin)
    other = town.definition("planning-process", department=town.planning)
    assert set(svc.definitions_for(town.admin, write=True)) == {own, other}
    assert set(svc.definitions_for(town.market_admin, write=True)) == {own}
    assert set(svc.definitions_for(town.yuan_admin)) == set()
    assert set(svc.definitions_for(town.head)) == {own}  # read-only
    assert not svc.definitions_for(town.head, write=True).exists()
    assert not svc.definitions_for(town.clerk).exists()
    assert set(svc.definitions_for(town.sysadmin, write=True)) == {own, other}
    with pytest.raises(PermissionDenied):
        svc.save_draft(other.versions.get(), town.parallel(), actor=town.market_admin)
    with pytest.raises(PermissionDenied):
        town.definition("not-mine", department=town.planning, actor=town.market_admin)
    with pytest.raises(PermissionDenied):
        town.definition("head-try", department=town.market, actor=town.head)


def test_roles_carry_the_permission(town):
    assert town.admin.has_perm("workflow.manage_process")
    assert town.sysadmin.has_perm("workflow.manage_process")
    assert town.head.has_perm("workflow.view_processdefinition")
    assert not town.head.has_perm("workflow.manage_process")
    assert not town.clerk.has_perm("workflow.view_processdefinition")


def test_binding_needs_a_published_version_and_the_item_in_scope(town):
    definition = town.definition()
    impl = published_item(town.market)
    far = published_item(town.yuan_market, name="裕安区食品经营许可")
    with pytest.raises(ValidationError) as exc:
        svc.bind_implementation(impl, definition, actor=town.admin)
    assert codes(exc.value) == {"definition-not-published"}
    svc.publish(definition.versions.get(), actor=town.admin)
    with pytest.raises(ValidationError) as exc:
        svc.bind_implementation(far, definition, actor=town.admin)
    assert codes(exc.value) == {"implementation-out-of-scope"}
    svc.bind_implementation(impl, definition, actor=town.admin)
    impl.refresh_from_db()
    assert impl.process == definition
    svc.unbind_implementation(impl, actor=town.admin)
    impl.refresh_from_db()
    assert impl.process is None


def test_a_running_case_keeps_the_version_it_started_with(town):
    from tests.workflow.factories import parallel_item

    setup = parallel_item()
    app = setup.accepted()
    pinned = app.process_version
    assert pinned is not None
    admin = make_staff(username="sys2", department=setup.housing, roles=[Role.SYSTEM_ADMIN])
    draft = svc.new_draft(setup.definition, actor=admin)
    svc.save_draft(draft, default_graph(), actor=admin)
    svc.publish(draft, actor=admin)
    app.refresh_from_db()
    pinned.refresh_from_db()
    assert app.process_version_id == pinned.pk and pinned.status == V.RETIRED
    assert pinned.graph != default_graph()


def test_diff_lists_node_changes(town):
    old, new = default_graph(), town.parallel()
    changes = svc.diff_graphs(old, new)
    kinds = {(c.kind, c.node) for c in changes}
    assert ("added", "joint") in kinds and ("removed", "audit") in kinds
    review = next(c for c in changes if c.node == "review")
    assert review.kind == "changed" and "时限占比：50% → 20%" in review.summary
    assert svc.diff_graphs(old, old) == []


# ---- Diagram ------------------------------------------------------------------------------------------


def test_diagram_contains_every_step_and_a_text_alternative(town):
    graph = town.parallel(policy="first_refusal")
    svg = diagram.render(graph, title="测试流程", departments={town.planning.credit_code: "自然资源"})
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg and "<desc" in svg
    for node in graph["nodes"]:
        assert f'data-key="{node["key"]}"' in svg
        assert node["name"] in svg
    assert "自然资源" in svg and "一票否决" in svg
    assert svg.count("<polygon") == 2  # split and join diamonds
    lines = diagram.outline(graph)
    assert len(lines) == len(graph["nodes"]) and lines[0].startswith("（开始）")


def test_diagram_escapes_names_and_survives_broken_graphs():
    graph = {
        "start": "a",
        "nodes": [
            {"key": "a", "type": "task", "name": "<script>x</script>", "next": "b"},
            {"key": "b", "type": "task", "name": "回到a", "next": "a"},
            {"key": "c", "type": "task", "name": "孤立"},
        ],
    }
    svg = diagram.render(graph, problem_nodes={"c"})
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'stroke-dasharray="5 3"' in svg  # the unreachable step
    assert "从开始环节无法到达" in diagram.summary(graph)
    assert diagram.render({}).startswith("<svg")


# ---- Pages ----------------------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    login_staff(client, user)
    return client


def _rows_post(definition, graph: dict, **extra) -> dict:
    from tongban.workflow.views_definitions import ROW_FIELDS, graph_to_rows

    start, rows = graph_to_rows(graph)
    data = {"start": start, "s-count": str(len(rows)), "note": "测试"}
    for i, row in enumerate(rows):
        for f in ROW_FIELDS:
            data[f"s-{i}-{f}"] = row[f]
    data.update(extra)
    return data


def test_pages_list_detail_edit_publish_bind(town):
    client = _client(town.admin)
    response = client.post(
        "/workbench/processes/new/", {"key": "food-parallel", "name": "食品并联", "region": town.city.code}
    )
    assert response.status_code == 302
    definition = ProcessDefinition.objects.get(key="food-parallel")
    assert client.get("/workbench/processes/").status_code == 200

    # Invalid: shares off by one → 422, the problem next to nothing in particular, nothing saved.
    broken = town.parallel()
    broken["nodes"][0]["share"] = 19
    broken["nodes"][2]["next"] = "end"  # a branch that never joins
    response = client.post(f"/workbench/processes/{definition.key}/edit/", _rows_post(definition, broken))
    assert response.status_code == 422
    page = response.content.decode()
    assert "时限占比合计为" in page and "草稿未保存" in page
    assert 'data-code="branch-not-joined"' in page
    assert definition.versions.get().graph == default_graph()

    # Adding a parallel group is server-side and saves nothing.
    response = client.post(
        f"/workbench/processes/{definition.key}/edit/",
        _rows_post(definition, default_graph(), action="add_group"),
    )
    assert response.status_code == 200 and 'value="parallel-1-join"' in response.content.decode()
    assert definition.versions.get().graph == default_graph()

    # Valid: saved, then published after confirmation.
    response = client.post(
        f"/workbench/processes/{definition.key}/edit/", _rows_post(definition, town.parallel(), action="save")
    )
    assert response.status_code == 302
    assert definition.versions.get().graph == town.parallel()
    page = client.get(f"/workbench/processes/{definition.key}/publish/").content.decode()
    assert "确认发布" in page and "规划核验" in page
    client.post(f"/workbench/processes/{definition.key}/publish/", {})
    assert definition.versions.get().status == V.DRAFT  # not confirmed
    client.post(f"/workbench/processes/{definition.key}/publish/", {"confirm": "1"})
    assert definition.versions.get().status == V.PUBLISHED

    impl = published_item(town.market)
    client.post(f"/workbench/processes/{definition.key}/bind/", {"implementation": impl.code})
    impl.refresh_from_db()
    assert impl.process == definition
    page = client.get(f"/workbench/processes/{definition.key}/").content.decode()
    assert impl.code in page and "<svg" in page and "文字版流程" in page and "现行版本" in page

    # A second draft shows the diff.
    client.post(f"/workbench/processes/{definition.key}/draft/", {"note": "改回默认"})
    client.post(f"/workbench/processes/{definition.key}/edit/", _rows_post(definition, default_graph()))
    page = client.get(f"/workbench/processes/{definition.key}/").content.decode()
    assert "删除" in page and "并联审查" in page


def test_json_editing_and_preview(town):
    definition = town.definition()
    client = _client(town.admin)
    url = f"/workbench/processes/{definition.key}/edit/"
    response = client.post(url, {"action": "save_json", "graph_json": "{not json"})
    assert "JSON 格式不正确" in response.content.decode()
    response = client.post(url, {"action": "save_json", "graph_json": json.dumps(town.parallel())})
    assert response.status_code == 302
    assert definition.versions.get().graph == town.parallel()
    response = client.post(url, _rows_post(definition, {"start": "x", "nodes": []}, action="preview"))
    assert response.status_code == 200 and "流程图没有任何环节" in response.content.decode()


def test_pages_respect_permissions_and_scope(town):
    definition = town.definition("planning-process", department=town.planning)
    assert _client(town.clerk).get("/workbench/processes/").status_code == 403
    assert _client(town.yuan_admin).get(f"/workbench/processes/{definition.key}/").status_code == 404
    market = _client(town.market_admin)
    assert market.get(f"/workbench/processes/{definition.key}/edit/").status_code == 404
    head = _client(town.head)
    own = town.definition("market-process", department=town.market)
    page = head.get(f"/workbench/processes/{own.key}/").content.decode()
    assert "只读" in page and "修改草稿" not in page
    assert head.post(f"/workbench/processes/{own.key}/publish/", {"confirm": "1"}).status_code == 404


# ---- API --------------------------------------------------------------------------------------------------


def test_api_create_save_publish_bind(town):
    client = _client(town.admin)
    base = "/api/workflow/definitions"
    response = client.post(
        base,
        {"key": "api-process", "name": "接口流程", "region_code": town.city.code},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["versions"][0]["status"] == "draft"
    broken = town.parallel()
    broken["nodes"].append({"key": "lost", "type": "end", "name": "另一个结束"})
    response = client.put(f"{base}/api-process/draft", {"graph": broken}, content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "graph-invalid"
    assert {"end-count", "unreachable"} <= {e["code"] for e in body["errors"]}
    assert any(e["node"] == "lost" for e in body["errors"])
    assert ProcessDefinition.objects.get(key="api-process").versions.get().graph == default_graph()
    response = client.post(f"{base}/validate", {"graph": broken}, content_type="application/json")
    assert {"end-count", "unreachable"} <= {p["code"] for p in response.json()}
    response = client.put(
        f"{base}/api-process/draft", {"graph": town.parallel()}, content_type="application/json"
    )
    assert response.status_code == 200
    assert {c["node"] for c in response.json()["changes"]} == set()  # version 1 has no predecessor
    response = client.post(f"{base}/api-process/draft/publish")
    assert response.status_code == 200 and response.json()["status"] == "published"
    response = client.post(f"{base}/api-process/draft", {"note": "v2"}, content_type="application/json")
    assert response.status_code == 201 and response.json()["number"] == 2
    impl = published_item(town.market)
    response = client.post(
        f"{base}/api-process/implementations",
        {"implementation_code": impl.code},
        content_type="application/json",
    )
    assert response.status_code == 200
    detail = client.get(f"{base}/api-process").json()
    assert detail["implementations"] == [impl.code] and detail["published_number"] == 1
    assert [v["number"] for v in detail["versions"]] == [2, 1]
    assert client.get(f"{base}/api-process/versions/1").json()["status"] == "published"
    assert client.delete(f"{base}/api-process/implementations/{impl.code}").status_code == 200
    assert [d["key"] for d in client.get(base).json()] == ["api-process"]


def test_api_permissions(town):
    definition = town.definition("planning-process", department=town.planning)
    base = "/api/workflow/definitions"
    assert Client().get(base).status_code == 401
    assert _client(town.clerk).get(base).status_code == 403
    assert _client(town.yuan_admin).get(f"{base}/{definition.key}").status_code == 404
    response = _client(town.market_admin).put(
        f"{base}/{definition.key}/draft", {"graph": town.parallel()}, content_type="application/json"
    )
    assert response.status_code == 404
    head = _client(town.head)
    own = town.definition("market-process", department=town.market)
    assert head.get(f"{base}/{own.key}").json()["editable"] is False
    assert head.post(f"{base}/{own.key}/draft/publish").status_code == 403


def test_admin_shows_versions_read_only(town, client, django_user_model):
    from tests.core.factories import login_superuser

    definition = town.definition()
    version = definition.versions.get()
    svc.publish(version, actor=town.admin)
    login_superuser(client, django_user_model)
    url = f"/admin/workflow/processversion/{version.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    client.post(url, {"note": "篡改", "graph": "{}"})
    version.refresh_from_db()
    assert version.note == "新建" and version.graph == default_graph()
    assert client.get(f"/admin/workflow/processdefinition/{definition.pk}/change/").status_code == 200
    assert client.get("/admin/workflow/processversion/add/").status_code == 403
