"""审批流程 — process definitions as data, and the tasks, pauses and extensions of running cases.

A ``ProcessDefinition`` is what an implementation-list entry points to; its ``ProcessVersion``
rows hold the graph (see ``graph.py`` for the node format and the validation rules). A case pins
the version that was published when it was accepted (``Application.process_version``), so
editing a definition never changes a running case.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ProcessDefinition(models.Model):
    """审批流程 — a named process; its versions hold the steps."""

    key = models.SlugField("流程标识", max_length=60, unique=True)
    name = models.CharField("流程名称", max_length=100)
    # Empty for the built-in default process every region uses.
    region = models.ForeignKey(
        "core.Region",
        verbose_name="所属区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "core.Organisation",
        verbose_name="牵头部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "审批流程"
        verbose_name_plural = "审批流程"
        ordering = ["key"]
        permissions = [("manage_process", "可编辑、发布审批流程")]

    def __str__(self) -> str:
        return self.name

    @property
    def published(self) -> ProcessVersion | None:
        return self.versions.filter(status=ProcessVersion.State.PUBLISHED).order_by("-number").first()


class ProcessVersion(models.Model):
    """流程版本 — the graph of one version; published versions are never edited."""

    class State(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"
        RETIRED = "retired", "已停用"

    definition = models.ForeignKey(ProcessDefinition, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    status = models.CharField("状态", max_length=10, choices=State.choices, default=State.DRAFT)
    graph = models.JSONField("流程图", default=dict)
    note = models.CharField("修订说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    class Meta:
        verbose_name = "流程版本"
        verbose_name_plural = "流程版本"
        ordering = ["definition_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "number"], name="workflow_version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.definition.name} v{self.number}"


class TaskStatus(models.TextChoices):
    OPEN = "open", "待签收"
    CLAIMED = "claimed", "办理中"
    DONE = "done", "已办结"
    CANCELLED = "cancelled", "已取消"


class Outcome(models.TextChoices):
    APPROVE = "approve", "同意"
    REFUSE = "refuse", "不同意"
    RETURN = "return", "退回"


class Task(models.Model):
    """审批环节任务 — one step of one case for one department.

    ``due_date`` is the step's own deadline (its share of the limit, counted in working days from
    the day after it opened); pauses move it. ``region``/``department`` are copied so the data
    scope and the queue are one indexed WHERE clause.
    """

    application = models.ForeignKey("cases.Application", on_delete=models.CASCADE, related_name="tasks")
    node_key = models.CharField("环节标识", max_length=60)
    name = models.CharField("环节名称", max_length=60)
    stage = models.CharField("环节类别", max_length=12)
    role = models.CharField("办理角色", max_length=24)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "core.Organisation", verbose_name="办理部门", on_delete=models.PROTECT, related_name="+"
    )
    split_key = models.CharField("所属并联环节", max_length=60, blank=True)
    status = models.CharField("状态", max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="承办人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="workflow_tasks",
    )
    share = models.PositiveSmallIntegerField("时限占比（%）", default=0)
    limit_days = models.PositiveSmallIntegerField("环节时限（工作日）", default=0)
    opened_on = models.DateField("开始日期")
    due_date = models.DateField("环节期限", null=True, blank=True)
    green_channel = models.BooleanField("绿色通道", default=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    claimed_at = models.DateTimeField("签收时间", null=True, blank=True)
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)
    outcome = models.CharField("办理结果", max_length=8, choices=Outcome.choices, blank=True)
    opinion = models.TextField("办理意见", blank=True)
    return_to = models.CharField("退回至环节", max_length=60, blank=True)

    class Meta:
        verbose_name = "审批任务"
        verbose_name_plural = "审批任务"
        ordering = ["-green_channel", "due_date", "id"]
        indexes = [
            models.Index(fields=["department", "status", "due_date"], name="workflow_task_queue"),
            models.Index(fields=["status", "due_date"], name="workflow_task_due"),
        ]
        permissions = [("handle_task", "可签收、办理审批任务")]

    def __str__(self) -> str:
        return f"{self.application} {self.name}"

    @property
    def is_open(self) -> bool:
        return self.status in (TaskStatus.OPEN, TaskStatus.CLAIMED)


class PauseKind(models.TextChoices):
    """Clock stoppers: 《行政许可法》第四十五条 特别程序, and 补正/挂起 during review."""

    HEARING = "hearing", "听证"
    TENDER = "tender", "招标"
    AUCTION = "auction", "拍卖"
    INSPECTION = "inspection", "检验"
    TESTING = "testing", "检测"
    QUARANTINE = "quarantine", "检疫"
    APPRAISAL = "appraisal", "鉴定"
    EXPERT_REVIEW = "expert_review", "专家评审"
    CORRECTION = "correction", "审查中补正"
    SUSPENSION = "suspension", "挂起"


SPECIAL_PROCEDURES = {
    PauseKind.HEARING,
    PauseKind.TENDER,
    PauseKind.AUCTION,
    PauseKind.INSPECTION,
    PauseKind.TESTING,
    PauseKind.QUARANTINE,
    PauseKind.APPRAISAL,
    PauseKind.EXPERT_REVIEW,
}


class Pause(models.Model):
    """暂停计时 — the time between ``started_on`` and ``ended_on`` is not counted (Art. 45)."""

    application = models.ForeignKey("cases.Application", on_delete=models.CASCADE, related_name="pauses")
    kind = models.CharField("类别", max_length=16, choices=PauseKind.choices)
    reason = models.TextField("理由")
    started_on = models.DateField("开始日期")
    expected_end = models.DateField("预计结束日期", null=True, blank=True)
    ended_on = models.DateField("结束日期", null=True, blank=True)
    working_days = models.PositiveSmallIntegerField("不计时工作日", default=0)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notice = models.FileField("书面告知书", upload_to="workflow/pauses/%Y/%m/", blank=True)

    class Meta:
        verbose_name = "暂停计时"
        verbose_name_plural = "暂停计时"
        ordering = ["application_id", "started_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_on}"


class Extension(models.Model):
    """延期 — requested by the handling staff, approved by the department head (Art. 42)."""

    class State(models.TextChoices):
        REQUESTED = "requested", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "未批准"

    application = models.ForeignKey("cases.Application", on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField("延长工作日")
    reason = models.TextField("理由")
    status = models.CharField("状态", max_length=10, choices=State.choices, default=State.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=200, blank=True)

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        ordering = ["application_id", "requested_at"]

    def __str__(self) -> str:
        return f"延期 {self.days} 个工作日"


class ResultDocument(models.Model):
    """办理结果 — the decision document (准予许可决定书/证照草稿/不予许可决定书) as a PDF."""

    class Kind(models.TextChoices):
        APPROVAL = "approval", "准予许可决定书"
        LICENCE = "licence", "证照（草稿）"
        REFUSAL = "refusal", "不予许可决定书"
        BUNDLE = "bundle", "一件事办理结果告知书"

    application = models.ForeignKey("cases.Application", on_delete=models.CASCADE, related_name="results")
    kind = models.CharField("类别", max_length=10, choices=Kind.choices)
    number = models.CharField("文号", max_length=60)
    file = models.FileField("文件", upload_to="workflow/results/%Y/%m/")
    sha256 = models.CharField("SHA-256", max_length=64)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    handed_over_at = models.DateTimeField("送达时间", null=True, blank=True)
    handover_method = models.CharField("送达方式", max_length=16, blank=True)
    handover_reference = models.CharField("送达凭证（运单号等）", max_length=60, blank=True)

    class Meta:
        verbose_name = "办理结果"
        verbose_name_plural = "办理结果"
        ordering = ["application_id", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class SmartRule(models.Model):
    """智慧审批规则 — when every condition holds, the case is accepted and approved automatically.

    ``conditions`` is a list of ``{"source": "form"|"shared", "field": .., "op": .., "value": ..}``
    (see ``smart.py``). Anything no rule covers goes to a person.
    """

    implementation = models.ForeignKey(
        "catalog.ItemImplementation", on_delete=models.CASCADE, related_name="smart_rules"
    )
    name = models.CharField("规则名称", max_length=100)
    conditions = models.JSONField("条件", default=list)
    is_active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "智慧审批规则"
        verbose_name_plural = "智慧审批规则"
        ordering = ["implementation_id", "id"]

    def __str__(self) -> str:
        return self.name
