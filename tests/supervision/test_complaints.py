"""Complaints: portal form (Chinese validation), routing, assignment, answer within the limit, close."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.catalog.factories import login_staff
from tests.supervision import factories as f
from tongban.cases.models import Message
from tongban.core.workdays import add_working_days
from tongban.supervision import services
from tongban.supervision.models import Complaint, ComplaintStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    w = f.world()
    w["person"] = f.cf.citizen("赵六")
    w["app"] = f.case(w["item_market"], deadline=dt.date(2026, 12, 1), owner=w["person"].user)
    w["window"] = f.cf.window(w["regions"]["jinan"], "7")
    w["supervisor"] = f.staff(w["market"], ["supervisor"])
    w["head"] = f.staff(w["market"], ["department_head"])
    w["approver"] = f.staff(w["market"], ["approver"])
    return w


def test_citizen_complains_about_own_case_and_gets_an_answer(w, django_capture_on_commit_callbacks):
    citizen = Client()
    citizen.force_login(w["person"].user)
    page = citizen.get("/supervision/complain/").content.decode()
    assert "网上投诉" in page and w["app"].reference in page
    # validation in Chinese
    r = citizen.post(
        "/supervision/complain/", {"about": "application", "content": "太慢", "contact_name": ""}
    )
    body = r.content.decode()
    assert "请选择要投诉的办件。" in body and "不少于10个字" in body and "请填写联系人。" in body
    r = citizen.post(
        "/supervision/complain/",
        {
            "about": "application",
            "application": w["app"].pk,
            "content": "提交材料后两周没有任何进展，电话也无人接听。",
            "contact_name": "赵六",
            "contact_phone": "1380000",
        },
    )
    assert "请填写正确的11位手机号码。" in r.content.decode()
    r = citizen.post(
        "/supervision/complain/",
        {
            "about": "application",
            "application": w["app"].pk,
            "content": "提交材料后两周没有任何进展，电话也无人接听。",
            "contact_name": "赵六",
            "contact_phone": "13812345678",
        },
    )
    assert r.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.status == ComplaintStatus.ASSIGNED and complaint.assigned_department == w["market"]
    assert complaint.due_date == add_working_days(timezone.localdate(), 5).date
    assert complaint.masked_phone == "138****5678"
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT contact_phone FROM supervision_complaint")
        assert "13812345678" not in cursor.fetchone()[0]
    assert Message.objects.filter(recipient=w["head"], title="投诉交办").exists()

    head = Client()
    login_staff(head, w["head"])
    assert complaint.number in head.get("/supervision/complaints/").content.decode()
    detail = head.get(f"/supervision/complaints/{complaint.pk}/").content.decode()
    assert "138****5678" in detail and "13812345678" not in detail
    head.post(f"/supervision/complaints/{complaint.pk}/", {"action": "assign", "assignee": w["approver"].pk})
    complaint.refresh_from_db()
    assert complaint.assignee == w["approver"]

    approver = Client()
    login_staff(approver, w["approver"])
    with django_capture_on_commit_callbacks(execute=True):
        approver.post(
            f"/supervision/complaints/{complaint.pk}/", {"action": "answer", "answer": "已核实，今日办结。"}
        )
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ANSWERED and not complaint.is_late()
    reply = Message.objects.get(recipient=w["person"].user, title="投诉答复")
    assert reply.sms_status == Message.SmsStatus.SENT
    assert "已核实" in citizen.get("/supervision/complain/mine/").content.decode()

    sup = Client()
    login_staff(sup, w["supervisor"])
    sup.post(f"/supervision/complaints/{complaint.pk}/", {"action": "close"})
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CLOSED


def test_window_complaint_waits_for_a_supervisor_to_route_it(w):
    complaint = services.register_complaint(
        content="三号窗口中午提前半小时停止受理。",
        contact_name="钱七",
        window=w["window"],
        complainant=w["person"].user,
    )
    assert complaint.status == ComplaintStatus.REGISTERED and complaint.assigned_department is None
    # not yet visible to the department; visible to the supervisor of the region
    from tongban.supervision import access

    assert not access.complaints_for(w["head"]).exists()
    assert access.complaints_for(w["supervisor"]).filter(pk=complaint.pk).exists()
    with pytest.raises(PermissionDenied):
        services.assign_complaint(complaint, actor=w["head"], department=w["market"])
    services.assign_complaint(complaint, actor=w["supervisor"], department=w["market"])
    assert access.complaints_for(w["head"]).filter(pk=complaint.pk).exists()
    # overdue: a query on the due date
    assert complaint.is_late(complaint.due_date + dt.timedelta(days=1))


def test_cannot_complain_about_someone_elses_case(w):
    other = f.cf.citizen("孙八")
    with pytest.raises(PermissionDenied):
        services.register_complaint(
            content="这个办件办理太慢了，请督促。",
            contact_name="孙八",
            application=w["app"],
            complainant=other.user,
        )
    c = Client()
    c.force_login(other.user)
    r = c.post(
        "/api/supervision/complaints",
        {"case_id": w["app"].pk, "content": "这个办件办理太慢了，请督促。", "contact_name": "孙八"},
        "application/json",
    )
    assert r.status_code == 404


def test_api_flow(w):
    c = Client()
    c.force_login(w["person"].user)
    r = c.post(
        "/api/supervision/complaints",
        {"window_id": w["window"].pk, "content": "窗口人员玩手机，不理睬群众。", "contact_name": "赵六"},
        "application/json",
    )
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    sup = Client()
    login_staff(sup, w["supervisor"])
    r = sup.post(
        f"/api/supervision/complaints/{pk}/assign", {"department_id": w["market"].pk}, "application/json"
    )
    assert r.json()["status"] == "assigned"
    head = Client()
    login_staff(head, w["head"])
    r = head.post(f"/api/supervision/complaints/{pk}/answer", {"answer": "已批评教育。"}, "application/json")
    assert r.status_code == 200 and r.json()["status"] == "answered"
    r = head.post(f"/api/supervision/complaints/{pk}/close", {}, "application/json")
    assert r.status_code == 403 and r.json()["message"] == "只有电子监察人员可以办结投诉。"
    assert (
        sup.post(f"/api/supervision/complaints/{pk}/close", {}, "application/json").json()["status"]
        == "closed"
    )


def test_overdue_complaint_is_reminded_once(w):
    w["head"].staff_profile.phone = "13900001111"
    w["head"].staff_profile.save()
    complaint = services.register_complaint(
        content="提交材料后两周没有任何进展，电话也无人接听。",
        contact_name="赵六",
        application=w["app"],
        complainant=w["person"].user,
    )
    services.assign_complaint(complaint, actor=w["head"], assignee=w["approver"])
    answered = services.register_complaint(
        content="窗口人员态度生硬，解释不清楚。请核实。",
        contact_name="赵六",
        application=w["app"],
        complainant=w["person"].user,
    )
    services.answer_complaint(answered, actor=w["head"], answer="已核实并批评教育窗口人员，向您致歉。")
    Message.objects.all().delete()
    # on the due date itself nothing is late yet
    assert services.scan_overdue_complaints(complaint.due_date) == 0
    day_after = complaint.due_date + dt.timedelta(days=1)
    assert services.scan_overdue_complaints(day_after) == 1
    assert services.scan_overdue_complaints(day_after) == 0  # once, not every run
    told = {m.recipient_id: m for m in Message.objects.filter(title="投诉逾期")}
    assert set(told) == {w["approver"].pk, w["head"].pk, w["supervisor"].pk}
    assert complaint.number in told[w["approver"].pk].body and "请立即答复" in told[w["head"].pk].body
    assert told[w["head"].pk].sms_phone == "13900001111"  # handlers by SMS too
    assert told[w["supervisor"].pk].sms_phone == ""  # supervisors in the workbench only
    complaint.refresh_from_db()
    assert complaint.overdue_notified_at is not None
