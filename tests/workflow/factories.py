"""Builders for back-office tests: a 施工许可-style item run by three departments in parallel."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from django.utils import timezone

from tests.accounts.helpers import make_staff
from tests.cases import factories as cf
from tests.catalog.factories import department, liuan
from tongban.cases import services as cases
from tongban.workflow import defaults
from tongban.workflow.models import ProcessDefinition, ProcessVersion

_serial = itertools.count(1)


def publish(definition: ProcessDefinition, graph: dict) -> ProcessVersion:
    number = (definition.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    definition.versions.filter(status=ProcessVersion.State.PUBLISHED).update(
        status=ProcessVersion.State.RETIRED
    )
    return ProcessVersion.objects.create(
        definition=definition,
        number=number,
        status=ProcessVersion.State.PUBLISHED,
        graph=graph,
        published_at=timezone.now(),
    )


def staff(org, role: str, name: str | None = None):
    return make_staff(username=name or f"{role}{next(_serial)}", department=org, roles=(role,))


@dataclass
class Parallel:
    impl: object
    housing: object
    planning: object
    hrss: object
    definition: ProcessDefinition

    def submitted(self, person=None):
        person = person or cf.citizen()
        app = cases.start_application(implementation=self.impl, owner=person.user, person=person)
        cases.save_draft(app, answers={"agent": "no", "premises": "own"})
        cases.upload_material(app, cf.material(self.impl, "食品经营许可申请书").pk, cf.pdf())
        return cases.submit(app)

    def accepted(self, clerk=None):
        clerk = clerk or staff(self.housing, "window_clerk")
        return cases.accept(self.submitted(), clerk=clerk)


def parallel_item(*, policy: str = "all") -> Parallel:
    """住建 implements; 自然资源和规划 and 人社 review in parallel with 住建's own review."""
    city = liuan()["city"]
    housing = department(city, "住建", "住房和城乡建设局")
    planning = department(city, "自然资源", "自然资源和规划局")
    hrss = department(city, "人社", "人力资源和社会保障局")
    impl = cf.item(housing, name="建筑工程施工许可证核发")
    definition = ProcessDefinition.objects.create(
        key=f"construction-{next(_serial)}", name="施工许可并联审批", region=city
    )
    publish(
        definition,
        defaults.parallel_graph(
            [
                ("self", "质量安全监督审查"),
                (planning.credit_code, "规划许可核验"),
                (hrss.credit_code, "工资保证金核验"),
            ],
            policy=policy,
        ),
    )
    impl.process = definition
    impl.save(update_fields=["process"])
    return Parallel(impl, housing, planning, hrss, definition)
