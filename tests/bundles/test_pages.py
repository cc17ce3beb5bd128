"""一件事 pages: public list and guide, the four-step apply flow, the case page, the clerk's queue."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model

from tests.bundles import factories as bf
from tests.bundles.test_services import _submitted
from tests.cases import factories as cf
from tests.catalog.factories import login_staff
from tongban.bundles import merge
from tongban.bundles.models import BundleCase, BundleStatus
from tongban.cases.models import Status

pytestmark = pytest.mark.django_db


def test_list_and_guide_pages(client):
    bundle = bf.bundle()
    index = client.get("/bundles/").content.decode()
    assert "企业开办" in index and f"/bundles/{bundle.code}/" in index
    guide = client.get(f"/bundles/{bundle.code}/").content.decode()
    for text in (
        "企业设立登记",
        "六安市税务局",
        "法定代表人身份证明",
        "零跑动",
        "按需（需要开立公积金账户）",
    ):
        assert text in guide
    assert guide.count("<strong>授权委托书</strong>") == 1
    assert "<script>" not in guide and "style=" not in guide  # strict CSP: no inline JS/CSS


def test_apply_in_four_steps_and_follow_each_child(client):
    bundle = bf.bundle()
    person = cf.citizen()
    client.force_login(person.user)
    start = client.post(f"/bundles/{bundle.code}/apply/", {"idempotency_key": "p-1"})
    bc = BundleCase.objects.get()
    assert start.url == f"/bundles/c/{bc.pk}/items/"
    fund_item = bundle.items.get(optional=True)
    choose = client.get(start.url).content.decode()
    assert "需要开立公积金账户" in choose and "是否委托他人办理" in choose
    resp = client.post(start.url, {"item": [str(fund_item.pk)], "agent": "yes"})
    assert resp.url == f"/bundles/c/{bc.pk}/form/"
    form = client.get(resp.url).content.decode()
    assert form.count('name="applicant_name"') == 1 and 'value="张小三"' in form
    post = {name: value for name, value in bf.ENTERPRISE_FORM.items()}
    post.update(applicant_name="张小三", applicant_id_number=person.id_number, applicant_mobile=person.phone)
    assert client.post(resp.url, post).url == f"/bundles/c/{bc.pk}/materials/"
    bc.refresh_from_db()
    page = client.get(f"/bundles/c/{bc.pk}/materials/").content.decode()
    assert page.count("选择“授权委托书”文件") == 1
    for merged in merge.merged_materials(merge.included_items(bc), bc.answers):
        if merged.needs_upload:
            client.post(f"/bundles/c/{bc.pk}/materials/{merged.key}/", {"file": cf.pdf()})
    check = client.get(f"/bundles/c/{bc.pk}/check/").content.decode()
    assert "还不能提交" not in check and "确认提交" in check
    assert person.id_number not in check  # masked on the check page
    done = client.post(f"/bundles/c/{bc.pk}/check/")
    assert done.url == f"/bundles/c/{bc.pk}/"
    detail = client.get(done.url).content.decode()
    bc.refresh_from_db()
    assert bc.status == BundleStatus.SUBMITTED and bc.reference in detail
    assert detail.count("已提交待预审") == 3
    mine = client.get("/bundles/mine/").content.decode()
    assert bc.reference in mine


def test_incomplete_submission_is_reported_on_the_page(client):
    bundle = bf.bundle()
    person = cf.citizen()
    client.force_login(person.user)
    client.post(f"/bundles/{bundle.code}/apply/")
    bc = BundleCase.objects.get()
    check = client.get(f"/bundles/c/{bc.pk}/check/").content.decode()
    assert "还不能提交" in check and "请回答：是否委托他人办理" in check
    resp = client.post(f"/bundles/c/{bc.pk}/check/", HTTP_REFERER=f"/bundles/c/{bc.pk}/check/")
    assert resp.status_code == 302
    bc.refresh_from_db()
    assert bc.status == BundleStatus.DRAFT


def test_clerk_queue_and_accept_all_page(client):
    bc = _submitted()
    clerk = cf.clerk(bc.lead_department)
    login_staff(client, clerk)
    queue = client.get("/bundles/workbench/").content.decode()
    assert bc.reference in queue
    review = client.get(f"/bundles/workbench/{bc.pk}/").content.decode()
    assert "一次受理全部事项" in review and "单位住房公积金缴存登记" in review
    client.post(f"/bundles/workbench/{bc.pk}/", {"action": "accept"})
    bc.refresh_from_db()
    assert bc.status == BundleStatus.IN_PROGRESS
    assert all(m.application.status != Status.SUBMITTED for m in bc.members.all())
    client.logout()
    client.force_login(bc.owner)
    detail = client.get(f"/bundles/c/{bc.pk}/").content.decode()
    assert all(m.application.case_number in detail for m in bc.members.all())


def test_other_people_cannot_open_a_bundle_case(client):
    bc = _submitted()
    client.force_login(cf.citizen().user)
    assert client.get(f"/bundles/c/{bc.pk}/").status_code == 404
    assert client.get(f"/bundles/c/{bc.pk}/check/").status_code == 404


def test_demo_loads_both_bundles_twice(client):
    from tongban.accounts import demo as accounts_demo
    from tongban.bundles import demo
    from tongban.cases import demo as cases_demo
    from tongban.catalog import demo as catalog_demo
    from tongban.core import demo as core_demo

    core_demo.load(None)
    accounts_demo.load(io.StringIO())
    catalog_demo.load(None, counties=[])
    cases_demo.load(io.StringIO())
    out = io.StringIO()
    demo.load(out)
    assert "企业开办、证照同销" in out.getvalue(), out.getvalue()
    counts = (BundleCase.objects.count(), sum(bc.members.count() for bc in BundleCase.objects.all()))
    demo.load(io.StringIO())
    assert (BundleCase.objects.count(), sum(bc.members.count() for bc in BundleCase.objects.all())) == counts
    kaiban = BundleCase.objects.get(bundle__code="qiye-kaiban")
    tongxiao = BundleCase.objects.get(bundle__code="zhengzhao-tongxiao")
    assert kaiban.status == BundleStatus.SUBMITTED and kaiban.members.count() == 5
    assert tongxiao.status == BundleStatus.COMPLETED and tongxiao.members.count() == 3
    assert tongxiao.result_file and all(
        m.application.status == Status.COMPLETED for m in tongxiao.members.all()
    )
    assert (
        get_user_model()
        .objects.filter(username__in=["la-tax-head", "la-police-head", "la-fund-head"])
        .count()
        == 3
    )
    assert tongxiao.applicant_name == accounts_demo.ENTERPRISE[0]
    names = {m.application.implementation.basic_item.name for m in kaiban.members.all()}
    assert names == {
        "企业设立登记",
        "公章刻制备案",
        "新办纳税人涉税信息确认",
        "单位参保登记",
        "单位住房公积金缴存登记",
    }
    assert all(m.application.case_number for m in tongxiao.members.all())
    login_staff(client, get_user_model().objects.get(username="la-market-clerk"))
    assert kaiban.reference in client.get("/bundles/workbench/").content.decode()
    client.logout()
    client.force_login(tongxiao.owner)
    pdf = client.get(f"/bundles/c/{tongxiao.pk}/result.pdf")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_clerk_issues_one_combined_correction_notice_from_the_page(client):
    bc = _submitted()
    key = next(
        m.key
        for m in merge.merged_materials(merge.included_items(bc), bc.answers)
        if m.name == "法定代表人身份证明"
    )
    login_staff(client, cf.clerk(bc.lead_department))
    client.post(
        f"/bundles/workbench/{bc.pk}/",
        {"action": "correct", "material": [key], f"problem_{key}": "复印件不清晰", "note": "请一次补齐"},
    )
    bc.refresh_from_db()
    assert bc.status == BundleStatus.CORRECTION_REQUESTED
    client.logout()
    client.force_login(bc.owner)
    page = client.get(f"/bundles/c/{bc.pk}/materials/").content.decode()
    assert "补正告知" in page and "复印件不清晰" in page
    client.post(f"/bundles/c/{bc.pk}/materials/{key}/", {"file": cf.pdf("新.pdf")})
    client.post(f"/bundles/c/{bc.pk}/check/")
    bc.refresh_from_db()
    assert bc.status == BundleStatus.SUBMITTED and bc.round == 2
