"""Staff of one department never see another department's cases: every view, export and API."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.test import Client
from django.utils import timezone

from tests.catalog.factories import login_staff
from tests.supervision import factories as f
from tongban.cases.models import Channel, Status
from tongban.supervision import services

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def m(db):
    w = f.world()
    out = {"w": w}
    for key, org, item in (("market", w["market"], w["item_market"]), ("data", w["data"], w["item_data"])):
        head = f.staff(org, ["department_head"], username=f"head-{key}")
        open_case = f.case(
            item, deadline=TODAY - dt.timedelta(days=3), received=TODAY - dt.timedelta(days=20)
        )
        f.task(open_case, due=TODAY - dt.timedelta(days=1), name=f"审查-{key}")
        f.case(
            item,
            status=Status.COMPLETED,
            received=TODAY,
            completed_at=timezone.now(),
            accepted_at=timezone.now(),
            handling_working_days=0,
            on_time=True,
            channel=Channel.WINDOW,
        )
        applicant = f.cf.citizen()
        open_case.owner = applicant.user
        open_case.save()
        complaint = services.register_complaint(
            content="窗口工作人员态度差，多次让我补材料",
            contact_name="王五",
            contact_phone="13800000000",
            application=open_case,
            complainant=applicant.user,
        )
        out[key] = {"head": head, "case": open_case, "org": org, "complaint": complaint}
    supervisor = f.staff(w["market"], ["supervisor"], username="sup")
    out["notice_market"] = services.issue_notice(
        out["market"]["case"], supervisor=supervisor, requirement="说明原因"
    )
    out["notice_data"] = services.issue_notice(
        out["data"]["case"], supervisor=supervisor, requirement="说明原因"
    )
    return out


def _client(user) -> Client:
    c = Client()
    login_staff(c, user)
    return c


def _xlsx_text(content: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content))
    return " ".join(str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None)


@pytest.mark.parametrize("me,other", [("market", "data"), ("data", "market")])
def test_department_head_sees_only_own_department(m, me, other):
    mine, theirs = m[me], m[other]
    c = _client(mine["head"])
    ref, other_ref = mine["case"].reference, theirs["case"].reference
    name, other_name = mine["org"].name, theirs["org"].name
    start = (TODAY - dt.timedelta(days=40)).isoformat()
    period = f"start={start}&end={TODAY.isoformat()}"
    pages = {
        "/supervision/": (name, other_name),
        "/supervision/cases/?status=all": (ref, other_ref),
        "/supervision/cases/?format=csv&status=all": (ref, other_ref),
        "/supervision/tasks/": (f"审查-{me}", f"审查-{other}"),
        "/supervision/notices/": (ref, other_ref),
        "/supervision/complaints/": (mine["complaint"].number, theirs["complaint"].number),
        f"/supervision/stats/?{period}": (name, other_name),
        f"/supervision/stats/?{period}&format=csv": (name, other_name),
        "/supervision/screen/data.json": (name, other_name),
        "/api/supervision/cases?status=all": (ref, other_ref),
        "/api/supervision/tasks": (f"审查-{me}", f"审查-{other}"),
        f"/api/supervision/statistics?{period}": (name, other_name),
        "/api/supervision/notices": (ref, other_ref),
        "/api/supervision/complaints": (mine["complaint"].number, theirs["complaint"].number),
        "/api/supervision/screen": (name, other_name),
    }
    for url, (present, absent) in pages.items():
        r = c.get(url)
        assert r.status_code == 200, url
        body = r.content.decode("utf-8-sig")
        if r["Content-Type"].startswith("application/json"):
            body = json.dumps(r.json(), ensure_ascii=False)
        assert present in body, url
        assert absent not in body, url
    xlsx = _xlsx_text(c.get(f"/supervision/stats/?{period}&format=xlsx").content)
    assert name in xlsx and other_name not in xlsx
    # the other department's objects answer 404 everywhere
    for url in (
        f"/supervision/cases/{theirs['case'].pk}/",
        f"/supervision/notices/{m['notice_' + other].pk}/",
        f"/supervision/complaints/{theirs['complaint'].pk}/",
        f"/api/supervision/cases/{theirs['case'].pk}",
    ):
        assert c.get(url).status_code == 404, url
    r = c.post(
        f"/api/supervision/notices/{m['notice_' + other].pk}/response", {"response": "x"}, "application/json"
    )
    assert r.status_code == 404
    assert r.json()["message"] == "督办单不存在"
    r = c.post(
        f"/api/supervision/complaints/{theirs['complaint'].pk}/answer", {"answer": "x"}, "application/json"
    )
    assert r.status_code == 404
    # own objects open
    assert c.get(f"/supervision/cases/{mine['case'].pk}/").status_code == 200
    assert c.get(f"/api/supervision/cases/{mine['case'].pk}").json()["reference"] == ref


def test_supervisor_sees_both_departments_but_not_another_county(m):
    w = m["w"]
    c = _client(m["notice_market"].issued_by)
    body = c.get("/supervision/cases/").content.decode()
    assert m["market"]["case"].reference in body and m["data"]["case"].reference in body
    yuan_case = f.case(w["item_yuan"], deadline=TODAY)
    assert yuan_case.reference not in c.get("/supervision/cases/").content.decode()
    assert c.get(f"/supervision/cases/{yuan_case.pk}/").status_code == 404


def test_staff_without_supervision_role_are_refused(m):
    clerk = f.staff(m["w"]["market"], ["window_clerk"])
    c = _client(clerk)
    for url in ("/supervision/", "/supervision/cases/", "/supervision/stats/", "/supervision/screen/"):
        assert c.get(url).status_code == 403, url
    r = c.get("/api/supervision/cases")
    assert r.status_code == 403 and r.json()["message"] == "您没有电子监察权限。"
    assert c.get("/api/supervision/statistics?start=2026-01-01&end=2026-01-31").status_code == 403
    # the clerk is department staff: complaints of the department are visible, alerts are personal
    assert c.get("/supervision/complaints/").status_code == 200
    assert c.get("/supervision/alerts/").status_code == 200
    citizen = Client()
    citizen.force_login(m["market"]["case"].owner)
    assert citizen.get("/supervision/").status_code == 403
    assert citizen.get("/api/supervision/cases").status_code == 403
    assert citizen.get("/api/supervision/complaints").status_code == 403
