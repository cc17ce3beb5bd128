from __future__ import annotations

from django.db import models

from tongban.catalog.codes import ExerciseLevel


class ItemImplementation(models.Model):
    """实施清单事项 — one basic item as implemented by one department in one region.

    Identity (codes, department, region) lives here and never changes; every guide element
    lives in versions (:class:`ItemVersion`). ``published_version`` points at the one version
    the portal, the hall screens and the API read.
    """

    basic_item = models.ForeignKey(
        "catalog.BasicItem",
        verbose_name="基本目录事项",
        on_delete=models.PROTECT,
        related_name="implementations",
    )
    organisation = models.ForeignKey(
        "core.Organisation", verbose_name="实施主体", on_delete=models.PROTECT, related_name="catalog_items"
    )
    region = models.ForeignKey(
        "core.Region", verbose_name="实施区划", on_delete=models.PROTECT, related_name="catalog_items"
    )
    exercise_level = models.CharField("行使层级", max_length=1, choices=ExerciseLevel.choices)
    code = models.CharField("实施编码", max_length=36, unique=True, editable=False)
    published_version = models.OneToOneField(
        "catalog.ItemVersion",
        verbose_name="现行发布版本",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    # 办理流程: the versioned process a case follows once accepted (workflow app); none = the
    # default 审查 → 决定 → 送达 process of the implementing department.
    process = models.ForeignKey(
        "workflow.ProcessDefinition",
        verbose_name="审批流程",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="implementations",
    )
    smart_approval = models.BooleanField(
        "适用智慧审批", default=False, help_text="勾选后，符合智慧审批规则的申请自动受理、自动审批。"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "实施清单事项"
        verbose_name_plural = "实施清单事项"
        ordering = ["region__path", "basic_item__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["basic_item", "organisation"], name="catalog_impl_unique_per_org"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.basic_item.name}（{self.organisation.name}）"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("catalog:guide", args=[self.code])

    @property
    def name(self) -> str:
        return self.basic_item.name


class HandlingItem(models.Model):
    """业务办理项 — a concrete way of handling an implementation-list item (code = 实施编码 + 2 digits)."""

    implementation = models.ForeignKey(
        ItemImplementation,
        verbose_name="实施清单事项",
        on_delete=models.CASCADE,
        related_name="handling_items",
    )
    sequence = models.PositiveSmallIntegerField("序号")
    name = models.CharField("办理项名称", max_length=200)
    code = models.CharField("业务办理项编码", max_length=50, unique=True, editable=False)

    class Meta:
        verbose_name = "业务办理项"
        verbose_name_plural = "业务办理项"
        ordering = ["implementation_id", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["implementation", "sequence"], name="catalog_handling_unique_seq"
            ),
        ]

    def __str__(self) -> str:
        return self.name
