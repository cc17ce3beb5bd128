"""Demo back office: 金安区 公共场所卫生许可 handled by three departments in parallel.

卫健 (lead) reviews the application, then 卫健's on-site hygiene review, 住建's fire-safety check
(消防验收/备案核验) and 市场监管's business-licence check run at once; 卫健's head decides; the
window hands the licence over. Three demo cases of 王小明 show the states: waiting at the join,
paused for testing, and completed with a pause and an approved extension. Idempotent.
"""

from __future__ import annotations

from typing import TextIO

from django.db import transaction
from django.utils import timezone

from tongban.accounts.models import Person
from tongban.cases import services as cases
from tongban.cases.models import Application, Status
from tongban.catalog.models import ItemImplementation
from tongban.workflow import defaults, services
from tongban.workflow.models import Outcome, PauseKind, ProcessDefinition, ProcessVersion, Task, TaskStatus

COUNTY = "341502"
ITEM = "公共场所卫生许可"
DEFINITION_KEY = "ja-public-hygiene-parallel"
CASES = ["demo-hygiene-at-join", "demo-hygiene-paused", "demo-hygiene-completed"]


def _user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def definition() -> ProcessDefinition | None:
    from tongban.core.demo import department
    from tongban.core.models import Region

    region = Region.objects.filter(code=COUNTY).first()
    if region is None:
        return None
    definition, _ = ProcessDefinition.objects.get_or_create(
        key=DEFINITION_KEY,
        defaults={
            "name": "公共场所卫生许可并联审批（卫健·住建·市场监管）",
            "region": region,
            "department": department(COUNTY, "health"),
            "description": (
                "受理审查后，卫生监督现场审查、消防核验、营业执照核验并联办理，任一部门不同意即转决定。"
            ),
        },
    )
    if not definition.versions.exists():
        graph = defaults.parallel_graph(
            [
                ("self", "卫生监督现场审查"),
                (department(COUNTY, "housing").credit_code, "消防验收（备案）核验"),
                (department(COUNTY, "market").credit_code, "营业执照核验"),
            ],
            policy="first_refusal",
        )
        ProcessVersion.objects.create(
            definition=definition,
            number=1,
            status=ProcessVersion.State.PUBLISHED,
            graph=graph,
            note="演示：三部门并联审批",
            published_at=timezone.now(),
        )
    return definition


def _open(app: Application, node_prefix: str = "") -> list[Task]:
    qs = Task.objects.filter(application=app, status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED])
    return [t for t in qs.order_by("id") if t.node_key.startswith(node_prefix)]


def _do(app: Application, username: str, node_prefix: str, opinion: str, **kwargs) -> None:
    """The named member of staff claims and approves the open task of that step."""
    user = _user(username)
    for task in _open(app, node_prefix):
        services.claim(task, user=user)
        services.complete_task(task, user=user, outcome=Outcome.APPROVE, opinion=opinion, **kwargs)


def _run(app: Application, target: str) -> None:
    """Move one demo case to its target state through the services (as the staff would)."""
    _do(app, "ja-health-approver", "review", "申请材料齐全，符合受理条件。")
    _do(app, "ja-market-approver", "parallel-3", "营业执照有效，经营范围含住宿服务。")
    if target == "demo-hygiene-at-join":
        _do(app, "ja-health-approver", "parallel-1", "现场卫生设施符合要求。")
        return  # 住建's fire-safety check is still open: the join waits
    if target == "demo-hygiene-paused":
        services.start_pause(
            app,
            user=_user("ja-health-approver"),
            kind=PauseKind.TESTING,
            reason="集中空调通风系统需委托第三方检测机构检测",
        )
        return
    services.start_pause(
        app, user=_user("ja-health-approver"), kind=PauseKind.INSPECTION, reason="游泳池水质检验"
    )
    services.end_pause(app, user=_user("ja-health-approver"))
    ext = services.request_extension(
        app, user=_user("ja-health-approver"), days=5, reason="检验报告需专家复核，申请延长5个工作日"
    )
    services.decide_extension(ext, head=_user("ja-health-head"), approve=True, note="同意延期")
    _do(app, "ja-health-approver", "parallel-1", "现场卫生设施符合要求。")
    _do(app, "ja-housing-approver", "parallel-2", "已取得消防验收备案凭证。")
    _do(app, "ja-health-head", "decide", "经审查，符合《公共场所卫生管理条例》规定的条件，准予许可。")
    _do(app, "ja-health-clerk", "deliver", "", handover="window")


def load(stdout: TextIO | None = None) -> None:
    from tongban.workflow import smart_demo

    _load_parallel(stdout)
    smart_demo.load(stdout)


def _load_parallel(stdout: TextIO | None = None) -> None:
    write = stdout.write if stdout is not None else (lambda s: None)
    from tongban.cases.demo import CITIZEN_USERNAME, _prepare
    from tongban.core.demo import department

    proc = definition()
    person = Person.objects.filter(user__username=CITIZEN_USERNAME).select_related("user").first()
    impl = (
        ItemImplementation.objects.filter(
            organisation__credit_code=department(COUNTY, "health").credit_code if proc else "",
            basic_item__name=ITEM,
            published_version__isnull=False,
        )
        .select_related("basic_item", "published_version")
        .first()
    )
    if proc is None or person is None or impl is None:
        write("审批流程：缺少演示区划、群众账号或事项，跳过。\n")
        return
    if impl.process_id != proc.pk:
        impl.process = proc
        impl.save(update_fields=["process"])
    made = []
    for key in CASES:
        with transaction.atomic():
            app = cases.start_application(
                implementation=impl, owner=person.user, person=person, idempotency_key=key
            )
            if app.status == Status.DRAFT:
                if _prepare(app, person.user):
                    write(f"审批流程：演示申请 {key} 材料不全，跳过。\n")
                    continue
                app = cases.submit(app, actor=person.user)
                app = cases.accept(app, clerk=_user("ja-health-clerk"))
                _run(app, key)
            app.refresh_from_db()
            made.append(f"{app.case_number}（{app.get_status_display()}）")
    write(
        f"审批流程：{impl.region.name}“{ITEM}”按“{proc.name}”办理，演示办件 {'、'.join(made)}；"
        "审批人员 ja-health-approver / ja-housing-approver / ja-market-approver，负责人 ja-health-head，"
        "窗口 ja-health-clerk。\n"
    )
