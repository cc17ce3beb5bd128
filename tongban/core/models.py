"""Reference data every capability hangs off: regions, organisations, halls, windows, the
working-day calendar and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Region(models.Model):
    """行政区划 — administrative division on one of five levels.

    Province, city and county carry their 6-digit GB/T 2260 code; towns and villages carry the
    12-digit statistical division code (统计用区划代码). ``path`` is the chain of codes from the
    province down ("340000/341500/341502/"), so "this region and everything below it" is one
    indexed ``path__startswith`` filter.
    """

    class Level(models.IntegerChoices):
        PROVINCE = 1, "省级"
        CITY = 2, "市级"
        COUNTY = 3, "县级"
        TOWN = 4, "乡级"
        VILLAGE = 5, "村级"

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=64)
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField("区划路径", max_length=80, unique=True, editable=False)
    is_active = models.BooleanField("有效", default=True)

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["path"]
        indexes = [models.Index(fields=["path"], name="region_path_idx", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.path = (self.parent.path if self.parent_id else "") + self.code + "/"
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        names = []
        node: Region | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


class Organisation(models.Model):
    """部门/机构 — a government department or body that implements service items."""

    class Kind(models.TextChoices):
        GOVERNMENT = "government", "人民政府"
        DEPARTMENT = "department", "政府部门"
        SERVICE_CENTRE = "service_centre", "政务服务管理机构"
        TOWN_GOVERNMENT = "town_government", "乡镇人民政府/街道办事处"
        VILLAGE_COMMITTEE = "village_committee", "村（居）民委员会"
        OTHER = "other", "其他"

    name = models.CharField("名称", max_length=100)
    short_name = models.CharField("简称", max_length=40, blank=True)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    kind = models.CharField("类别", max_length=24, choices=Kind.choices, default=Kind.DEPARTMENT)
    region = models.ForeignKey(
        Region, verbose_name="所属区划", on_delete=models.PROTECT, related_name="organisations"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    phone = models.CharField("联系电话", max_length=40, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    is_active = models.BooleanField("有效", default=True)

    class Meta:
        verbose_name = "部门机构"
        verbose_name_plural = "部门机构"
        ordering = ["region__path", "name"]

    def __str__(self) -> str:
        return self.name


class ServiceHall(models.Model):
    """政务服务中心/便民服务中心/便民服务站 — a physical place where people are served."""

    class Kind(models.TextChoices):
        CENTRE = "centre", "政务服务中心"
        TOWN_CENTRE = "town_centre", "便民服务中心"
        VILLAGE_STATION = "village_station", "便民服务站"
        SELF_SERVICE = "self_service", "自助服务区"

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    region = models.ForeignKey(
        Region, verbose_name="所属区划", on_delete=models.PROTECT, related_name="halls"
    )
    operator = models.ForeignKey(
        Organisation,
        verbose_name="管理机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="halls",
    )
    address = models.CharField("地址", max_length=200)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    opening_hours = models.JSONField(
        "办公时间",
        default=list,
        blank=True,
        help_text='时段列表，例如 [{"days": [1,2,3,4,5], "open": "09:00", "close": "12:00"}]，1 表示周一。',
    )
    hours_note = models.CharField(
        "办公时间说明", max_length=200, blank=True, help_text="例如：法定节假日除外，周六上午延时服务"
    )
    phone = models.CharField("咨询电话", max_length=40, blank=True)
    is_active = models.BooleanField("开放", default=True)

    class Meta:
        verbose_name = "服务大厅/站点"
        verbose_name_plural = "服务大厅/站点"
        ordering = ["region__path", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def opening_hours_text(self) -> str:
        from tongban.core.halls import describe_opening_hours

        return describe_opening_hours(self.opening_hours)


class Window(models.Model):
    """窗口 — a service window in a hall: comprehensive (综合窗口, any item) or dedicated (专窗)."""

    class Kind(models.TextChoices):
        COMPREHENSIVE = "comprehensive", "综合受理窗口"
        DEDICATED = "dedicated", "专项窗口"
        DELIVERY = "delivery", "统一出件窗口"
        HELP = "help", "帮办代办窗口"

    hall = models.ForeignKey(
        ServiceHall, verbose_name="所在大厅", on_delete=models.CASCADE, related_name="windows"
    )
    number = models.CharField("窗口号", max_length=12)
    name = models.CharField("名称", max_length=60)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices, default=Kind.COMPREHENSIVE)
    organisations = models.ManyToManyField(
        Organisation,
        verbose_name="进驻部门",
        blank=True,
        related_name="windows",
        help_text="专项窗口所属部门",
    )
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "窗口"
        verbose_name_plural = "窗口"
        ordering = ["hall_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "number"], name="window_unique_number_per_hall")
        ]

    def __str__(self) -> str:
        return f"{self.hall.name} {self.number} {self.name}"


class CalendarYear(models.Model):
    """A year whose official holiday schedule (国务院办公厅节假日安排通知) is loaded.

    Dates in a year without a row here are counted with weekends only and marked provisional.
    """

    year = models.PositiveSmallIntegerField("年份", unique=True)
    source = models.CharField("来源", max_length=200)
    loaded_at = models.DateTimeField("载入时间", auto_now=True)

    class Meta:
        verbose_name = "节假日安排年度"
        verbose_name_plural = "节假日安排年度"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 年"


class CalendarDay(models.Model):
    """A day that differs from the weekday rule: a statutory holiday on a weekday, or a make-up
    workday (调休上班) on a weekend. Weekend days inside a holiday are stored too, so the table
    reads like the official notice."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "放假"
        WORKDAY = "workday", "调休上班"

    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    name = models.CharField("节日", max_length=40, blank=True)

    class Meta:
        verbose_name = "节假日/调休日"
        verbose_name_plural = "节假日/调休日"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}"


class AuditEvent(models.Model):
    """操作日志 — who did what to which record, when, from where. Append-only."""

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="代办对象",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField("操作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象标识", max_length=64, blank=True)
    summary = models.CharField("摘要", max_length=300)
    data = models.JSONField("详情", default=dict, blank=True)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    request_id = models.CharField("请求编号", max_length=36, blank=True)

    class Meta:
        verbose_name = "操作日志"
        verbose_name_plural = "操作日志"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.summary}"
