"""一件事一次办 rules at the service layer: merged form and materials, atomic fan-out, one-window
acceptance, completion with one result."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.bundles import factories as bf
from tests.cases import factories as cf
from tests.catalog.factories import department, liuan
from tongban.bundles import merge, services
from tongban.bundles.models import BundleCase, BundleMember, BundleStatus
from tongban.cases.models import (
    OPEN_STATUSES,
    Application,
    CaseEvent,
    CorrectionNotice,
    MaterialFile,
    Message,
    Status,
)

pytestmark = pytest.mark.django_db


def _draft(bundle=None, *, third: bool = True, agent: str = "no"):
    bundle = bundle or bf.bundle()
    person = cf.citizen()
    bc = services.start(bundle=bundle, owner=person.user, person=person)
    optional = [i.pk for i in bundle.items.filter(optional=True)] if third else []
    services.save_draft(bc, selected=optional, answers={"agent": agent}, form_data=bf.ENTERPRISE_FORM)
    bc.refresh_from_db()
    return bc


def _key(bc, name: str) -> str:
    return next(m.key for m in merge.merged_materials(merge.included_items(bc), bc.answers) if m.name == name)


def _ready(bc):
    for merged in merge.merged_materials(merge.included_items(bc), bc.answers):
        if merged.needs_upload:
            services.upload_material(bc, merged.key, cf.pdf(f"{merged.name}.pdf"), by=bc.owner)
    return bc


def _submitted(**kwargs):
    bc = _ready(_draft(**kwargs))
    return services.submit(bc, actor=bc.owner)


def test_merged_form_has_each_field_once_and_the_union_of_required_fields():
    bc = _draft()
    schema = merge.merged_schema(merge.included_items(bc))
    names = list(schema["properties"])
    assert len(names) == len(set(names))
    assert {"applicant_name", "applicant_id_number", "enterprise_credit_code"} <= set(names)
    assert {"applicant_name", "enterprise_name", "legal_representative"} <= set(schema["required"])
    # pre-filled once from the profile for all three items
    assert bc.form_data["applicant_name"] == "张小三"


def test_merged_materials_are_deduplicated_and_follow_the_selection_and_situations():
    bc = _draft(agent="yes")
    merged = {m.name: m for m in merge.merged_materials(merge.included_items(bc), bc.answers)}
    assert list(merged).count("授权委托书") == 1
    assert merged["授权委托书"].items == ["企业设立登记", "新办纳税人涉税信息确认", "单位住房公积金缴存登记"]
    assert merged["法定代表人身份证明"].items == ["新办纳税人涉税信息确认", "单位住房公积金缴存登记"]
    assert not merged["营业执照"].needs_upload  # 电子证照: the departments get it themselves
    assert not merged["单位住房公积金缴存登记表"].is_key

    services.save_draft(bc, selected=[], answers={"agent": "no"})
    bc.refresh_from_db()
    names = [m.name for m in merge.merged_materials(merge.included_items(bc), bc.answers)]
    assert "授权委托书" not in names and "单位住房公积金缴存登记表" not in names
    assert merge.merged_materials(merge.included_items(bc), bc.answers)[0].name == "公司登记（备案）申请书"


def test_unknown_question_option_or_item_is_refused_in_chinese():
    bc = _draft()
    with pytest.raises(ValidationError) as unknown:
        services.save_draft(bc, answers={"nonsense": "x"})
    assert unknown.value.code == "unknown-question" and "未知的情形问题" in unknown.value.messages[0]
    with pytest.raises(ValidationError) as option:
        services.save_draft(bc, answers={"agent": "maybe"})
    assert option.value.code == "unknown-option"
    with pytest.raises(ValidationError) as item:
        services.save_draft(bc, selected=[999999])
    assert item.value.code == "item-unknown"


def test_submit_creates_one_child_per_item_sharing_the_same_stored_file():
    bc = _ready(_draft(agent="yes"))
    shared = services.current_files(bc)[_key(bc, "授权委托书")]
    bc = services.submit(bc, actor=bc.owner)
    assert bc.status == BundleStatus.SUBMITTED and bc.reference.startswith("YJS341500")
    apps = services.children(bc)
    assert [a.implementation.basic_item.name for a in apps] == [
        "企业设立登记",
        "新办纳税人涉税信息确认",
        "单位住房公积金缴存登记",
    ]
    assert all(a.status == Status.SUBMITTED and a.owner_id == bc.owner_id for a in apps)
    copies = MaterialFile.objects.filter(material__name="授权委托书")
    assert copies.count() == 3
    assert {c.file.name for c in copies} == {shared.file.name}  # one stored file, no copied bytes
    assert {c.sha256 for c in copies} == {shared.sha256}
    # the child's form is its own part of the merged form
    tax = apps[1]
    assert "enterprise_name" not in tax.form_data and tax.form_data["applicant_name"] == "张小三"
    assert apps[0].form_data["enterprise_name"] == "六安测试茶业有限公司"
    assert all(a.answers == {"agent": "yes"} for a in apps)
    assert CaseEvent.objects.filter(action="bundle_submit").count() == 3


def test_submit_is_idempotent():
    bc = _submitted()
    again = services.submit(BundleCase.objects.get(pk=bc.pk), actor=bc.owner)
    assert again.reference == bc.reference
    assert Application.objects.count() == 3 and BundleMember.objects.count() == 3


def test_incomplete_bundle_is_not_submitted():
    bc = _draft()
    with pytest.raises(ValidationError) as missing:
        services.submit(bc, actor=bc.owner)
    assert missing.value.code == "application-incomplete"
    assert "请上传：公司登记（备案）申请书" in missing.value.messages[0]
    assert "单位住房公积金缴存登记表" not in missing.value.messages[0]  # non-key: may be missing
    assert not Application.objects.exists()


def test_a_failure_in_one_child_leaves_nothing_behind(monkeypatch):
    bc = _ready(_draft())
    real_submit = services.cases.submit
    calls = []

    def failing(app, **kwargs):
        calls.append(app.pk)
        if len(calls) == 3:
            raise ValidationError("模拟：第三个部门的办件提交失败。", code="simulated")
        return real_submit(app, **kwargs)

    monkeypatch.setattr(services.cases, "submit", failing)
    with pytest.raises(ValidationError):
        services.submit(bc, actor=bc.owner)
    assert len(calls) == 3
    bc.refresh_from_db()
    assert bc.status == BundleStatus.DRAFT and bc.reference is None
    assert not Application.objects.exists()
    assert not MaterialFile.objects.exists() and not BundleMember.objects.exists()
    assert not CaseEvent.objects.exists() and not Message.objects.exists()


def _lead_clerk(bc):
    return cf.clerk(bc.lead_department, region=liuan()["city"])


def test_one_window_clerk_accepts_every_child_in_one_action():
    bc = _submitted()
    clerk = _lead_clerk(bc)
    assert list(services.queue(clerk)) == [bc]
    bc = services.accept_all(bc, clerk=clerk)
    assert bc.status == BundleStatus.IN_PROGRESS and bc.accepted_by == clerk
    apps = services.children(bc)
    # children of the tax bureau and the housing-fund centre too: 一窗受理 for every department
    assert {a.department.short_name for a in apps} == {"市场监管", "税务", "公积金"}
    for app in apps:
        assert app.case_number and app.case_number.startswith(app.implementation.code)
        assert app.status in OPEN_STATUSES and app.accepted_by == clerk
        assert (
            app.events.filter(action="accept").exists() and app.events.filter(action="bundle_accept").exists()
        )
    assert list(services.queue(clerk)) == []
    with pytest.raises(ValidationError) as twice:
        services.accept_all(bc, clerk=clerk)
    assert twice.value.code == "invalid-transition"


def test_clerk_outside_the_region_or_lead_department_cannot_accept():
    bc = _submitted()
    county_clerk = cf.clerk(department(liuan()["jinan"]))
    tax_clerk = cf.clerk(department(liuan()["city"], "税务", "税务局"))
    for clerk in (county_clerk, tax_clerk):
        assert list(services.queue(clerk)) == []
        with pytest.raises(PermissionDenied):
            services.accept_all(bc, clerk=clerk)
    citizen = cf.citizen()
    with pytest.raises(PermissionDenied):
        services.accept_all(bc, clerk=citizen.user)
    assert all(a.status == Status.SUBMITTED and a.case_number is None for a in services.children(bc))
    bc.refresh_from_db()
    assert bc.status == BundleStatus.SUBMITTED


def test_a_child_already_accepted_by_its_department_is_left_as_it_is():
    bc = _submitted()
    tax_app = services.children(bc)[1]
    tax_clerk = cf.clerk(tax_app.department)
    services.cases.accept(tax_app, clerk=tax_clerk)
    services.accept_all(bc, clerk=_lead_clerk(bc))
    tax_app.refresh_from_db()
    assert tax_app.accepted_by == tax_clerk
    assert all(a.case_number for a in services.children(bc))


def test_bundle_completes_only_when_every_child_is_completed_with_one_result(
    django_capture_on_commit_callbacks,
):
    bc = _submitted()
    services.accept_all(bc, clerk=_lead_clerk(bc))
    apps = services.children(bc)
    before = Message.objects.filter(title__startswith="一件事").count()
    bf.complete(apps[0])
    bf.complete(apps[1])
    bc.refresh_from_db()
    assert bc.status == BundleStatus.IN_PROGRESS and not bc.result_file
    with django_capture_on_commit_callbacks(execute=True):
        bf.complete(apps[2])
    bc.refresh_from_db()
    assert bc.status == BundleStatus.COMPLETED and bc.completed_at
    assert bc.result_file.read().startswith(b"%PDF") and bc.result_number.endswith(f"{bc.reference}号")
    assert Message.objects.filter(title__startswith="一件事").count() == before + 1
    assert CaseEvent.objects.filter(action="bundle_complete").count() == 3
    from tongban.workflow.models import ResultDocument

    doc = ResultDocument.objects.get(kind=ResultDocument.Kind.BUNDLE)
    assert (
        doc.application == apps[0] and doc.file.name == bc.result_file.name and doc.sha256 == bc.result_sha256
    )


def test_a_refused_child_makes_the_bundle_partly_refused():
    bc = _submitted(third=False)
    services.accept_all(bc, clerk=_lead_clerk(bc))
    first, second = services.children(bc)
    bf.complete(first)
    bf.complete(second, refused=True)
    bc.refresh_from_db()
    assert bc.status == BundleStatus.PARTLY_REFUSED and bc.result_file


def test_combined_correction_notice_reaches_the_children_concerned_and_resubmission_fans_out():
    bc = _submitted()
    clerk = _lead_clerk(bc)
    key = _key(bc, "法定代表人身份证明")
    notice = services.request_corrections(
        bc, clerk=clerk, items=[{"material": key, "problem": "身份证明已过期"}], note="请一次性补正"
    )
    assert notice.round == 1 and notice.items[0]["material_name"] == "法定代表人身份证明"
    bc.refresh_from_db()
    assert bc.status == BundleStatus.CORRECTION_REQUESTED
    setup, tax, fund = services.children(bc)
    assert setup.status == Status.SUBMITTED  # not concerned
    assert tax.status == fund.status == Status.CORRECTION_REQUESTED
    assert CorrectionNotice.objects.count() == 2
    with pytest.raises(ValidationError):
        services.accept_all(bc, clerk=clerk)

    new = services.upload_material(bc, key, cf.pdf("新身份证明.pdf"), by=bc.owner)
    for app in (tax, fund):
        assert app.files.get(material__name="法定代表人身份证明", superseded=False).file.name == new.file.name
    bc = services.resubmit(bc, actor=bc.owner)
    assert bc.status == BundleStatus.SUBMITTED and bc.round == 2
    assert all(a.status == Status.SUBMITTED for a in services.children(bc))
    services.accept_all(bc, clerk=clerk)
    assert all(a.case_number for a in services.children(bc))


def test_correction_notice_must_list_problems():
    bc = _submitted()
    with pytest.raises(ValidationError) as empty:
        services.request_corrections(bc, clerk=_lead_clerk(bc), items=[])
    assert empty.value.code == "correction-items-missing"


def test_bundle_completes_even_when_departments_accepted_their_children_themselves():
    bc = _submitted(third=False)
    for app in services.children(bc):
        services.cases.accept(app, clerk=cf.clerk(app.department))
    for app in services.children(bc):
        bf.complete(app)
    bc.refresh_from_db()
    assert bc.status == BundleStatus.COMPLETED and bc.result_file
