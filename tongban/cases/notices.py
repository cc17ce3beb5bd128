"""不予受理决定书 — a PDF the applicant can download (reportlab, CJK font STSong-Light)."""

from __future__ import annotations

import io
import textwrap

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"


def refusal_pdf(application) -> bytes:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle("不予受理决定书")
    width, height = A4
    pdf.setFont(FONT, 18)
    pdf.drawCentredString(width / 2, height - 80, "不予受理决定书")
    pdf.setFont(FONT, 11)
    lines = [
        f"申请人：{application.applicant_name}",
        f"申请事项：{application.implementation.basic_item.name}",
        f"申请编号：{application.reference}",
        f"收件日期：{application.received_date or ''}",
        "",
        "经审查，你（单位）提出的申请不予受理，理由如下：",
        *textwrap.wrap(application.refusal_reason, 38),
        "",
        "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，",
        "或者在六个月内依法向人民法院提起行政诉讼。",
        "",
        f"{application.department.name}",
        f"{timezone.localdate():%Y年%m月%d日}",
    ]
    y = height - 130
    for line in lines:
        pdf.drawString(60, y, line)
        y -= 20
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
