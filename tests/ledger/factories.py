"""Builders for the ledger tests: cases taken through the real services."""

from __future__ import annotations

from tests.cases import factories as f
from tongban.cases import services


def accepted_case():
    """A case submitted online and accepted by a clerk (create → submit → accept)."""
    impl = f.item()
    person = f.citizen()
    clerk = f.clerk(impl.organisation)
    app = services.start_application(implementation=impl, owner=person.user, person=person)
    services.save_draft(app, answers={"agent": "no", "premises": "own"})
    services.upload_material(app, f.material(impl, "食品经营许可申请书").pk, f.pdf(), by=person.user)
    services.submit(app, actor=person.user)
    app = services.accept(app, clerk=clerk)
    return app, person, clerk


def submitted_case(impl=None):
    impl = impl or f.item()
    person = f.citizen()
    app = services.start_application(implementation=impl, owner=person.user, person=person)
    services.save_draft(app, answers={"agent": "no", "premises": "own"})
    services.upload_material(app, f.material(impl, "食品经营许可申请书").pk, f.pdf(), by=person.user)
    return services.submit(app, actor=person.user), person
