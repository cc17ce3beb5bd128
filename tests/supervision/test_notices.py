"""督办单: a supervisor issues one on a case, the department head answers, the supervisor sees it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from tests.catalog.factories import login_staff
from tests.supervision import factories as f
from tongban.cases.models import CaseEvent, Message
from tongban.core.workdays import add_working_days
from tongban.supervision import services
from tongban.supervision.models import NoticeStatus, SupervisionNotice

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def w(db):
    w = f.world()
    w["supervisor"] = f.staff(w["market"], ["supervisor"], username="jiancha")
    w["head"] = f.staff(w["market"], ["department_head"], username="juzhang")
    w["other_head"] = f.staff(w["data"], ["department_head"], username="shuju")
    w["app"] = f.case(w["item_market"], deadline=dt.date(2026, 12, 1))
    return w


def test_issue_and_respond_through_the_pages(w):
    app = w["app"]
    sup = Client()
    login_staff(sup, w["supervisor"])
    page = sup.get(f"/supervision/cases/{app.pk}/").content.decode()
    assert "发出督办单" in page and "办理过程记录" in page
    r = sup.post(
        f"/supervision/cases/{app.pk}/", {"requirement": "说明超期原因并于三日内办结", "respond_by": ""}
    )
    assert r.status_code == 302
    notice = SupervisionNotice.objects.get()
    assert notice.department == w["market"]
    assert notice.respond_by == add_working_days(timezone.localdate(), 3).date
    assert notice.status == NoticeStatus.ISSUED
    event = CaseEvent.objects.get(application=app, action="supervision_notice")
    assert event.actor == w["supervisor"] and "超期原因" in event.reason
    assert Message.objects.filter(recipient=w["head"], title="督办通知").exists()
    assert not Message.objects.filter(recipient=w["other_head"]).exists()

    head = Client()
    login_staff(head, w["head"])
    assert "提交回复" in head.get(f"/supervision/notices/{notice.pk}/").content.decode()
    other = Client()
    login_staff(other, w["other_head"])
    assert other.get(f"/supervision/notices/{notice.pk}/").status_code == 404
    head.post(f"/supervision/notices/{notice.pk}/", {"response": "已补齐专家意见，今日办结。"})
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.RESPONDED and notice.responded_by == w["head"]
    assert CaseEvent.objects.filter(application=app, action="supervision_response").exists()
    # the supervisor sees the answer on the case page and in the list
    assert "已补齐专家意见" in sup.get(f"/supervision/cases/{app.pk}/").content.decode()
    assert "已回复" in sup.get("/supervision/notices/?status=responded").content.decode()
    # a second answer is refused
    r = head.post(f"/supervision/notices/{notice.pk}/", {"response": "再次回复"}, follow=True)
    assert "该督办单已回复" in r.content.decode()


def test_rules(w):
    app = w["app"]
    with pytest.raises(PermissionDenied):
        services.issue_notice(app, supervisor=w["head"], requirement="x")
    with pytest.raises(ValidationError) as exc:
        services.issue_notice(app, supervisor=w["supervisor"], requirement="  ")
    assert exc.value.code == "notice-requirement-required"
    with pytest.raises(ValidationError):
        services.issue_notice(
            app,
            supervisor=w["supervisor"],
            requirement="x",
            respond_by=timezone.localdate() - dt.timedelta(days=1),
        )
    notice = services.issue_notice(
        app, supervisor=w["supervisor"], requirement="请说明", respond_by=timezone.localdate()
    )
    with pytest.raises(PermissionDenied):
        services.respond_notice(notice, user=w["other_head"], response="x")
    with pytest.raises(PermissionDenied):
        services.respond_notice(notice, user=w["supervisor"], response="x")
    # overdue is a query on the date
    assert notice.status_on(timezone.localdate() + dt.timedelta(days=1)) == NoticeStatus.OVERDUE


def test_supervisor_of_another_county_cannot_issue(w):
    yuan_sup = f.staff(w["market_yuan"], ["supervisor"])
    with pytest.raises(PermissionDenied):
        services.issue_notice(w["app"], supervisor=yuan_sup, requirement="请说明")


def test_unanswered_notice_reminds_once(w):
    notice = services.issue_notice(
        w["app"], supervisor=w["supervisor"], requirement="请说明", respond_by=TODAY
    )
    assert services.scan_overdue_notices(today=TODAY) == 0  # due today: not yet overdue
    later = TODAY + dt.timedelta(days=1)
    assert services.scan_overdue_notices(today=later) == 1
    assert services.scan_overdue_notices(today=later) == 0
    assert Message.objects.filter(recipient=w["head"], title="督办逾期").count() == 1
    assert Message.objects.filter(recipient=w["supervisor"], title="督办逾期").count() == 1
    assert not Message.objects.filter(recipient=w["other_head"], title="督办逾期").exists()
    notice.refresh_from_db()
    assert notice.status_on(later) == NoticeStatus.OVERDUE
