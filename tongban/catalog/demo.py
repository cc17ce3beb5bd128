"""Demo catalogue for 六安市 and its counties (idempotent): ``manage.py load_demo`` calls :func:`load`.

Data lives in tongban/catalog/data/ (readable Python). Items already implemented by a department
are left alone, so running the loader twice changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from tongban.catalog import services
from tongban.catalog.data.demo_items import AGENT, ITEMS
from tongban.catalog.data.reference import FIELD_SETS, PROOFS, SYNONYMS
from tongban.catalog.models import BasicItem, FieldSet, ItemImplementation, ProofEntry, Synonym
from tongban.core.models import Organisation, Region, ServiceHall

CITY = "341500"
COUNTIES = ["341502", "341503", "341504", "341522", "341523", "341524", "341525"]
SHORT_NAMES = {
    "market": "市场监管",
    "police": "公安",
    "hrss": "人社",
    "civil": "民政",
    "health": "卫健",
    "resources": "自然资源",
    "housing": "住建",
    "tax": "税务",
    "fund": "公积金",
    "transport": "交通运输",
    "data": "数据资源",
    "medicare": "医保",
    "disability": "残联",
}
DEDICATED_WINDOWS = {"police": "公安专窗", "tax": "税务专窗", "resources": "不动产登记专窗"}
DEFAULT_HOURS = "周一至周五 上午 9:00—12:00，下午 13:30—17:00（法定节假日除外）"
AGENT_QUESTION = ("agent", "是否委托他人办理", [("no", "本人办理"), ("yes", "委托他人办理")])
AGENT_MATERIALS = ["授权委托书|when:agent=yes", "受托人居民身份证|licence|when:agent=yes|nonkey"]
FORM_WORDS = ("申请书", "申请表", "审核表", "登记表", "信息采集表", "审批表", "申报表", "备案表")
ITEM_FIELDS = {
    "food-business": {
        "type": "object",
        "required": ["business_scope"],
        "properties": {
            "business_scope": {
                "type": "array",
                "title": "经营项目",
                "minItems": 1,
                "items": {
                    "enum": [
                        "预包装食品销售",
                        "散装食品销售",
                        "热食类食品制售",
                        "冷食类食品制售",
                        "生食类食品制售",
                        "自制饮品制售",
                        "集体用餐配送",
                    ]
                },
            },
            "business_area": {"type": "number", "title": "经营场所面积（平方米）", "minimum": 1},
        },
    },
}


def department(region_code: str, key: str) -> Organisation | None:
    """The demo department (reference-data helper's contract), or None when not loaded."""
    try:
        from tongban.core.demo import department as core_department
    except ImportError:
        core_department = None
    if core_department is not None:
        try:
            return core_department(region_code, key)
        except Exception:
            pass
    return Organisation.objects.filter(region__code=region_code, short_name=SHORT_NAMES[key]).first()


def parse_material(spec: str) -> dict[str, Any]:
    name, *flags = spec.split("|")
    data: dict[str, Any] = {"name": name}
    for flag in flags:
        key, _, value = flag.partition(":")
        if key in ("licence", "sharing", "dept"):
            data["source"] = {"dept": "department"}.get(key, key)
            if key != "dept":
                data.update(originals=0, medium="electronic")
        elif key == "copy":
            data["copies"] = 1
        elif key == "nonkey":
            data["is_key"] = False
        elif key == "commit":
            data["commitment_allowed"] = True
        elif key == "proof":
            data.update(is_proof=True, proof=value)
        elif key == "when":
            data.update(requirement="situational", applies_when=value)
        elif key == "note":
            data["notes"] = value
        elif key in ("paper", "electronic"):
            data["medium"] = key
        elif key == "originals":
            data["originals"] = int(value)
    if any(word in name for word in FORM_WORDS):
        data.setdefault("blank_form", "网上申报时在线填写；窗口提供纸质空白表格")
        data.setdefault("example", "填写示例在窗口及网上办事指南公示")
    return data


def _steps(kind: str, promised: int) -> list[dict[str, Any]]:
    if kind == "spot":
        return [
            {"name": "受理", "description": "窗口或网上受理，材料齐全当场受理", "days": Decimal(0)},
            {"name": "审查决定", "description": "当场审查并作出决定", "days": Decimal(0)},
            {"name": "办结", "description": "当场发放结果或统一窗口出件", "days": Decimal(0)},
        ]
    review = max(promised - 1, 0)
    return [
        {"name": "受理", "description": "综合窗口受理，出具受理通知书", "days": Decimal(0)},
        {"name": "审查", "description": "承办科室审查申请材料", "days": Decimal(review)},
        {"name": "决定", "description": "作出准予或不予决定", "days": Decimal(promised - review)},
        {"name": "办结送达", "description": "统一窗口出件或免费邮寄", "days": Decimal(0)},
    ]


def guide_for(spec: dict[str, Any], region: Region, org: Organisation) -> dict[str, Any]:
    hall = ServiceHall.objects.filter(region=region, kind=ServiceHall.Kind.CENTRE).first()
    kind = spec.get("kind", "promised")
    legal, promised = spec["limits"]
    situations = [AGENT_QUESTION if s == AGENT else s for s in spec.get("situations", [])]
    material_specs = [m for m in spec["materials"] if m != AGENT]
    if any(q[0] == "agent" for q in situations) or AGENT in spec["materials"]:
        material_specs += AGENT_MATERIALS
        if not any(q[0] == "agent" for q in situations):
            situations.append(AGENT_QUESTION)
    fees = [
        {"name": n, "standard": s, "amount": Decimal(a), "basis": b} for n, s, a, b in spec.get("fees", [])
    ]
    return {
        "acceptance_conditions": spec["conditions"],
        "handling_kind": kind,
        "legal_limit_days": legal,
        "legal_limit_note": spec.get("legal_note", ""),
        "promised_limit_days": promised,
        "special_procedures": spec.get("special", ""),
        "is_free": spec.get("is_free", not fees),
        "handling_forms": "1,2,3" if spec.get("depth", 3) >= 3 else "1",
        "place": f"{hall.name}（{hall.address}）" if hall else f"{region.name}政务服务中心",
        "hall_id": hall.pk if hall else None,
        "windows_note": DEDICATED_WINDOWS.get(spec["dept"], "综合受理窗口"),
        "office_hours": (hall.opening_hours_text if hall and hall.opening_hours else "") or DEFAULT_HOURS,
        "consult_phone": org.phone or (hall.phone if hall and hall.phone else "0564-12345"),
        "complaint_phone": "12345",
        "online_depth": spec.get("depth", 3),
        "visits": spec.get("visits", 1),
        "handle_anywhere": spec.get("anywhere", ""),
        "appointment_supported": True,
        "delivery_supported": spec.get("depth", 3) >= 3,
        "online_payment_supported": bool(fees),
        "result_name": spec["result"],
        "result_sample": f"{spec['result']}（样本）" if spec.get("licence") else "",
        "result_is_licence": spec.get("licence", False),
        "form_field_sets": " ".join(
            dict.fromkeys(
                spec.get("fields", "applicant").split()
                + (["agent"] if any(q[0] == "agent" for q in situations) else [])
            )
        ),
        "form_schema": ITEM_FIELDS.get(spec["key"], {}),
        "materials": [parse_material(m) for m in material_specs],
        "steps": _steps(kind, promised),
        "fees": fees,
        "situations": [
            {"key": key, "text": text, "options": [{"key": k, "label": label} for k, label in options]}
            for key, text, options in situations
        ],
    }


def load_reference_data() -> None:
    for code, name, issuer, basis, replacement in PROOFS:
        ProofEntry.objects.update_or_create(
            code=code,
            defaults={"name": name, "issuer": issuer, "legal_basis": basis, "replacement": replacement},
        )
    for key, (name, schema) in FIELD_SETS.items():
        FieldSet.objects.update_or_create(key=key, defaults={"name": name, "schema": schema})
    for phrase, expansions in SYNONYMS.items():
        Synonym.objects.update_or_create(phrase=phrase, defaults={"expansions": expansions})


def basic_item_for(spec: dict[str, Any], parents: dict[str, BasicItem]) -> BasicItem:
    meta = {
        "aliases": spec.get("aliases", ""),
        "keywords": spec.get("keywords", ""),
        "life_events": BasicItem.join_tags(spec.get("life", [])),
        "enterprise_stages": BasicItem.join_tags(spec.get("stages", [])),
        "is_high_frequency": spec.get("hf", False),
    }
    item = BasicItem.objects.filter(name=spec["name"]).first()
    if item is None:
        return services.create_basic_item(
            name=spec["name"],
            item_type=spec["type"],
            department_key=spec["dept"],
            legal_basis=spec["basis"],
            service_objects=spec["objects"],
            parent=parents.get(spec.get("parent", "")),
            **meta,
        )
    changed = {k: v for k, v in {"legal_basis": spec["basis"], **meta}.items() if getattr(item, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(item, key, value)
        item.save(update_fields=list(changed))  # re-indexes its implementations (signal)
    return item


def regions_for(where: str, counties: list[str]) -> list[str]:
    return {"city": [CITY], "county": counties, "both": [CITY, *counties]}.get(where, [])


def load(stdout=None, counties: list[str] | None = None) -> None:
    counties = COUNTIES if counties is None else counties
    write = stdout.write if stdout is not None else (lambda s: None)
    load_reference_data()
    parents: dict[str, BasicItem] = {}
    created = skipped = missing = 0
    for spec in ITEMS:
        with transaction.atomic():
            item = basic_item_for(spec, parents)
        parents[spec["key"]] = item
        for code in regions_for(spec["where"], counties):
            org = department(code, spec["dept"])
            region = Region.objects.filter(code=code).first()
            if org is None or region is None:
                missing += 1
                continue
            if ItemImplementation.objects.filter(basic_item=item, organisation=org).exists():
                skipped += 1
                continue
            with transaction.atomic():
                impl = services.create_implementation(item, org, region=region)
                version = impl.versions.get()
                services.update_draft(version, guide_for(spec, region, org))
                services.publish_directly(version, note="演示数据：依据法定依据编写，直接发布")
            created += 1
    write(
        f"事项目录：新增实施清单事项 {created} 项，已存在 {skipped} 项，缺少部门或区划 {missing} 项；"
        f"基本目录 {BasicItem.objects.count()} 项。\n"
    )
