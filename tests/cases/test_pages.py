"""The pages: citizen online path, clerk review, window registration, helper for a villager."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.cases import factories as f
from tests.catalog.factories import department, liuan, login_staff
from tongban.accounts.delegation import SESSION_KEY
from tongban.accounts.models import Delegation
from tongban.cases.models import Application, Channel, Status

pytestmark = pytest.mark.django_db


def test_citizen_applies_online_and_follows_progress(client, django_user_model):
    impl = f.item()
    person = f.citizen()
    client.force_login(person.user)
    assert "开始申请" in client.get(f"/cases/apply/{impl.code}/").content.decode()
    r = client.post(f"/cases/apply/{impl.code}/", {"idempotency_key": "page-1"})
    app = Application.objects.get()
    assert r.url == f"/cases/a/{app.pk}/situations/"
    page = client.get(r.url).content.decode()
    assert "是否委托他人办理" in page
    r = client.post(r.url, {"agent": "no", "premises": "own"})
    client.get(r.url, follow=True)  # no form fields: straight on to materials
    page = client.get(f"/cases/a/{app.pk}/materials/").content.decode()
    assert "食品经营许可申请书" in page and "房屋租赁合同" not in page
    check = client.get(f"/cases/a/{app.pk}/check/").content.decode()
    assert "还不能提交" in check and "请上传：食品经营许可申请书" in check
    mid = f.material(impl, "食品经营许可申请书").pk
    client.post(f"/cases/a/{app.pk}/materials/{mid}/", {"file": f.pdf()})
    r = client.post(f"/cases/a/{app.pk}/check/")
    assert r.url == f"/cases/a/{app.pk}/"
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED

    clerk_client = type(client)()
    login_staff(clerk_client, f.clerk(impl.organisation))
    assert app.reference in clerk_client.get("/cases/workbench/").content.decode()
    clerk_client.post(
        f"/cases/workbench/{app.pk}/", {"action": "correct", "material": [mid], f"problem_{mid}": "缺少签名"}
    )
    detail = client.get(f"/cases/a/{app.pk}/").content.decode()
    assert "缺少签名" in detail and "去补正" in detail
    client.post(f"/cases/a/{app.pk}/materials/{mid}/", {"file": f.pdf("签名版.pdf")})
    client.post(f"/cases/a/{app.pk}/check/")
    clerk_client.post(f"/cases/workbench/{app.pk}/", {"action": "accept"})
    app.refresh_from_db()
    assert app.status == Status.IN_PROGRESS
    mine = client.get("/cases/mine/").content.decode()
    assert app.case_number in mine and "申请已受理" in mine
    progress = type(client)().post(  # anonymous: anyone holding the number and the ID
        "/cases/progress/", {"case_number": app.case_number, "id_number": person.id_number}
    )
    assert "审批中" in progress.content.decode() and "张小三" not in progress.content.decode()


def test_other_citizen_cannot_open_an_application(client):
    impl = f.item()
    owner = f.citizen()
    client.force_login(owner.user)
    client.post(f"/cases/apply/{impl.code}/")
    app = Application.objects.get()
    client.force_login(f.citizen("李四").user)
    assert client.get(f"/cases/a/{app.pk}/").status_code == 404
    assert client.get(f"/cases/a/{app.pk}/materials/").status_code == 404


def test_window_clerk_registers_walk_in_in_another_county(client):
    regions = liuan()
    impl = f.item(department(regions["yuan"]))
    clerk = f.clerk(department(regions["jinan"], "数据资源", "数据资源管理局"))
    counter = f.window(regions["jinan"], "3")
    f.window(regions["jinan"], "4")
    f.window(regions["yuan"], "1")  # another county's hall: not offered
    login_staff(client, clerk)
    page = client.get("/cases/workbench/register/").content.decode()
    assert "金安区政务服务中心 3" in page and "裕安区政务服务中心" not in page
    walk_in = {"item_code": impl.code, "name": "赵六", "id_number": f.resident_id(88), "phone": "13812340000"}
    client.post("/cases/workbench/register/", walk_in)  # two windows: the clerk must pick one
    assert not Application.objects.exists()
    r = client.post("/cases/workbench/register/", {**walk_in, "window": counter.pk})
    app = Application.objects.get()
    assert r.url == f"/cases/a/{app.pk}/situations/" and app.channel == Channel.WINDOW
    assert app.window == counter
    client.post(r.url, {"agent": "no", "premises": "own"})
    client.post(
        f"/cases/a/{app.pk}/materials/{f.material(impl, '食品经营许可申请书').pk}/",
        {"file": f.pdf("扫描.pdf")},
    )
    client.post(f"/cases/a/{app.pk}/check/")
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED and app.registered_by == clerk
    # The registering clerk is in 金安区: the 裕安区 department accepts, not them.
    assert client.post(f"/cases/workbench/{app.pk}/", {"action": "accept"}).status_code in (403, 404)


def test_village_helper_applies_for_villager_with_consent(client):
    impl = f.item()
    villager = f.citizen("王五")
    helper = f.clerk(impl.organisation, roles=("village_helper",))
    login_staff(client, helper)
    assert "没有有效的代办授权" in client.get("/cases/workbench/helper/").content.decode()
    delegation = Delegation.objects.create(
        helper=helper,
        citizen=villager,
        scopes=["apply"],
        valid_until=timezone.now() + dt.timedelta(days=3),
        consent_method=Delegation.Method.SMS,
        confirmed_at=timezone.now(),
    )
    session = client.session
    session[SESSION_KEY] = delegation.pk
    session.save()
    r = client.post("/cases/workbench/helper/", {"item_code": impl.code})
    app = Application.objects.get()
    assert app.channel == Channel.HELPER and app.owner == villager.user and app.delegation == delegation
    assert app.events.get(action="create").on_behalf_of == villager.user
    assert r.url == f"/cases/a/{app.pk}/situations/"


def test_enterprise_agent_applies_in_the_enterprise_name(client):
    from tongban.accounts.crypto import blind_index
    from tongban.accounts.models import Enterprise
    from tongban.accounts.services import switch_identity

    impl = f.item()
    rep = f.citizen("陈法人")
    enterprise = Enterprise.objects.create(
        name="示例商贸有限公司",
        credit_code="91341500MA2N000002",
        legal_rep_name="陈法人",
        legal_rep_id_index=blind_index(rep.id_number, "resident-id"),
    )
    switch_identity(rep, enterprise.pk)
    client.force_login(rep.user)
    assert "示例商贸有限公司" in client.get(f"/cases/apply/{impl.code}/").content.decode()
    client.post(f"/cases/apply/{impl.code}/")
    app = Application.objects.get()
    assert app.applicant_enterprise == enterprise and app.applicant_name == "示例商贸有限公司"


def test_pre_review_queue_pages_oldest_first(client):
    from tests.supervision.factories import case

    impl = f.item()
    first = dt.date(2026, 9, 1)
    apps = [
        case(impl, status=Status.SUBMITTED, received=first + dt.timedelta(days=i % 20)) for i in range(55)
    ]
    login_staff(client, f.clerk(impl.organisation))
    page1 = client.get("/cases/workbench/").content.decode()
    oldest = min(apps, key=lambda a: (a.received_date, a.pk))
    assert page1.count("/cases/workbench/") >= 50 and oldest.reference in page1
    assert "共 55 条，第 1/2 页" in page1 and 'rel="next"' in page1
    page2 = client.get("/cases/workbench/", {"page": 2}).content.decode()
    assert "第 2/2 页" in page2
    shown = [a for a in apps if f"/cases/workbench/{a.pk}/" in page2]
    assert len(shown) == 5
    assert client.get("/cases/workbench/", {"page": "x"}).status_code == 200  # bad page: the first
