"""CSV (UTF-8 with BOM, so Excel opens it in Chinese) and .xlsx (openpyxl) exports.

Callers pass querysets and figures that are already scope-filtered.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.http import HttpResponse
from django.utils import timezone

from tongban.supervision.stats import GROUPS, Figures
from tongban.workflow.lights import Light

STAT_COLUMNS = [
    ("label", "分组"),
    ("received", "收件"),
    ("accepted", "受理"),
    ("refused", "不予受理"),
    ("completed", "办结"),
    ("on_time", "按期办结"),
    ("late", "超期办结"),
    ("on_time_rate", "按期办结率"),
    ("average_days", "平均办理用时（工作日）"),
    ("p90_days", "90%分位办理用时（工作日）"),
    ("online_share", "全程网办占比"),
    ("one_visit_share", "最多跑一次占比"),
    ("correction_rate", "补正率"),
    ("refusal_rate", "不予受理率"),
]


def _stat_rows(rows: list[Figures], total: Figures) -> list[list]:
    out = []
    for fig in [*rows, total]:
        data = fig.as_dict()
        out.append(["" if data[k] is None else data[k] for k, _ in STAT_COLUMNS])
    return out


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def statistics(rows, total, *, start: dt.date, end: dt.date, group_by: str, fmt: str) -> HttpResponse:
    header = [label for _, label in STAT_COLUMNS]
    header[0] = GROUPS.get(group_by, "分组")
    body = _stat_rows(rows, total)
    name = f"supervision-stats-{start:%Y%m%d}-{end:%Y%m%d}-{group_by}"
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook()
        sheet = book.active
        sheet.title = "统计"
        sheet.append([f"电子监察统计 {start} 至 {end}（按{GROUPS.get(group_by, '')}）"])
        sheet.append(header)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in body:
            sheet.append(row)
        sheet.column_dimensions["A"].width = 30
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        return _attachment(response, f"{name}.xlsx")
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(body)
    response = HttpResponse(
        ("\ufeff" + text.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    return _attachment(response, f"{name}.csv")


def cases_csv(qs) -> HttpResponse:
    """The case list with lights (applicant names are not exported)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["办件编号", "事项", "部门", "区划", "渠道", "状态", "收件日期", "法定办结期限", "亮灯"])
    for a in qs:
        writer.writerow(
            [
                a.reference,
                a.implementation.basic_item.name,
                a.department.name,
                a.region.name,
                a.get_channel_display(),
                a.get_status_display(),
                a.received_date or "",
                a.deadline or "",
                Light.LABELS.get(a.light, ""),
            ]
        )
    response = HttpResponse(
        ("\ufeff" + text.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    return _attachment(response, f"supervision-cases-{timezone.localdate():%Y%m%d}.csv")
