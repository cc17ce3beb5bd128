"""Dashboard, statistics exports, big screen, alerts and 督办单 through the API."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone

from tests.catalog.factories import login_staff
from tests.supervision import factories as f
from tongban.cases.models import Status
from tongban.supervision import services
from tongban.supervision.models import Alert

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def w(db):
    w = f.world()
    w["supervisor"] = f.staff(w["market"], ["supervisor"])
    w["approver"] = f.staff(w["market"], ["approver"])
    w["head"] = f.staff(w["market"], ["department_head"])
    app = f.case(
        w["item_market"], deadline=TODAY - dt.timedelta(days=2), received=TODAY - dt.timedelta(days=30)
    )
    f.task(app, due=TODAY - dt.timedelta(days=1), assignee=w["approver"])
    f.case(
        w["item_market"],
        status=Status.COMPLETED,
        received=TODAY,
        accepted_at=timezone.now(),
        completed_at=timezone.now(),
        handling_working_days=3,
        on_time=True,
    )
    w["app"] = app
    return w


def _client(user):
    c = Client()
    login_staff(c, user)
    return c


def test_dashboard_and_statistics_pages(w):
    c = _client(w["supervisor"])
    page = c.get("/supervision/").content.decode()
    assert "电子监察总览" in page and 'data-chart="chart-lights"' in page and 'id="chart-lights"' in page
    assert "<script>" not in page  # options are JSON (type application/json), never inline code
    assert "vendor/echarts/echarts.min.js" in page
    assert '<a href="/supervision/">电子监察</a>' in page
    stats_page = c.get(
        f"/supervision/stats/?start={TODAY.replace(day=1)}&end={TODAY}&group_by=implementation"
    )
    assert "食品经营许可" in stats_page.content.decode()
    r = c.get(f"/supervision/stats/?start={TODAY.replace(day=1)}&end={TODAY}&format=csv")
    assert r["Content-Type"].startswith("text/csv") and r.content.startswith("\ufeff".encode())
    text = r.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("部门,收件,受理")
    assert "合计" in text
    r = c.get(f"/supervision/stats/?start={TODAY.replace(day=1)}&end={TODAY}&format=xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet["A2"].value == "部门" and sheet["B2"].value == "收件"
    assert sheet.cell(row=sheet.max_row, column=1).value == "合计"
    assert sheet.cell(row=sheet.max_row, column=5).value == 1  # 办结


def test_big_screen_refreshes_from_json(w):
    c = _client(w["supervisor"])
    page = c.get("/supervision/screen/").content.decode()
    assert 'data-source="/supervision/screen/data.json"' in page and "supervision/screen.js" in page
    data = c.get("/supervision/screen/data.json").json()
    assert data["lights"]["red"] == 1 and data["today_completed"] == 1
    assert c.get("/api/supervision/screen").json()["lights"]["red"] == 1


def test_alerts_listed_and_acknowledged(w):
    services.scan_alerts()
    c = _client(w["approver"])
    page = c.get("/supervision/alerts/").content.decode()
    assert "超期报警" in page and w["app"].reference in page
    assert "预警 1" in c.get("/accounts/workbench/").content.decode()  # the top bar of every workbench page
    alert = Alert.objects.get(recipient=w["approver"])
    r = c.get("/api/supervision/alerts").json()
    assert [a["id"] for a in r] == [alert.pk] and r[0]["level"] == "overdue"
    # someone else's alert: 404
    head_alert = Alert.objects.filter(recipient=w["head"]).first()
    assert c.post(f"/api/supervision/alerts/{head_alert.pk}/ack").status_code == 404
    c.post(f"/supervision/alerts/{alert.pk}/ack/")
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    assert c.get("/api/supervision/alerts").json() == []
    assert len(c.get("/api/supervision/alerts?unacknowledged=false").json()) == 1


def test_notice_through_the_api(w):
    sup = _client(w["supervisor"])
    r = sup.post(
        "/api/supervision/notices",
        {"case_id": w["app"].pk, "requirement": "请说明超期原因"},
        "application/json",
    )
    assert r.status_code == 201, r.content
    notice = r.json()
    assert notice["status"] == "issued"
    head = _client(w["head"])
    r = head.post(
        "/api/supervision/notices",
        {"case_id": w["app"].pk, "requirement": "x"},
        "application/json",
    )
    assert r.status_code == 403 and r.json()["message"] == "只有电子监察人员可以发出督办单。"
    r = head.post(
        f"/api/supervision/notices/{notice['id']}/response", {"response": "已办结"}, "application/json"
    )
    assert r.json()["status"] == "responded"
    r = head.post(
        f"/api/supervision/notices/{notice['id']}/response", {"response": "again"}, "application/json"
    )
    assert r.status_code == 422 and r.json()["code"] == "notice-already-responded"
    process = sup.get(f"/api/supervision/cases/{w['app'].pk}").json()
    assert [e["action"] for e in process["events"]] == ["supervision_notice", "supervision_response"]
    assert process["light"] == "red" and process["steps"][0]["light"] == "red"
    assert process["notices"][0]["response"] == "已办结"


def test_statistics_api_validates(w):
    c = _client(w["supervisor"])
    r = c.get("/api/supervision/statistics?start=2026-02-01&end=2026-01-01")
    assert r.status_code == 422 and r.json()["message"] == "结束日期不能早于开始日期。"
    r = c.get(f"/api/supervision/statistics?start={TODAY}&end={TODAY}&group_by=total")
    assert r.json()["total"]["completed"] == 1 and r.json()["total"]["average_days"] == 3


def test_admin_is_read_only(client, django_user_model, w):
    from tests.core.factories import login_superuser

    services.scan_alerts()
    services.issue_notice(w["app"], supervisor=w["supervisor"], requirement="请说明")
    login_superuser(client, django_user_model)
    for model in ("alert", "supervisionnotice", "complaint", "statday", "dailystat"):
        assert client.get(f"/admin/supervision/{model}/").status_code == 200, model
    assert client.get("/admin/supervision/alert/add/").status_code == 403
