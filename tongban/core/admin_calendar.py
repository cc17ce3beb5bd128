"""Admin for the working-day calendar: years, days, and the page "导入年度节假日安排".

Importing this module registers the admins (``tongban/core/admin.py`` imports it). Days are
read-only here: a year is always changed as a whole through the import page, so every change
is validated, audited and announced with ``calendar_year_loaded`` (which recomputes
provisional deadlines). The import page also offers the current rows of a year as a CSV to
edit and upload again.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from tongban.core.calendar_loader import MAX_YEAR, MIN_YEAR, ScheduleError, load_schedule_file
from tongban.core.models import CalendarDay, CalendarYear

MAX_UPLOAD_BYTES = 256 * 1024

# Kept here rather than in a template directory: the pages are tiny and belong to this module.
_IMPORT_TEMPLATE = """{% extends "admin/base_site.html" %}
{% block breadcrumbs %}<div class="breadcrumbs"><a href="{% url 'admin:index' %}">首页</a>
&rsaquo; <a href="{% url 'admin:core_calendaryear_changelist' %}">{{ opts.verbose_name_plural }}</a>
&rsaquo; 导入年度节假日安排</div>{% endblock %}
{% block content %}<div id="content-main">
<p>按国务院办公厅当年发布的《关于××年部分节假日安排的通知》整理文件后上传。同一年度再次导入会整体替换该年的全部日期；
文件有任何错误时不会做任何修改，并逐条列出问题。</p>
<p>CSV 文件每行“日期,类型,名称”，类型为“放假”或“上班”（调休上班，只能是周六或周日），
放假期间的周末也请列出，例如：</p>
<pre>日期,类型,名称
2027-01-01,放假,元旦
2027-02-06,上班,春节</pre>
<p>JSON 文件为列表：<code>[{"date": "2027-01-01", "kind": "放假", "name": "元旦"}]</code>。</p>
{% if problems %}<div class="errornote" role="alert">
<p>文件未导入，数据库未作任何修改。请修正以下问题后重新上传：</p>
<ul>{% for p in problems %}<li>{{ p }}</li>{% endfor %}</ul></div>{% endif %}
<form method="post" enctype="multipart/form-data" novalidate>{% csrf_token %}
<fieldset class="module aligned">{% for field in form %}<div class="form-row">
{{ field.errors }}<div><label for="{{ field.id_for_label }}" class="required">{{ field.label }}</label>
{{ field }}{% if field.help_text %}<div class="help">{{ field.help_text }}</div>{% endif %}</div></div>
{% endfor %}</fieldset>
<div class="submit-row"><input type="submit" value="导入" class="default"></div></form>
{% if years %}<h2>已载入的年度</h2><ul>{% for y in years %}<li>{{ y.year }} 年（{{ y.source }}）：
<a href="{% url 'admin:core_calendaryear_export' y.year %}">下载 CSV</a></li>{% endfor %}</ul>{% endif %}
</div>{% endblock %}"""

_CHANGELIST_TEMPLATE = """{% extends "admin/change_list.html" %}
{% block object-tools-items %}<li><a href="{% url 'admin:core_calendaryear_import' %}" class="addlink">
导入年度节假日安排</a></li>
{{ block.super }}{% endblock %}"""


def _template(source: str):
    return engines["django"].from_string(source)


class ScheduleImportForm(forms.Form):
    year = forms.IntegerField(
        label="年份",
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        error_messages={"required": "请填写年份。", "invalid": "请填写四位年份。"},
    )
    source = forms.CharField(
        label="来源",
        max_length=200,
        help_text="发文字号或网址，例如“国办发明电〔2026〕X号”。",
        error_messages={"required": "请填写来源。"},
    )
    file = forms.FileField(
        label="安排文件",
        help_text="CSV（UTF-8 或 GBK 编码）或 JSON，不超过 256 KB。",
        error_messages={"required": "请选择文件。", "empty": "文件是空的。"},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("文件过大（不超过 256 KB）。", code="file-too-large")
        if not upload.name.lower().endswith((".csv", ".json", ".txt")):
            raise forms.ValidationError("请上传 .csv 或 .json 文件。", code="file-type")
        return upload


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "source", "loaded_at", "holiday_count", "workday_count"]
    ordering = ["-year"]
    readonly_fields = ["year", "source", "loaded_at"]

    @property
    def change_list_template(self):  # admin passes this to TemplateResponse, which accepts a Template
        return _template(_CHANGELIST_TEMPLATE)

    def get_queryset(self, request: HttpRequest):
        # Day counts per year in the same query as the list (no per-row query).
        def count(kind: str) -> Subquery:
            days = CalendarDay.objects.filter(date__year=OuterRef("year"), kind=kind)
            return Subquery(days.values("kind").annotate(n=Count("id")).values("n")[:1])

        return (
            super()
            .get_queryset(request)
            .annotate(
                n_holidays=Coalesce(count(CalendarDay.Kind.HOLIDAY), 0),
                n_workdays=Coalesce(count(CalendarDay.Kind.WORKDAY), 0),
            )
        )

    @admin.display(description="放假天数", ordering="n_holidays")
    def holiday_count(self, obj: CalendarYear) -> int:
        return obj.n_holidays

    @admin.display(description="调休上班天数", ordering="n_workdays")
    def workday_count(self, obj: CalendarYear) -> int:
        return obj.n_workdays

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a year is added through the import page

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # unloading a year would silently change stored deadlines' basis

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="core_calendaryear_import"),
            path(
                "export/<int:year>/",
                self.admin_site.admin_view(self.export_view),
                name="core_calendaryear_export",
            ),
            *super().get_urls(),
        ]

    def _can_import(self, request: HttpRequest) -> bool:
        return request.user.has_perm("core.change_calendaryear") and request.user.has_perm(
            "core.add_calendarday"
        )

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self._can_import(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        problems: list[str] = []
        if request.method == "POST":
            form = ScheduleImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    result = load_schedule_file(
                        form.cleaned_data["year"],
                        upload.read(),
                        upload.name,
                        form.cleaned_data["source"],
                        actor=request.user,
                        request=request,
                    )
                except ScheduleError as exc:
                    problems = exc.messages
                else:
                    verb = "已更新" if result.replaced else "已导入"
                    self.message_user(
                        request,
                        f"{verb} {result.year} 年节假日安排：{result.summary}。",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:core_calendaryear_changelist"))
        else:
            form = ScheduleImportForm(initial={"year": date.today().year + 1})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "导入年度节假日安排",
            "form": form,
            "problems": problems,
            "years": CalendarYear.objects.order_by("-year")[:10],
        }
        return TemplateResponse(request, _template(_IMPORT_TEMPLATE), context)

    def export_view(self, request: HttpRequest, year: int) -> HttpResponse:
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["日期", "类型", "名称"])
        for day in CalendarDay.objects.filter(date__year=year).order_by("date"):
            writer.writerow(
                [day.date.isoformat(), "放假" if day.kind == CalendarDay.Kind.HOLIDAY else "上班", day.name]
            )
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="holidays-{year}.csv"'
        return response


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "kind", "name"]
    list_filter = ["kind"]
    date_hierarchy = "date"
    search_fields = ["name"]

    @admin.display(description="星期", ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return "星期" + "一二三四五六日"[obj.date.weekday()]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        link = format_html(
            '日期只能按年度整体导入：<a href="{}">导入年度节假日安排</a>',
            reverse("admin:core_calendaryear_import"),
        )
        self.message_user(request, link, messages.INFO)
        return super().changelist_view(request, extra_context)
