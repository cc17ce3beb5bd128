"""电子监察 — alerts, supervision notices (督办单), complaints and the statistics summary tables.

Lights are never stored: they are a query on the stored deadlines (``tongban.workflow.lights``).
What is stored here is what supervision *adds*: who was alerted about which threshold, the
notices supervisors issue and their answers, complaints, and per-day summaries that keep the
dashboard fast on millions of cases (docs/supervision.md, "Speed").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tongban.accounts.crypto import EncryptedCharField
from tongban.core.identifiers import mask_mobile


class AlertLevel(models.TextChoices):
    NEAR_DUE = "near_due", "临期预警（黄灯）"
    OVERDUE = "overdue", "超期报警（红灯）"


class Alert(models.Model):
    """预警 — one recipient told once that one deadline crossed one threshold.

    The key (task or case, level, recipient, due_date) makes the periodic scan idempotent: a run
    that finds the same yellow/red task again writes nothing. A deadline that moves (pause,
    extension) and crosses again is a new crossing and alerts again.
    """

    application = models.ForeignKey(
        "cases.Application", verbose_name="办件", on_delete=models.CASCADE, related_name="+"
    )
    task = models.ForeignKey(
        "workflow.Task",
        verbose_name="审批环节",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    level = models.CharField("级别", max_length=10, choices=AlertLevel.choices)
    due_date = models.DateField("期限")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE, related_name="+"
    )
    as_head = models.BooleanField("以部门负责人身份接收", default=False)
    message = models.ForeignKey(
        "cases.Message",
        verbose_name="站内信",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("预警时间", default=timezone.now)
    acknowledged_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        verbose_name = "预警"
        verbose_name_plural = "预警"
        ordering = ["acknowledged_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "level", "recipient", "due_date"],
                condition=Q(task__isnull=False),
                name="supervision_alert_once_per_task",
            ),
            models.UniqueConstraint(
                fields=["application", "level", "recipient", "due_date"],
                condition=Q(task__isnull=True),
                name="supervision_alert_once_per_case",
            ),
        ]
        indexes = [models.Index(fields=["recipient", "acknowledged_at"], name="supervision_alert_inbox")]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.application_id}"


class NoticeStatus(models.TextChoices):
    ISSUED = "issued", "待回复"
    OVERDUE = "overdue", "逾期未回复"
    RESPONDED = "responded", "已回复"


class SupervisionNotice(models.Model):
    """督办单 — a supervisor requires a department to answer in writing by a date.

    Status is a query: responded when ``responded_at`` is set, overdue when ``respond_by`` has
    passed without a response, otherwise issued.
    """

    application = models.ForeignKey(
        "cases.Application", verbose_name="办件", on_delete=models.PROTECT, related_name="supervision_notices"
    )
    department = models.ForeignKey(
        "core.Organisation", verbose_name="被督办部门", on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey("core.Region", verbose_name="区划", on_delete=models.PROTECT, related_name="+")
    requirement = models.TextField("督办要求")
    respond_by = models.DateField("回复期限")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="督办人", on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField("督办时间", default=timezone.now)
    response = models.TextField("书面回复", blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="回复人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    responded_at = models.DateTimeField("回复时间", null=True, blank=True)
    overdue_notified_at = models.DateTimeField("逾期提醒时间", null=True, blank=True)

    class Meta:
        verbose_name = "督办单"
        verbose_name_plural = "督办单"
        ordering = ["-issued_at"]
        indexes = [
            models.Index(fields=["department", "responded_at", "respond_by"], name="supervision_notice_dept")
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"督办〔{self.issued_at:%Y}〕{self.pk or 0}号"

    def status_on(self, today=None) -> str:
        if self.responded_at is not None:
            return NoticeStatus.RESPONDED
        today = today or timezone.localdate()
        return NoticeStatus.OVERDUE if self.respond_by < today else NoticeStatus.ISSUED

    @property
    def status(self) -> str:
        return self.status_on()

    @property
    def status_label(self) -> str:
        return NoticeStatus(self.status).label


class ComplaintSource(models.TextChoices):
    PORTAL = "portal", "网上投诉"
    HOTLINE = "hotline", "12345热线"
    RATING = "rating", "好差评差评"


class ComplaintStatus(models.TextChoices):
    REGISTERED = "registered", "已登记"
    ASSIGNED = "assigned", "已交办"
    ANSWERED = "answered", "已答复"
    CLOSED = "closed", "已办结"


class Complaint(models.Model):
    """投诉 — about a case or a window; registered, assigned, answered within a limit.

    ``region`` and ``assigned_department`` put it in the data scope: supervisors of the region
    see all, department staff only what is assigned to their department, the assignee theirs.
    The hotline and ratings modules create rows with their own ``source``.
    """

    source = models.CharField(
        "来源", max_length=10, choices=ComplaintSource.choices, default=ComplaintSource.PORTAL
    )
    application = models.ForeignKey(
        "cases.Application",
        verbose_name="所涉办件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    window = models.ForeignKey(
        "core.Window",
        verbose_name="所涉窗口",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey("core.Region", verbose_name="区划", on_delete=models.PROTECT, related_name="+")
    complainant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="投诉人账号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    contact_name = models.CharField("联系人", max_length=60)
    contact_phone = EncryptedCharField("联系电话（密文）", blank=True)
    content = models.TextField("投诉内容")
    status = models.CharField(
        "状态", max_length=10, choices=ComplaintStatus.choices, default=ComplaintStatus.REGISTERED
    )
    assigned_department = models.ForeignKey(
        "core.Organisation",
        verbose_name="承办部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="承办人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_on = models.DateField("登记日期")
    due_date = models.DateField("答复期限")
    answer = models.TextField("答复内容", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="答复人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    created_at = models.DateTimeField("登记时间", default=timezone.now)
    overdue_notified_at = models.DateTimeField("逾期提醒时间", null=True, blank=True)

    class Meta:
        verbose_name = "投诉"
        verbose_name_plural = "投诉"
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["assigned_department", "status", "due_date"], name="supervision_complaint_q"
            ),
            models.Index(fields=["status", "due_date"], name="supervision_complaint_due"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"TS{self.created_at:%Y%m%d}{self.pk or 0:05d}"

    @property
    def masked_phone(self) -> str:
        return mask_mobile(self.contact_phone) if self.contact_phone else ""

    @property
    def about(self) -> str:
        if self.application_id:
            return f"办件 {self.application.reference}"
        if self.window_id:
            return f"窗口 {self.window.hall.name} {self.window.number}号"
        return "—"

    def is_late(self, today=None) -> bool:
        today = today or timezone.localdate()
        if self.answered_at is not None:
            return timezone.localdate(self.answered_at) > self.due_date
        return self.due_date < today


class StatKey(models.Model):
    """Dimensions shared by the summary tables: one calendar day × region × department × item × channel."""

    day = models.DateField("日期")
    region = models.ForeignKey("core.Region", on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("core.Organisation", on_delete=models.CASCADE, related_name="+")
    implementation = models.ForeignKey(
        "catalog.ItemImplementation", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField("渠道", max_length=8)

    class Meta:
        abstract = True


class StatCounters(StatKey):
    """The counters of the summary tables (see ``stats.py`` for each definition); the handling-days
    histogram columns are added to each concrete table below."""

    received = models.PositiveIntegerField("收件", default=0)
    accepted = models.PositiveIntegerField("受理", default=0)
    refused = models.PositiveIntegerField("不予受理", default=0)
    corrected = models.PositiveIntegerField("经补正后决定", default=0)
    completed = models.PositiveIntegerField("办结", default=0)
    on_time = models.PositiveIntegerField("按期办结", default=0)
    late = models.PositiveIntegerField("超期办结", default=0)
    online_full = models.PositiveIntegerField("全程网办办结", default=0)
    one_visit = models.PositiveIntegerField("最多跑一次办结", default=0)
    handled = models.PositiveIntegerField("有办理用时的办结", default=0)
    handling_sum = models.PositiveIntegerField("办理用时合计（工作日）", default=0)
    # h0 … h60: completions that took exactly that many working days; h_over: more than 60
    # (added below). The histogram sums exactly across rows, so the 90th percentile of any
    # period and filter comes from one SUM query.

    class Meta:
        abstract = True


class DailyStat(StatCounters):
    """日统计 — counters of one day's events.

    Rebuilt per day from the applications (``stats.refresh_days``): by the periodic jobs for
    today (every 5 minutes) and the last days (hourly), by ``manage.py refresh_supervision_stats``
    for history. A period sums these rows instead of scanning hundreds of thousands of cases.
    """

    class Meta:
        verbose_name = "监察日统计"
        verbose_name_plural = "监察日统计"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "region", "department", "implementation", "channel"],
                name="supervision_daily_key",
            )
        ]
        indexes = [
            models.Index(fields=["day", "department"], name="supervision_daily_day_dept"),
            models.Index(fields=["department", "day"], name="supervision_daily_dept_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.department_id}/{self.implementation_id}/{self.channel}"


class MonthlyStat(StatCounters):
    """月统计 — the sum of a month's ``DailyStat`` rows per region × department × item × channel;
    ``day`` is the first of the month.

    Rebuilt from the daily rows in the same transaction whenever a day of the month is
    (``stats.refresh_days``). A quarter or "this month" reads a few thousand of these rows
    instead of tens of thousands of daily rows (at a million cases the daily SUM took ~110 ms).
    """

    class Meta:
        verbose_name = "监察月统计"
        verbose_name_plural = "监察月统计"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "region", "department", "implementation", "channel"],
                name="supervision_monthly_key",
            )
        ]
        indexes = [models.Index(fields=["day", "department"], name="supervision_monthly_day_dept")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m} {self.department_id}/{self.implementation_id}/{self.channel}"


#: Handling days counted one by one in the summary; longer ones share the ``h_over`` bucket.
HISTOGRAM_MAX = 60
HISTOGRAM_FIELDS = [f"h{i}" for i in range(HISTOGRAM_MAX + 1)] + ["h_over"]
for _model in (DailyStat, MonthlyStat):
    for _i in range(HISTOGRAM_MAX + 1):
        _model.add_to_class(f"h{_i}", models.PositiveIntegerField(f"用时{_i}个工作日", default=0))
    _model.add_to_class("h_over", models.PositiveIntegerField(f"用时超过{HISTOGRAM_MAX}个工作日", default=0))


class StatDay(models.Model):
    """A day whose summary rows are built (days without a row are computed from the cases)."""

    day = models.DateField("日期", unique=True)
    refreshed_at = models.DateTimeField("汇总时间", default=timezone.now)

    class Meta:
        verbose_name = "已汇总日期"
        verbose_name_plural = "已汇总日期"

    def __str__(self) -> str:
        return str(self.day)
