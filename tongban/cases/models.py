"""办件受理 — applications from submission to acceptance (the front half of case handling).

Status machine (services.py is the only place that changes it)::

    draft ─submit→ submitted ─request_corrections→ correction_requested ─resubmit→ submitted
    submitted ─accept→ accepted | ─accept_with_gaps→ accepted_with_gaps | ─refuse→ refused
    submitted ─complete_on_the_spot→ completed (即办件)
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from tongban.accounts.crypto import EncryptedCharField, decrypt, encrypt


class EncryptedJSONField(models.TextField):
    """JSON document stored as one Fernet token (the identity app's field encryption).

    Used for the application form, which holds pre-filled ID numbers and phones: the raw row
    never contains them. Not searchable in SQL — nothing needs to query inside the form.
    """

    description = "Encrypted JSON"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return {} if value == "" else value
        if value.lstrip().startswith(("{", "[")):
            return json.loads(value)  # written before encryption (migration 0002 re-encrypts)
        return json.loads(decrypt(value))

    def to_python(self, value):
        if isinstance(value, str):
            return self.from_db_value(value, None, None)
        return value

    def get_prep_value(self, value):
        if value is None:
            return value
        return encrypt(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder, ensure_ascii=False)


class Channel(models.TextChoices):
    """申请渠道."""

    ONLINE = "online", "网上申请"
    WINDOW = "window", "窗口登记"
    HELPER = "helper", "帮办代办"
    MOBILE = "mobile", "移动端"


class Status(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交待预审"
    CORRECTION_REQUESTED = "correction_requested", "待补正"
    ACCEPTED = "accepted", "已受理"
    ACCEPTED_WITH_GAPS = "accepted_with_gaps", "容缺受理"
    REFUSED = "refused", "不予受理"
    IN_PROGRESS = "in_progress", "审批中"
    PAUSED = "paused", "暂停计时"
    DECIDED = "decided", "已决定待送达"
    COMPLETED = "completed", "已办结"


#: Accepted and not yet completed: the statutory clock runs (or is paused).
OPEN_STATUSES = (
    Status.ACCEPTED,
    Status.ACCEPTED_WITH_GAPS,
    Status.IN_PROGRESS,
    Status.PAUSED,
    Status.DECIDED,
)


class Decision(models.TextChoices):
    """审批决定."""

    APPROVED = "approved", "准予许可"
    REFUSED = "refused", "不予许可"


class Application(models.Model):
    """办件申请 — one application for one item, pinned to the guide version it was made under.

    ``received_date`` is the 收件日期 of the current submission round: the five-working-day
    window for a correction notice (《行政许可法》第三十二条) counts from it, and the statutory
    time limit counts from the day after it once accepted.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人账号",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    applicant_person = models.ForeignKey(
        "accounts.Person", verbose_name="申请人（自然人）", null=True, blank=True, on_delete=models.PROTECT
    )
    applicant_enterprise = models.ForeignKey(
        "accounts.Enterprise", verbose_name="申请人（法人）", null=True, blank=True, on_delete=models.PROTECT
    )
    applicant_name = models.CharField("申请人名称", max_length=120)
    applicant_id_index = models.CharField("证件号码索引", max_length=64, db_index=True, blank=True)
    applicant_id_number = EncryptedCharField("证件号码（密文）", blank=True)
    applicant_phone = EncryptedCharField("联系电话（密文）", blank=True)
    channel = models.CharField("申请渠道", max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人（窗口人员/帮办员）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    delegation = models.ForeignKey(
        "accounts.Delegation", verbose_name="代办授权", null=True, blank=True, on_delete=models.PROTECT
    )
    window = models.ForeignKey(
        "core.Window", verbose_name="登记窗口", null=True, blank=True, on_delete=models.SET_NULL
    )
    implementation = models.ForeignKey(
        "catalog.ItemImplementation",
        verbose_name="事项",
        on_delete=models.PROTECT,
        related_name="applications",
    )
    version = models.ForeignKey(
        "catalog.ItemVersion", verbose_name="办事指南版本", on_delete=models.PROTECT, related_name="+"
    )
    # Copied from the implementation so the data-scope filter is one indexed WHERE clause.
    region = models.ForeignKey(
        "core.Region", verbose_name="实施区划", on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "core.Organisation", verbose_name="实施主体", on_delete=models.PROTECT, related_name="+"
    )
    answers = models.JSONField("情形选择", default=dict, blank=True)
    form_data = EncryptedJSONField("申请表（密文）", default=dict, blank=True)
    idempotency_key = models.CharField("幂等键", max_length=64, blank=True)
    status = models.CharField("状态", max_length=24, choices=Status.choices, default=Status.DRAFT)
    round = models.PositiveSmallIntegerField("提交轮次", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    received_date = models.DateField("收件日期", null=True, blank=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="受理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deemed_accepted = models.BooleanField("视为受理（第三十二条）", default=False)
    case_number = models.CharField("办件编号", max_length=50, unique=True, null=True, blank=True)
    legal_limit_days = models.PositiveSmallIntegerField("法定时限（工作日）", null=True, blank=True)
    deadline = models.DateField("法定办结期限", null=True, blank=True)
    deadline_provisional = models.BooleanField("期限为暂定（节假日安排未公布）", default=False)
    gaps = models.JSONField("容缺材料", default=list, blank=True)
    gaps_due_date = models.DateField("容缺补齐期限", null=True, blank=True)
    refusal_reason = models.TextField("不予受理理由", blank=True)
    refusal_notice = models.FileField("不予受理决定书", upload_to="cases/notices/%Y/%m/", blank=True)
    decided_at = models.DateTimeField("预审决定时间", null=True, blank=True)
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)
    # --- back office (workflow app). The deadline above moves with pauses and extensions:
    # deadline = received_date + legal limit + extension_days + paused_working_days (working days).
    process_version = models.ForeignKey(
        "workflow.ProcessVersion",
        verbose_name="审批流程版本",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    promised_limit_days = models.PositiveSmallIntegerField("承诺时限（工作日）", null=True, blank=True)
    promised_deadline = models.DateField("承诺办结期限", null=True, blank=True)
    paused_on = models.DateField("暂停计时开始日", null=True, blank=True)
    paused_working_days = models.PositiveSmallIntegerField("累计暂停工作日", default=0)
    extension_days = models.PositiveSmallIntegerField("已批准延长工作日", default=0)
    green_channel = models.BooleanField("绿色通道（特事特办）", default=False)
    decision = models.CharField("审批决定", max_length=10, choices=Decision.choices, blank=True)
    decision_at = models.DateTimeField("决定时间", null=True, blank=True)
    smart_rule = models.ForeignKey(
        "workflow.SmartRule",
        verbose_name="智慧审批规则",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # --- recorded at 办结, so statistics are plain aggregates (supervision app).
    handling_working_days = models.PositiveSmallIntegerField("办理用时（工作日）", null=True, blank=True)
    on_time = models.BooleanField("按期办结", null=True, blank=True)
    visits = models.PositiveSmallIntegerField("跑动次数", default=0)

    class Meta:
        verbose_name = "办件申请"
        verbose_name_plural = "办件申请"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="cases_application_idempotency",
            )
        ]
        indexes = [
            models.Index(fields=["status", "received_date"]),
            models.Index(fields=["status", "deadline"], name="cases_app_status_deadline"),
            models.Index(fields=["department", "status", "deadline"], name="cases_app_dept_deadline"),
            models.Index(fields=["department", "received_date"], name="cases_app_dept_received"),
            # Supervision's daily summaries re-read the days that changed (docs/supervision.md).
            models.Index(fields=["completed_at"], name="cases_app_completed_at"),
            models.Index(fields=["accepted_at"], name="cases_app_accepted_at"),
            models.Index(fields=["decided_at"], name="cases_app_decided_at"),
            # Supervision's open-case lists sort by deadline: each light is one ordered range
            # scan of the open cases only (never a sort of every open case at 1M); the list's
            # filter columns are included so its bounded counts are index-only scans.
            models.Index(
                fields=["deadline", "id"],
                name="cases_app_open_deadline",
                condition=Q(status__in=OPEN_STATUSES),
                include=["status", "paused_on", "channel", "region", "department", "implementation"],
            ),
            # The pre-review queue, oldest receipt first: a page is an ordered range scan of the
            # department's queued cases only (at 1M cases the page read 2 145 queued rows to sort
            # them: 8.7 ms; now 0.5 ms).
            models.Index(
                fields=["department", "received_date", "id"],
                name="cases_app_queue",
                condition=Q(status__in=[Status.SUBMITTED, Status.CORRECTION_REQUESTED]),
                include=["region"],  # the page count's scope filter: an index-only scan
            ),
            # The few paused cases (green list: clock stopped before the deadline).
            models.Index(
                fields=["deadline", "id"],
                name="cases_app_paused_deadline",
                condition=Q(paused_on__isnull=False),
            ),
        ]
        permissions = [
            ("accept_application", "可受理、补正、不予受理办件"),
            ("register_application", "可在窗口登记办件"),
        ]

    def __str__(self) -> str:
        return self.case_number or f"申请 #{self.pk}"

    @property
    def reference(self) -> str:
        return self.case_number or f"SQ{self.pk:08d}"


class StoredUpload(models.Model):
    """What every stored upload records (checked type, size, SHA-256, who and when); the material
    files of applications and of bundles share it."""

    original_name = models.CharField("原文件名", max_length=200, blank=True)
    content_type = models.CharField("文件类型", max_length=60, blank=True)
    size = models.PositiveIntegerField("大小（字节）", default=0)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    by_commitment = models.BooleanField("告知承诺替代", default=False)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    superseded = models.BooleanField("已被替换", default=False)

    class Meta:
        abstract = True


class MaterialFile(StoredUpload):
    """申请材料文件 — one uploaded file (or a commitment 告知承诺) for one catalogue material."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="files")
    material = models.ForeignKey(
        "catalog.Material", verbose_name="材料", on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField("文件", upload_to="cases/materials/%Y/%m/", blank=True)

    class Meta:
        verbose_name = "申请材料文件"
        verbose_name_plural = "申请材料文件"
        ordering = ["application_id", "material__order", "id"]

    def __str__(self) -> str:
        return self.original_name or ("告知承诺" if self.by_commitment else "")


class CorrectionNotice(models.Model):
    """一次性补正告知书 — one notice per submission round listing every problem."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="notices")
    round = models.PositiveSmallIntegerField("提交轮次")
    items = models.JSONField("补正事项", default=list)
    note = models.TextField("说明", blank=True)
    issued_at = models.DateTimeField("告知时间", auto_now_add=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField("补正提交时间", null=True, blank=True)
    form_hash = models.CharField("告知时申请表摘要", max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = "补正告知"
        verbose_name_plural = "补正告知"
        ordering = ["application_id", "round"]
        constraints = [
            models.UniqueConstraint(fields=["application", "round"], name="cases_one_notice_per_round")
        ]

    def __str__(self) -> str:
        return f"补正告知 {self.application_id}/{self.round}"


EVENT_LABELS = {
    "create": "创建申请",
    "submit": "提交申请",
    "request_corrections": "一次性告知补正",
    "resubmit": "补正后重新提交",
    "accept": "受理",
    "deemed_accept": "依法视为受理",
    "accept_with_gaps": "容缺受理",
    "refuse": "不予受理",
    "complete_on_the_spot": "即办办结",
    # back office (workflow app)
    "process_started": "启动审批流程",
    "task_opened": "环节开始",
    "task_claimed": "签收任务",
    "task_released": "退回任务池",
    "task_completed": "环节办结",
    "task_returned": "退回",
    "task_cancelled": "环节取消",
    "pause": "暂停计时",
    "resume": "恢复计时",
    "extension_requested": "申请延期",
    "extension_approved": "批准延期",
    "extension_rejected": "不批准延期",
    "decide": "作出决定",
    "hand_over": "送达结果",
    "complete": "办结",
    "green_channel": "开通绿色通道",
    "smart_approval": "智慧审批",
    "smart_approval_declined": "转人工办理",
    "supervision_notice": "发出督办单",
    "supervision_response": "督办单书面回复",
    "bundle_submit": "一件事合并提交",
    "bundle_accept": "一件事一窗受理",
    "bundle_complete": "一件事全部办结",
}


class CaseEvent(models.Model):
    """办件过程记录 — every transition, who did it, for whom and why."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("动作", max_length=40)
    from_status = models.CharField("原状态", max_length=24, blank=True)
    to_status = models.CharField("新状态", max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField("说明", blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "办件过程记录"
        verbose_name_plural = "办件过程记录"
        ordering = ["application_id", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.action}"

    @property
    def action_label(self) -> str:
        return EVENT_LABELS.get(self.action, self.action)


class CaseNumberCounter(models.Model):
    """办件编号日序号 — one row per (item, day), incremented under a row lock: no gaps, no collisions."""

    implementation = models.ForeignKey(
        "catalog.ItemImplementation", on_delete=models.CASCADE, related_name="+"
    )
    date = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "办件编号计数"
        verbose_name_plural = "办件编号计数"
        constraints = [
            models.UniqueConstraint(fields=["implementation", "date"], name="cases_counter_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.implementation_id} {self.date} {self.last}"


class Message(models.Model):
    """站内信 — a message in the applicant's personal centre, and the SMS outbox (短信发件箱).

    The row is written in the state change's transaction; the SMS leaves after commit and, if the
    gateway is down, the periodic task ``retry_case_sms`` retries it with backoff, so no
    notification is lost. Walk-in applicants without an account get a row without recipient
    (SMS only).
    """

    class SmsStatus(models.TextChoices):
        NONE = "", "无需短信"
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="case_messages",
    )
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField("标题", max_length=100)
    body = models.TextField("内容")
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    sms_phone = EncryptedCharField("短信号码（密文）", blank=True)
    sms_status = models.CharField(
        "短信状态", max_length=8, choices=SmsStatus.choices, blank=True, default=SmsStatus.NONE
    )
    sms_attempts = models.PositiveSmallIntegerField("短信发送次数", default=0)
    sms_last_error = models.CharField("最近一次发送错误", max_length=300, blank=True)
    sms_next_attempt_at = models.DateTimeField("下次重试时间", null=True, blank=True)
    sms_sent_at = models.DateTimeField("短信发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内信"
        verbose_name_plural = "站内信"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sms_status", "sms_next_attempt_at"])]

    def __str__(self) -> str:
        return self.title
