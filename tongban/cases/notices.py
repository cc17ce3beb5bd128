"""Documents the applicant downloads (不予受理决定书 and, through ``document_pdf``, the back
office's decisions and notices): reportlab with the built-in CJK font STSong-Light."""

from __future__ import annotations

import io
import textwrap

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"


def document_pdf(title: str, lines: list[str], *, subtitle: str = "") -> bytes:
    """An A4 document: centred title (and document number), then the lines, wrapped and paged."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(title)
    width, height = A4

    def header() -> float:
        pdf.setFont(FONT, 18)
        pdf.drawCentredString(width / 2, height - 80, title)
        pdf.setFont(FONT, 11)
        if subtitle:
            pdf.drawCentredString(width / 2, height - 104, subtitle)
        return height - 140

    y = header()
    for line in lines:
        for part in textwrap.wrap(line, 38) or [""]:
            if y < 60:
                pdf.showPage()
                y = header()
            pdf.drawString(60, y, part)
            y -= 20
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def refusal_pdf(application) -> bytes:
    lines = [
        f"申请人：{application.applicant_name}",
        f"申请事项：{application.implementation.basic_item.name}",
        f"申请编号：{application.reference}",
        f"收件日期：{application.received_date or ''}",
        "",
        "经审查，你（单位）提出的申请不予受理，理由如下：",
        application.refusal_reason,
        "",
        "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，",
        "或者在六个月内依法向人民法院提起行政诉讼。",
        "",
        f"{application.department.name}",
        f"{timezone.localdate():%Y年%m月%d日}",
    ]
    return document_pdf("不予受理决定书", lines)
