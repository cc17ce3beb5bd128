"""一件事办理结果告知书 — one PDF listing every item's result (cases.notices.document_pdf)."""

from __future__ import annotations

from django.utils import timezone

from tongban.cases.notices import document_pdf


def bundle_result(bc, apps, outcomes: list[str]) -> tuple[str, bytes]:
    number = f"一件事字〔{timezone.localdate().year}〕{bc.reference}号"
    lines = [
        f"申请人：{bc.applicant_name}",
        f"一件事：{bc.bundle.name}（{bc.region.name}）",
        f"一件事编号：{bc.reference}",
        f"提交时间：{timezone.localtime(bc.submitted_at):%Y年%m月%d日}" if bc.submitted_at else "",
        "",
        f"你（单位）申请的“{bc.bundle.name}”共 {len(apps)} 个事项，已全部办结，结果如下：",
        "",
    ]
    for index, (app, outcome) in enumerate(zip(apps, outcomes, strict=True), start=1):
        lines.append(f"{index}. {app.implementation.basic_item.name}（{app.department.name}）")
        lines.append(f"   办件编号：{app.case_number or app.reference}；结果：{outcome}")
        documents = (
            [f"{d.get_kind_display()} {d.number}" for d in app.results.all()]
            if hasattr(app, "results")
            else []
        )
        if documents:
            lines.append(f"   文书：{'；'.join(documents)}")
        elif app.version.result_name:
            lines.append(f"   办理结果：{app.version.result_name}")
        if app.refusal_reason:
            lines.append(f"   理由：{app.refusal_reason}")
    lines += [
        "",
        "各事项的决定书、证照可在个人中心逐项查看和下载。",
        "对其中不予许可或不予受理的决定不服的，可以自收到该决定之日起六十日内依法申请行政复议，",
        "或者在六个月内依法向人民法院提起行政诉讼。",
        "",
        bc.lead_department.name + "（一件事牵头部门）",
        f"{timezone.localdate():%Y年%m月%d日}",
    ]
    return number, document_pdf("一件事办理结果告知书", lines, subtitle=number)


def register_on_child(bc, app) -> None:
    """Also list the combined result among the lead child's results (workflow.ResultDocument,
    kind 一件事办理结果告知书), pointing at the same stored file."""
    try:
        from tongban.workflow.models import ResultDocument
    except ImportError:  # pragma: no cover — workflow app not installed
        return
    if not hasattr(ResultDocument.Kind, "BUNDLE"):
        return
    doc = ResultDocument(
        application=app, kind=ResultDocument.Kind.BUNDLE, number=bc.result_number, sha256=bc.result_sha256
    )
    doc.file.name = bc.result_file.name
    doc.save()
