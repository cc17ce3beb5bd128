"""办理结果 — decision documents and written notices as PDFs (reportlab, see cases.notices).

Delivery (送达) is an interface: today a result is handed out at a window, posted or made
available electronically in the personal centre; the delivery capability will plug in an
express-company adapter behind the same ``hand_over`` step.
"""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.utils import timezone

from tongban.cases.notices import document_pdf
from tongban.workflow.models import ResultDocument

REMEDY = [
    "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，",
    "或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。",
]
KIND_CODES = {
    ResultDocument.Kind.APPROVAL: "许准",
    ResultDocument.Kind.LICENCE: "证",
    ResultDocument.Kind.REFUSAL: "不许",
    ResultDocument.Kind.BUNDLE: "一件事",
}


def document_number(app, kind: str) -> str:
    dept = app.department.short_name or app.department.name
    return f"{dept}{KIND_CODES[kind]}字〔{timezone.localdate().year}〕{app.case_number}号"


def _lines(app, kind: str, opinion: str) -> list[str]:
    item = app.implementation.basic_item.name
    common = [
        f"申请人：{app.applicant_name}",
        f"申请事项：{item}",
        f"办件编号：{app.case_number}",
        f"受理日期：{app.received_date}",
        "",
    ]
    basis = (app.implementation.basic_item.legal_basis or "").strip()[:300]
    if kind == ResultDocument.Kind.REFUSAL:
        body = [
            f"你（单位）申请的{item}，经审查，不符合法定条件、标准，决定不予许可。理由如下：",
            opinion,
            *([f"依据：{basis}"] if basis else []),
            "",
            *REMEDY,
        ]
    elif kind == ResultDocument.Kind.LICENCE:
        body = [
            f"证照名称：{app.version.result_name or item}",
            f"持证人：{app.applicant_name}",
            f"发证机关：{app.department.name}",
            "（证照草稿：以电子证照库签发的正式证照为准）",
        ]
    else:
        body = [
            f"你（单位）申请的{item}，经审查，符合法定条件、标准，决定准予许可。",
            opinion,
            *([f"依据：{basis}"] if basis else []),
        ]
    return [*common, *body, "", app.department.name, f"{timezone.localdate():%Y年%m月%d日}"]


def issue(app, kind: str, opinion: str) -> ResultDocument:
    number = document_number(app, kind)
    pdf = document_pdf(
        ResultDocument.Kind(kind).label.replace("（草稿）", ""), _lines(app, kind, opinion), subtitle=number
    )
    doc = ResultDocument(application=app, kind=kind, number=number, sha256=hashlib.sha256(pdf).hexdigest())
    doc.file.save(f"{kind}-{app.pk}.pdf", ContentFile(pdf), save=False)
    doc.save()
    return doc


def pause_notice_pdf(app, pause) -> bytes:
    """特别程序告知书 (《行政许可法》第四十五条: the applicant is told in writing)."""
    lines = [
        f"申请人：{app.applicant_name}",
        f"申请事项：{app.implementation.basic_item.name}",
        f"办件编号：{app.case_number}",
        "",
        f"你（单位）申请的事项需要进行{pause.get_kind_display()}，依据《中华人民共和国行政许可法》第四十五条，",
        "所需时间不计算在行政许可期限内。",
        f"理由：{pause.reason}",
        *([f"预计结束日期：{pause.expected_end}"] if pause.expected_end else []),
        "",
        app.department.name,
        f"{timezone.localdate():%Y年%m月%d日}",
    ]
    return document_pdf("特别程序告知书", lines)
