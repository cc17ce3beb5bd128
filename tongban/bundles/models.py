"""一件事一次办 — bundled services: several catalogue items applied for with one form, one set of
materials and one window, handled by each department in parallel, with one result.

A ``BundleCase`` is the applicant's bundle application. While it is a draft it holds the merged
form, the situation answers and the merged material files itself; on submission it becomes one
``cases.Application`` per included item (``BundleMember``), created and submitted through
``tongban.cases.services`` in one transaction. Status machine (services.py is the only place that
changes it)::

    draft ─submit→ submitted ─accept_all→ in_progress ─(every child 办结)→ completed | partly_refused
    submitted ─request_corrections→ correction_requested ─resubmit→ submitted
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tongban.cases.models import EncryptedJSONField, StoredUpload
from tongban.catalog.models import EnterpriseStage, LifeEvent


class Bundle(models.Model):
    """一件事 — a published combination of catalogue items in one region."""

    code = models.SlugField("标识", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    region = models.ForeignKey(
        "core.Region", verbose_name="实施区划", on_delete=models.PROTECT, related_name="+"
    )
    life_event = models.CharField("个人生命周期主题", max_length=20, choices=LifeEvent.choices, blank=True)
    enterprise_stage = models.CharField(
        "企业生命周期阶段", max_length=20, choices=EnterpriseStage.choices, blank=True
    )
    description = models.TextField("说明")
    lead_department = models.ForeignKey(
        "core.Organisation",
        verbose_name="牵头部门（一窗受理）",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="其综合窗口人员受理整件并一次性告知补正。",
    )
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "一件事"
        verbose_name_plural = "一件事"
        ordering = ["region__path", "code"]

    def __str__(self) -> str:
        return self.name


class BundleItem(models.Model):
    """一件事包含的事项. An optional item is included only when the applicant ticks its box on the
    bundle form (e.g. 证照同销: only the permits the enterprise actually holds)."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="items")
    implementation = models.ForeignKey(
        "catalog.ItemImplementation", verbose_name="实施清单事项", on_delete=models.PROTECT, related_name="+"
    )
    order = models.PositiveSmallIntegerField("序号", default=0)
    optional = models.BooleanField("按申请人选择办理", default=False)
    option_label = models.CharField(
        "选择项说明", max_length=100, blank=True, help_text="如：本企业持有食品经营许可证"
    )

    class Meta:
        verbose_name = "一件事包含事项"
        verbose_name_plural = "一件事包含事项"
        ordering = ["bundle_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bundle", "implementation"], name="bundles_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.bundle.name}：{self.implementation.basic_item.name}"


class BundleStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交待受理"
    CORRECTION_REQUESTED = "correction_requested", "待补正"
    IN_PROGRESS = "in_progress", "各部门并联办理中"
    COMPLETED = "completed", "已办结"
    PARTLY_REFUSED = "partly_refused", "已办结（部分不予许可）"


class BundleCase(models.Model):
    """一件事申请 — one applicant's application for one bundle."""

    bundle = models.ForeignKey(Bundle, verbose_name="一件事", on_delete=models.PROTECT, related_name="cases")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人账号",
        on_delete=models.PROTECT,
        related_name="bundle_cases",
    )
    applicant_person = models.ForeignKey(
        "accounts.Person", verbose_name="申请人（自然人）", null=True, blank=True, on_delete=models.PROTECT
    )
    applicant_enterprise = models.ForeignKey(
        "accounts.Enterprise", verbose_name="申请人（法人）", null=True, blank=True, on_delete=models.PROTECT
    )
    applicant_name = models.CharField("申请人名称", max_length=120)
    # Copied from the bundle so the data-scope filter is one WHERE clause (scope_for).
    region = models.ForeignKey(
        "core.Region", verbose_name="实施区划", on_delete=models.PROTECT, related_name="+"
    )
    lead_department = models.ForeignKey(
        "core.Organisation", verbose_name="牵头部门", on_delete=models.PROTECT, related_name="+"
    )
    selected = models.JSONField(
        "选择办理的事项", default=list, blank=True, help_text="可选事项的 BundleItem id"
    )
    answers = models.JSONField("情形选择", default=dict, blank=True)
    form_data = EncryptedJSONField("合并申请表（密文）", default=dict, blank=True)
    idempotency_key = models.CharField("幂等键", max_length=64, blank=True)
    status = models.CharField("状态", max_length=24, choices=BundleStatus.choices, default=BundleStatus.DRAFT)
    round = models.PositiveSmallIntegerField("提交轮次", default=0)
    reference = models.CharField("一件事编号", max_length=40, unique=True, null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="受理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)
    result_number = models.CharField("结果告知书文号", max_length=80, blank=True)
    result_file = models.FileField("一件事办理结果告知书", upload_to="bundles/results/%Y/%m/", blank=True)
    result_sha256 = models.CharField("结果 SHA-256", max_length=64, blank=True)

    class Meta:
        verbose_name = "一件事申请"
        verbose_name_plural = "一件事申请"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="bundles_case_idempotency",
            )
        ]
        indexes = [models.Index(fields=["status", "submitted_at"])]

    def __str__(self) -> str:
        return self.display_reference

    @property
    def display_reference(self) -> str:
        return self.reference or f"YJS-草稿-{self.pk}"


class BundleFile(StoredUpload):
    """One merged material of a bundle draft: submitted once, attached to every child that needs it
    (the child's MaterialFile points at this same stored file — no bytes are copied)."""

    bundle_case = models.ForeignKey(BundleCase, on_delete=models.CASCADE, related_name="files")
    key = models.CharField("合并材料标识", max_length=20)
    name = models.CharField("材料名称", max_length=200)
    file = models.FileField("文件", upload_to="bundles/materials/%Y/%m/", blank=True)

    class Meta:
        verbose_name = "一件事材料"
        verbose_name_plural = "一件事材料"
        ordering = ["bundle_case_id", "id"]

    def __str__(self) -> str:
        return self.original_name or self.name


class BundleMember(models.Model):
    """One child application of a bundle case."""

    bundle_case = models.ForeignKey(BundleCase, on_delete=models.CASCADE, related_name="members")
    item = models.ForeignKey(BundleItem, on_delete=models.PROTECT, related_name="+")
    application = models.OneToOneField(
        "cases.Application", on_delete=models.PROTECT, related_name="bundle_member"
    )

    class Meta:
        verbose_name = "一件事子办件"
        verbose_name_plural = "一件事子办件"
        ordering = ["bundle_case_id", "item__order", "id"]

    def __str__(self) -> str:
        return f"{self.bundle_case} → {self.application}"


class BundleCorrection(models.Model):
    """一次性补正告知 for the whole bundle: one notice listing every problem, fanned out to the
    children it concerns (each gets its own cases.CorrectionNotice)."""

    bundle_case = models.ForeignKey(BundleCase, on_delete=models.CASCADE, related_name="corrections")
    round = models.PositiveSmallIntegerField("提交轮次")
    items = models.JSONField("补正事项", default=list)
    note = models.TextField("说明", blank=True)
    issued_at = models.DateTimeField("告知时间", auto_now_add=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField("补正提交时间", null=True, blank=True)

    class Meta:
        verbose_name = "一件事补正告知"
        verbose_name_plural = "一件事补正告知"
        ordering = ["bundle_case_id", "round"]
        constraints = [
            models.UniqueConstraint(fields=["bundle_case", "round"], name="bundles_one_notice_per_round")
        ]

    def __str__(self) -> str:
        return f"补正告知 {self.bundle_case_id}/{self.round}"
