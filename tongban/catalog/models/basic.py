from __future__ import annotations

from django.conf import settings
from django.db import models

from tongban.catalog.codes import ItemType


class LifeEvent(models.TextChoices):
    """个人生命周期主题."""

    BIRTH = "birth", "出生"
    SCHOOL = "school", "上学"
    EMPLOYMENT = "employment", "就业"
    MARRIAGE = "marriage", "婚育"
    HOUSING = "housing", "住房"
    SOCIAL_SECURITY = "social_security", "社保"
    MEDICAL = "medical", "医疗"
    TRAVEL = "travel", "出行"
    RETIREMENT = "retirement", "退休"
    ASSISTANCE = "assistance", "救助"
    DEATH = "death", "身后事"


class EnterpriseStage(models.TextChoices):
    """法人全生命周期阶段."""

    START = "start", "开办"
    CHANGE = "change", "变更"
    OPERATE = "operate", "经营"
    INVEST = "invest", "投资建设"
    CLOSE = "close", "注销"


def _tag_field(verbose: str) -> models.CharField:
    # Stored as ",a,b," so "has tag x" is one portable ``__contains=",x,"`` filter on SQLite and PostgreSQL.
    return models.CharField(verbose, max_length=200, blank=True, default="")


class BasicItem(models.Model):
    """基本目录事项 — a catalogue item as defined once for every region ("同一事项、同一编码").

    The 12-character basic code (基本编码) follows GB/T 39554.1-2020 as used in exchanges with
    the national platform; the item type uses the GB/T 39046-2020 appendix A code set.
    """

    code = models.CharField("基本编码", max_length=12, unique=True, editable=False)
    name = models.CharField("事项名称", max_length=200)
    item_type = models.CharField("事项类型", max_length=2, choices=ItemType.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="所属主项",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sub_items",
    )
    department_key = models.CharField(
        "主管部门类别", max_length=20, help_text="market, police, hrss … 见 docs/catalog.md"
    )
    legal_basis = models.TextField("设定依据")
    service_objects = models.CharField(
        "服务对象", max_length=20, help_text="服务对象代码，逗号分隔，例如 1,2"
    )
    aliases = models.CharField(
        "别名/俗称", max_length=300, blank=True, help_text="空格分隔，例如：办营业执照 开公司"
    )
    keywords = models.CharField("关键词", max_length=300, blank=True)
    life_events = _tag_field("个人生命周期主题")
    enterprise_stages = _tag_field("企业生命周期阶段")
    is_high_frequency = models.BooleanField("高频事项", default=False)
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "基本目录事项"
        verbose_name_plural = "基本目录事项"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def is_sub_item(self) -> bool:
        return self.parent_id is not None

    def tags(self, field: str) -> list[str]:
        return [t for t in getattr(self, field).split(",") if t]

    @staticmethod
    def join_tags(values: list[str] | tuple[str, ...]) -> str:
        return "," + ",".join(values) + "," if values else ""

    def service_object_labels(self) -> list[str]:
        from tongban.catalog.codes import ServiceObject

        labels = dict(ServiceObject.choices)
        return [labels.get(c.strip(), c) for c in self.service_objects.split(",") if c.strip()]

    def life_event_labels(self) -> list[str]:
        labels = dict(LifeEvent.choices)
        return [labels[t] for t in self.tags("life_events") if t in labels]

    def enterprise_stage_labels(self) -> list[str]:
        labels = dict(EnterpriseStage.choices)
        return [labels[t] for t in self.tags("enterprise_stages") if t in labels]


class BasicItemChange(models.Model):
    """基本目录变更 — a reviewed change to a basic item's name, legal basis, aliases or keywords.

    Basic-item data is shared by every implementation in every county, so it is never edited
    directly: a change is proposed, a second person approves (four-eyes) and only then applied;
    the record keeps who proposed and approved what, with the old and new values.
    """

    FIELDS = ("name", "legal_basis", "aliases", "keywords")

    class Status(models.TextChoices):
        PROPOSED = "proposed", "待审核"
        APPLIED = "applied", "已通过并生效"
        REJECTED = "rejected", "已退回"

    basic_item = models.ForeignKey(
        BasicItem, verbose_name="基本目录事项", on_delete=models.CASCADE, related_name="changes"
    )
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PROPOSED)
    reason = models.CharField("变更理由", max_length=300)
    changes = models.JSONField("变更内容", default=list, help_text="[{field, label, old, new}]")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField("提出时间", auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    review_comment = models.CharField("审核意见", max_length=500, blank=True)

    class Meta:
        verbose_name = "基本目录变更"
        verbose_name_plural = "基本目录变更"
        ordering = ["-proposed_at", "-id"]
        constraints = [
            # One open proposal per item: a second would be reviewed against stale values.
            models.UniqueConstraint(
                fields=["basic_item"],
                condition=models.Q(status="proposed"),
                name="catalog_one_open_basic_item_change",
            )
        ]

    def __str__(self) -> str:
        return f"{self.basic_item.name}：{self.get_status_display()}"
