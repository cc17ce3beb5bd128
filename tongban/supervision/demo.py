"""Demo supervision data: 督办单 (one open, one answered) and a complaint on the workflow demo
cases of 王小明 (金安区 公共场所卫生许可), alerts from one scan, summarised statistics. Idempotent.

Supervisor ``la-supervisor`` (冯监察, 六安市) sees every department of the city; department head
``ja-health-head`` (陈主任, 金安区卫健) answers the 督办单 in the supervision workbench.
"""

from __future__ import annotations

import datetime as dt
from typing import TextIO

from django.contrib.auth import get_user_model
from django.utils import timezone

from tongban.cases.models import Application
from tongban.supervision import services, stats
from tongban.supervision.models import Complaint, SupervisionNotice

OPEN_NOTICE = "住建部门消防核验环节尚未办理，请说明进度，并确保在法定期限内办结。"
ANSWERED_NOTICE = "暂停计时已超过5个工作日，请说明检测进度和预计恢复计时日期。"
ANSWER = "已催告第三方检测机构，检测报告预计3个工作日内出具，出具当日恢复计时。"
COMPLAINT = "申请提交后一直显示并联审查中，打电话询问也说不清楚在哪个环节，希望尽快办理。"


def _case(key: str) -> Application | None:
    from tongban.cases.demo import CITIZEN_USERNAME

    return (
        Application.objects.filter(owner__username=CITIZEN_USERNAME, idempotency_key=key)
        .select_related("region", "implementation__basic_item")
        .first()
    )


def load(stdout: TextIO | None = None) -> None:
    write = stdout.write if stdout is not None else (lambda s: None)
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=["la-supervisor", "ja-health-head"])
    }
    supervisor, head = users.get("la-supervisor"), users.get("ja-health-head")
    at_join, paused = _case("demo-hygiene-at-join"), _case("demo-hygiene-paused")
    if supervisor is None or head is None or at_join is None or paused is None:
        write("电子监察：缺少演示工作人员或审批演示办件，跳过。\n")
        return
    if not SupervisionNotice.objects.filter(application=at_join, requirement=OPEN_NOTICE).exists():
        services.issue_notice(at_join, supervisor=supervisor, requirement=OPEN_NOTICE)
    answered = SupervisionNotice.objects.filter(application=paused, requirement=ANSWERED_NOTICE).first()
    if answered is None:
        answered = services.issue_notice(paused, supervisor=supervisor, requirement=ANSWERED_NOTICE)
    if answered.responded_at is None:
        services.respond_notice(answered, user=head, response=ANSWER)
    if not Complaint.objects.filter(application=at_join, content=COMPLAINT).exists():
        services.register_complaint(
            content=COMPLAINT,
            contact_name="王小明",
            application=at_join,
            complainant=at_join.owner,
        )
    alerts = services.scan_alerts()
    today = timezone.localdate()
    stats.refresh_days(today - dt.timedelta(days=90), today - dt.timedelta(days=1))
    write(
        f"电子监察：督办单 2 份（{at_join.reference} 待回复，{paused.reference} 已回复），投诉 1 件，"
        f"本次新预警 {alerts} 条；监察人员 la-supervisor，部门负责人 ja-health-head 回复督办单。"
        "页面 /supervision/，大屏 /supervision/screen/，群众投诉 /supervision/complain/。\n"
    )
