from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class ItemVersion(models.Model):
    """事项版本 — every guide element (办事指南要素) of one implementation-list item at one moment.

    Workflow: draft (草稿) → in_review (待审核) → approved (审核通过) → published (已发布) →
    superseded (已替代). A rejected draft goes back to draft with the reviewer's comment. A
    published version is immutable: a change is a new draft copied from it.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        IN_REVIEW = "in_review", "待审核"
        APPROVED = "approved", "审核通过待发布"
        PUBLISHED = "published", "已发布"
        SUPERSEDED = "superseded", "历史版本"

    class HandlingKind(models.TextChoices):
        ON_THE_SPOT = "spot", "即办件"
        PROMISED = "promised", "承诺件"

    class OnlineDepth(models.IntegerChoices):
        INFORMATION = 1, "一级：信息发布（网上可查）"
        APPOINTMENT = 2, "二级：在线预约（网上可约）"
        PRE_REVIEW = 3, "三级：在线预审（网上可申请、预审）"
        FULLY_ONLINE = 4, "四级：全程网办"

    class Anywhere(models.TextChoices):
        NONE = "", "不支持通办"
        CITY = "city", "全市通办"
        PROVINCE = "province", "全省通办"
        NATIONAL = "national", "跨省通办"

    implementation = models.ForeignKey(
        "catalog.ItemImplementation",
        verbose_name="实施清单事项",
        on_delete=models.CASCADE,
        related_name="versions",
    )
    number = models.PositiveIntegerField("版本号")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.DRAFT)
    change_summary = models.CharField("变更说明", max_length=300, blank=True)

    # --- guide elements -------------------------------------------------------------------
    acceptance_conditions = models.TextField("受理条件", blank=True)
    handling_kind = models.CharField(
        "办件类型", max_length=8, choices=HandlingKind.choices, default=HandlingKind.PROMISED
    )
    legal_limit_days = models.PositiveSmallIntegerField("法定办结时限（工作日）", null=True, blank=True)
    legal_limit_note = models.CharField("法定时限说明", max_length=200, blank=True)
    promised_limit_days = models.PositiveSmallIntegerField(
        "承诺办结时限（工作日）", null=True, blank=True, help_text="即办件填 0"
    )
    special_procedures = models.TextField("特别程序", blank=True, help_text="如听证、检验、检测、专家评审")
    special_procedures_counted = models.BooleanField("特别程序时间计入办结时限", default=False)
    is_free = models.BooleanField("不收费", default=True)
    handling_forms = models.CharField(
        "办理形式", max_length=10, default="1,2", help_text="1 窗口 2 网上 3 快递，逗号分隔"
    )
    place = models.CharField("办理地点", max_length=300, blank=True)
    hall = models.ForeignKey(
        "core.ServiceHall",
        verbose_name="办理大厅",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    windows_note = models.CharField("办理窗口", max_length=200, blank=True)
    office_hours = models.CharField("办理时间", max_length=200, blank=True)
    consult_phone = models.CharField("咨询电话", max_length=60, blank=True)
    complaint_phone = models.CharField("监督投诉电话", max_length=60, blank=True)
    online_depth = models.PositiveSmallIntegerField(
        "网办深度", choices=OnlineDepth.choices, default=OnlineDepth.PRE_REVIEW
    )
    visits = models.PositiveSmallIntegerField("到办事现场次数", default=1)
    handle_anywhere = models.CharField(
        "通办范围", max_length=10, choices=Anywhere.choices, blank=True, default=""
    )
    appointment_supported = models.BooleanField("支持预约办理", default=True)
    delivery_supported = models.BooleanField("支持物流快递", default=False)
    online_payment_supported = models.BooleanField("支持网上支付", default=False)
    result_name = models.CharField("审批结果名称", max_length=200, blank=True)
    result_sample = models.CharField(
        "审批结果样本", max_length=300, blank=True, help_text="样本文件地址或说明"
    )
    result_is_licence = models.BooleanField("结果为电子证照", default=False)
    intermediary_services = models.TextField("中介服务", blank=True)
    form_field_sets = models.CharField(
        "申请表字段组", max_length=200, blank=True, help_text="字段组标识，空格分隔"
    )
    form_schema = models.JSONField("申请表专用字段 (JSON Schema)", default=dict, blank=True)

    # --- workflow record ------------------------------------------------------------------
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField("最后修改时间", auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="最后修改人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    change_requested_on = models.DateField("变更提出日期", null=True, blank=True)
    submitted_at = models.DateTimeField("提交审核时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    review_comment = models.CharField("审核意见", max_length=500, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发布人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    effective_from = models.DateField("生效日期", null=True, blank=True)
    scheduled_for = models.DateField(
        "定时发布日期",
        null=True,
        blank=True,
        help_text="审核通过后按生效日期自动发布；发布前门户显示将于该日起施行的提示",
    )
    publication_working_days = models.PositiveSmallIntegerField(
        "变更至发布用时（工作日）", null=True, blank=True
    )
    diff = models.JSONField("与上一发布版本的差异", default=list, blank=True, editable=False)

    class Meta:
        verbose_name = "事项版本"
        verbose_name_plural = "事项版本"
        ordering = ["implementation_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["implementation", "number"], name="catalog_version_unique_number"
            ),
        ]
        permissions = [
            ("review_itemversion", "审核事项版本"),
            ("publish_itemversion", "发布事项版本"),
        ]

    def __str__(self) -> str:
        return f"{self.implementation} v{self.number}（{self.get_status_display()}）"

    FROZEN = (Status.PUBLISHED, Status.SUPERSEDED)

    def save(self, *args, **kwargs):
        # A published version is immutable: only the published→superseded transition may touch it.
        if self.pk:
            stored = ItemVersion.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            update_fields = kwargs.get("update_fields")
            if stored in self.FROZEN and (update_fields is None or set(update_fields) - {"status"}):
                raise ValidationError("已发布的版本不可修改，请创建新的草稿版本", code="version-immutable")
        super().save(*args, **kwargs)

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_on_the_spot(self) -> bool:
        return self.handling_kind == self.HandlingKind.ON_THE_SPOT

    def handling_form_labels(self) -> list[str]:
        from tongban.catalog.codes import HandlingForm

        labels = dict(HandlingForm.choices)
        return [labels.get(c.strip(), c) for c in self.handling_forms.split(",") if c.strip()]


class _VersionChild(models.Model):
    """Rows that belong to one version and freeze with it."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.version.status in ItemVersion.FROZEN:
            raise ValidationError("已发布的版本不可修改，请创建新的草稿版本", code="version-immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.version.status in ItemVersion.FROZEN:
            raise ValidationError("已发布的版本不可修改，请创建新的草稿版本", code="version-immutable")
        return super().delete(*args, **kwargs)


class Material(_VersionChild):
    """申请材料 — one material the applicant provides (or that the department obtains itself)."""

    class Source(models.TextChoices):
        APPLICANT = "applicant", "申请人自备"
        DEPARTMENT = "department", "政府部门核发"
        LICENCE = "licence", "电子证照调用"
        SHARING = "sharing", "数据共享获取"

    class Medium(models.TextChoices):
        PAPER = "paper", "纸质"
        ELECTRONIC = "electronic", "电子"
        BOTH = "both", "纸质或电子"

    class Requirement(models.TextChoices):
        ALWAYS = "always", "必要"
        SITUATIONAL = "situational", "情形必要"

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="materials")
    order = models.PositiveSmallIntegerField("序号", default=0)
    name = models.CharField("材料名称", max_length=200)
    source = models.CharField("来源渠道", max_length=12, choices=Source.choices, default=Source.APPLICANT)
    source_note = models.CharField("来源说明", max_length=200, blank=True, help_text="如：由医院出具")
    originals = models.PositiveSmallIntegerField("原件份数", default=1)
    copies = models.PositiveSmallIntegerField("复印件份数", default=0)
    medium = models.CharField("材料形式", max_length=12, choices=Medium.choices, default=Medium.BOTH)
    requirement = models.CharField(
        "必要性", max_length=12, choices=Requirement.choices, default=Requirement.ALWAYS
    )
    applies_when = models.CharField(
        "适用情形",
        max_length=200,
        blank=True,
        help_text="情形必要时填写：问题标识=选项标识，多个用空格分隔（满足任一即需要）",
    )
    is_key = models.BooleanField("关键材料", default=True, help_text="非关键材料可容缺受理")
    blank_form = models.CharField("空白表格", max_length=300, blank=True)
    example = models.CharField("示例样本", max_length=300, blank=True)
    # Files to download from the guide; carried over to new versions with the other fields.
    blank_form_file = models.ForeignKey(
        "catalog.MaterialFile",
        verbose_name="空白表格文件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    example_file = models.ForeignKey(
        "catalog.MaterialFile",
        verbose_name="示例样本文件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    commitment_allowed = models.BooleanField("可告知承诺替代", default=False)
    is_proof = models.BooleanField("属于证明材料", default=False)
    proof = models.ForeignKey(
        "catalog.ProofEntry",
        verbose_name="证明清单条目",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="materials",
    )
    notes = models.CharField("填报须知", max_length=300, blank=True)

    class Meta:
        verbose_name = "申请材料"
        verbose_name_plural = "申请材料"
        ordering = ["version_id", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def condition_keys(self) -> list[str]:
        return self.applies_when.split()


class ProcessStep(_VersionChild):
    """办理流程环节."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField("序号", default=0)
    name = models.CharField("环节", max_length=60)
    description = models.CharField("办理说明", max_length=300, blank=True)
    days = models.DecimalField("时限（工作日）", max_digits=4, decimal_places=1, default=0)

    class Meta:
        verbose_name = "办理流程"
        verbose_name_plural = "办理流程"
        ordering = ["version_id", "order", "id"]

    def __str__(self) -> str:
        return self.name


class Fee(_VersionChild):
    """收费项目 — with its standard and legal basis."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="fees")
    name = models.CharField("收费项目", max_length=100)
    standard = models.CharField("收费标准", max_length=200)
    amount = models.DecimalField("金额（元）", max_digits=10, decimal_places=2, null=True, blank=True)
    basis = models.CharField("收费依据", max_length=300)

    class Meta:
        verbose_name = "收费项目"
        verbose_name_plural = "收费项目"
        ordering = ["version_id", "id"]

    def __str__(self) -> str:
        return self.name


class SituationQuestion(_VersionChild):
    """情形问题 — e.g. "是否委托他人办理"."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField("标识", max_length=30)
    order = models.PositiveSmallIntegerField("序号", default=0)
    text = models.CharField("问题", max_length=200)

    class Meta:
        verbose_name = "情形问题"
        verbose_name_plural = "情形问题"
        ordering = ["version_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="catalog_question_unique_key")]

    def __str__(self) -> str:
        return self.text


class SituationOption(models.Model):
    """情形选项 — an answer; selecting it brings in the materials whose ``applies_when`` names it,
    and may add conditions or visits."""

    question = models.ForeignKey(SituationQuestion, on_delete=models.CASCADE, related_name="options")
    key = models.SlugField("标识", max_length=30)
    order = models.PositiveSmallIntegerField("序号", default=0)
    label = models.CharField("选项", max_length=100)
    condition_text = models.CharField("附加受理条件", max_length=300, blank=True)
    extra_visits = models.PositiveSmallIntegerField("增加跑动次数", default=0)

    class Meta:
        verbose_name = "情形选项"
        verbose_name_plural = "情形选项"
        ordering = ["question_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["question", "key"], name="catalog_option_unique_key")]

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs):
        if self.question.version.status in ItemVersion.FROZEN:
            raise ValidationError("已发布的版本不可修改，请创建新的草稿版本", code="version-immutable")
        super().save(*args, **kwargs)
