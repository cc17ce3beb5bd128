"""Import items from JSON or Excel with a validation report; export the published catalogue.

All or nothing: the whole file is applied inside one transaction and rolled back when any row
has a problem; the report lists every problem as (row, field, problem).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from tongban.catalog import codes, rules, services
from tongban.catalog.models import BasicItem, ItemImplementation, ItemVersion, ProofEntry
from tongban.catalog.scope import can_manage_organisation
from tongban.catalog.serialize import version_dict
from tongban.core.models import Organisation

BASIC_FIELDS = {"name", "item_type", "department_key", "legal_basis", "service_objects"}


class ImportFailed(Exception):
    def __init__(self, problems: list[dict[str, Any]]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@dataclass
class ImportResult:
    created: int


def _problem(row: int, field: str, problem: str) -> dict[str, Any]:
    return {"row": row, "field": field, "problem": problem}


def _check_record(row: int, record: Any, actor=None) -> list[dict[str, Any]]:
    if not isinstance(record, dict):
        return [_problem(row, "", "每一行应为一个对象")]
    problems = [
        _problem(row, f, "必填")
        for f in sorted(BASIC_FIELDS | {"organisation", "guide"})
        if not record.get(f)
    ]
    if record.get("item_type") and record["item_type"] not in codes.ItemType.values:
        problems.append(
            _problem(row, "item_type", f"事项类型代码“{record['item_type']}”无效，应为 01–10 或 20")
        )
    if record.get("department_key") and record["department_key"] not in codes.DEPARTMENT_CODES:
        problems.append(_problem(row, "department_key", f"主管部门类别“{record['department_key']}”无效"))
    for code in str(record.get("service_objects") or "").split(","):
        if code.strip() and code.strip() not in codes.ServiceObject.values:
            problems.append(_problem(row, "service_objects", f"服务对象代码“{code}”无效，应为 1–6"))
    if record.get("organisation"):
        try:
            credit = codes.validate_credit_code(str(record["organisation"]))
        except ValidationError as exc:
            problems.append(_problem(row, "organisation", exc.messages[0]))
        else:
            org = Organisation.objects.select_related("region").filter(credit_code=credit).first()
            if org is None:
                problems.append(_problem(row, "organisation", f"没有统一社会信用代码为 {credit} 的部门"))
            elif actor is not None and not can_manage_organisation(actor, org):
                problems.append(_problem(row, "organisation", f"无权为“{org.name}”导入事项"))
    guide = record.get("guide")
    if guide is not None and not isinstance(guide, dict):
        problems.append(_problem(row, "guide", "办事指南要素应为对象"))
    elif guide:
        unknown = set(guide) - set(services.EDITABLE_FIELDS) - {"materials", "steps", "fees", "situations"}
        problems += [_problem(row, f"guide.{f}", "未知字段") for f in sorted(unknown)]
        for i, material in enumerate(guide.get("materials") or [], start=1):
            if not isinstance(material, dict) or not material.get("name"):
                problems.append(_problem(row, f"guide.materials[{i}].name", "必填"))
                continue
            proof = material.get("proof")
            if proof and not ProofEntry.objects.filter(code=proof, is_active=True).exists():
                problems.append(_problem(row, f"guide.materials[{i}].proof", f"证明清单中没有编号 {proof}"))
    return problems


def _apply(row: int, record: dict[str, Any], actor) -> list[dict[str, Any]]:
    org = Organisation.objects.get(credit_code=codes.validate_credit_code(str(record["organisation"])))
    item = BasicItem.objects.filter(
        name=record["name"], item_type=record["item_type"], department_key=record["department_key"]
    ).first()
    if item is None:
        parent = None
        if record.get("parent_name"):
            parent = BasicItem.objects.filter(name=record["parent_name"]).first()
            if parent is None:
                return [_problem(row, "parent_name", f"主项“{record['parent_name']}”不存在")]
        item = services.create_basic_item(
            name=record["name"],
            item_type=record["item_type"],
            department_key=record["department_key"],
            legal_basis=record["legal_basis"],
            service_objects=str(record["service_objects"]),
            parent=parent,
            aliases=record.get("aliases", ""),
            keywords=record.get("keywords", ""),
            life_events=BasicItem.join_tags(record.get("life_events") or []),
            enterprise_stages=BasicItem.join_tags(record.get("enterprise_stages") or []),
            is_high_frequency=bool(record.get("high_frequency")),
            actor=actor,
        )
    impl = ItemImplementation.objects.filter(basic_item=item, organisation=org).first()
    if impl is None:
        impl = services.create_implementation(item, org, actor=actor)
        version = impl.versions.get()
    else:
        version = services.new_draft(impl, actor=actor, change_summary="导入更新")
    version = services.update_draft(version, record["guide"], actor=actor)
    return [_problem(row, p.field or "guide", p.message) for p in rules.check_version(version)]


def import_records(records: list[Any], *, actor=None, rows: list[int] | None = None) -> ImportResult:
    rows = rows or list(range(1, len(records) + 1))
    problems: list[dict[str, Any]] = []
    for row, record in zip(rows, records, strict=True):
        problems += _check_record(row, record, actor)
    if problems:
        raise ImportFailed(problems)
    with transaction.atomic():
        for row, record in zip(rows, records, strict=True):
            try:
                with transaction.atomic():
                    problems += _apply(row, record, actor)
            except ValidationError as exc:
                field = ""
                problems += [_problem(row, field, message) for message in exc.messages]
        if problems:
            transaction.set_rollback(True)
    if problems:
        raise ImportFailed(problems)
    return ImportResult(created=len(records))


def import_file(name: str, content: bytes, *, actor=None) -> ImportResult:
    if name.lower().endswith(".json"):
        try:
            data = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImportFailed([_problem(0, "", f"不是有效的 JSON 文件：{exc}")]) from exc
        records = data.get("items") if isinstance(data, dict) else data
        if not isinstance(records, list) or not records:
            raise ImportFailed([_problem(0, "items", '文件中没有事项（应为列表或 {"items": [...]}）')])
        return import_records(records, actor=actor)
    if name.lower().endswith(".xlsx"):
        records, rows = read_excel(content)
        return import_records(records, actor=actor, rows=rows)
    raise ImportFailed([_problem(0, "", "只支持 .json 和 .xlsx 文件")])


# ------------------------------------------------------------------ Excel
# Sheet "事项": one row per item; sheet "材料": one row per material with the item's row number.
ITEM_COLUMNS = {
    "事项名称": "name",
    "事项类型": "item_type",
    "主管部门": "department_key",
    "设定依据": "legal_basis",
    "服务对象": "service_objects",
    "实施主体信用代码": "organisation",
    "别名": "aliases",
    "受理条件": "guide.acceptance_conditions",
    "办件类型": "guide.handling_kind",
    "法定时限": "guide.legal_limit_days",
    "承诺时限": "guide.promised_limit_days",
    "办理地点": "guide.place",
    "办理时间": "guide.office_hours",
    "咨询电话": "guide.consult_phone",
    "投诉电话": "guide.complaint_phone",
    "到现场次数": "guide.visits",
    "网办深度": "guide.online_depth",
    "结果名称": "guide.result_name",
}
MATERIAL_COLUMNS = {
    "事项行号": "item_row",
    "材料名称": "name",
    "来源": "source",
    "原件份数": "originals",
    "复印件份数": "copies",
    "证明清单编号": "proof",
    "关键材料": "is_key",
}


def _sheet_rows(sheet, columns: dict[str, str]) -> list[tuple[int, dict[str, Any]]]:
    header = [str(c.value or "").strip() for c in next(sheet.iter_rows(min_row=1, max_row=1))]
    result = []
    for number, cells in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        if all(v in (None, "") for v in cells):
            continue
        result.append(
            (
                number,
                {
                    columns[h]: v
                    for h, v in zip(header, cells, strict=False)
                    if h in columns and v is not None
                },
            )
        )
    return result


def read_excel(content: bytes) -> tuple[list[dict[str, Any]], list[int]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise ImportFailed([_problem(0, "", f"无法读取 Excel 文件：{exc}")]) from exc
    if "事项" not in book.sheetnames:
        raise ImportFailed([_problem(0, "", "Excel 文件缺少“事项”工作表")])
    records, rows = [], []
    by_row: dict[int, dict[str, Any]] = {}
    for number, values in _sheet_rows(book["事项"], ITEM_COLUMNS):
        record: dict[str, Any] = {
            "guide": {"materials": [], "steps": [{"name": "受理"}, {"name": "审查决定"}]}
        }
        for key, value in values.items():
            if key.startswith("guide."):
                record["guide"][key[6:]] = value
            else:
                record[key] = str(value) if key in ("item_type", "service_objects", "organisation") else value
        if isinstance(record.get("item_type"), str) and record["item_type"].isdigit():
            record["item_type"] = record["item_type"].zfill(2)
        records.append(record)
        rows.append(number)
        by_row[number] = record
    if "材料" in book.sheetnames:
        problems = []
        for number, values in _sheet_rows(book["材料"], MATERIAL_COLUMNS):
            target = by_row.get(int(values.pop("item_row", 0) or 0))
            if target is None:
                problems.append(
                    _problem(number, "事项行号", f"“材料”表第 {number} 行的事项行号在“事项”表中不存在")
                )
                continue
            if "is_key" in values:
                values["is_key"] = str(values["is_key"]).strip() not in ("否", "0", "False", "false")
            target["guide"]["materials"].append(values)
        if problems:
            raise ImportFailed(problems)
    return records, rows


# ------------------------------------------------------------------ export


def export_published() -> list[dict[str, Any]]:
    from tongban.catalog.queries import published

    result = []
    for impl in published().order_by("region__path", "basic_item__code"):
        item = impl.basic_item
        version: ItemVersion = impl.published_version
        result.append(
            {
                "implementation_code": impl.code,
                "basic_code": item.code,
                "name": item.name,
                "item_type": item.item_type,
                "parent_basic_code": item.parent.code if item.parent_id else None,
                "legal_basis": item.legal_basis,
                "service_objects": item.service_objects,
                "organisation": impl.organisation.name,
                "organisation_credit_code": impl.organisation.credit_code,
                "region_code": impl.region.code,
                "exercise_level": impl.exercise_level,
                "version": version.number,
                "effective_from": version.effective_from.isoformat() if version.effective_from else None,
                "handling_items": [h.code for h in impl.handling_items.all()],
                "guide": version_dict(version),
            }
        )
    return result
