import io
import json

import pytest
from openpyxl import Workbook

from tests.catalog import factories
from tongban.catalog import importexport
from tongban.catalog.models import BasicItem, ItemImplementation

pytestmark = pytest.mark.django_db


def record(org, **overrides):
    guide = {key: value for key, value in factories.COMPLETE_GUIDE.items()}
    data = {
        "name": "食品经营许可",
        "item_type": "01",
        "department_key": "market",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "service_objects": "1,2",
        "organisation": org.credit_code,
        "aliases": "开饭店",
        "guide": guide,
    }
    data.update(overrides)
    return data


def test_json_import_creates_drafts_with_generated_codes():
    org = factories.department(factories.liuan()["jinan"])
    content = json.dumps({"items": [record(org), record(org, name="药品零售企业经营许可")]}).encode()
    result = importexport.import_file("items.json", content)
    assert result.created == 2
    assert ItemImplementation.objects.count() == 2
    assert all(i.code.startswith(org.credit_code) for i in ItemImplementation.objects.all())


def test_import_is_all_or_nothing_with_a_report():
    org = factories.department(factories.liuan()["jinan"])
    bad_limit = record(org, name="药品零售企业经营许可")
    bad_limit["guide"] = {**bad_limit["guide"], "promised_limit_days": 40}
    records = [record(org), record(org, name="", item_type="99"), bad_limit]
    with pytest.raises(importexport.ImportFailed) as excinfo:
        importexport.import_records(records)
    problems = excinfo.value.problems
    assert {"row": 2, "field": "name", "problem": "必填"} in problems
    assert any(p["row"] == 2 and p["field"] == "item_type" for p in problems)
    assert BasicItem.objects.count() == 0 and ItemImplementation.objects.count() == 0

    # structurally fine, but a rule fails in row 2: still nothing imported
    with pytest.raises(importexport.ImportFailed) as excinfo:
        importexport.import_records([record(org), bad_limit])
    assert any(p["row"] == 2 and "不得超过法定办结时限" in p["problem"] for p in excinfo.value.problems)
    assert BasicItem.objects.count() == 0 and ItemImplementation.objects.count() == 0


def test_malformed_files_are_reported():
    with pytest.raises(importexport.ImportFailed, match="1 problems") as excinfo:
        importexport.import_file("items.json", b"{not json")
    assert "JSON" in excinfo.value.problems[0]["problem"]
    with pytest.raises(importexport.ImportFailed):
        importexport.import_file("items.csv", b"a,b")


def test_excel_import_with_row_numbers():
    org = factories.department(factories.liuan()["jinan"])
    book = Workbook()
    sheet = book.active
    sheet.title = "事项"
    header = list(importexport.ITEM_COLUMNS)
    sheet.append(header)
    values = {
        "事项名称": "公共场所卫生许可",
        "事项类型": "01",
        "主管部门": "health",
        "设定依据": "《公共场所卫生管理条例》第八条",
        "服务对象": "1,2",
        "实施主体信用代码": org.credit_code,
        "受理条件": "有卫生设施",
        "办件类型": "promised",
        "法定时限": 20,
        "承诺时限": 5,
        "办理地点": "金安区政务服务中心",
        "办理时间": "工作日",
        "咨询电话": "0564-1",
        "投诉电话": "12345",
        "到现场次数": 1,
        "网办深度": 3,
        "结果名称": "公共场所卫生许可证",
    }
    sheet.append([values.get(h) for h in header])
    bad = dict(values, 承诺时限=30, 事项名称="另一个事项")
    sheet.append([bad.get(h) for h in header])
    materials = book.create_sheet("材料")
    materials.append(list(importexport.MATERIAL_COLUMNS))
    materials.append([2, "卫生许可证申请表", "applicant", 1, 0, None, "是"])
    materials.append([3, "卫生许可证申请表", "applicant", 1, 0, None, "是"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(importexport.ImportFailed) as excinfo:
        importexport.import_file("items.xlsx", buffer.getvalue())
    assert {p["row"] for p in excinfo.value.problems} == {3}
    assert ItemImplementation.objects.count() == 0

    sheet.delete_rows(3)
    materials.delete_rows(3)
    buffer = io.BytesIO()
    book.save(buffer)
    assert importexport.import_file("items.xlsx", buffer.getvalue()).created == 1


def test_export_lists_published_items_only():
    impl = factories.published_item()
    exported = importexport.export_published()
    assert [e["implementation_code"] for e in exported] == [impl.code]
    assert exported[0]["guide"]["materials"][0]["name"] == "食品经营许可申请书"
