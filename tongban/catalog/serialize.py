"""One dictionary shape for a version: used for diffs, the API detail, and the JSON export."""

from __future__ import annotations

from typing import Any

from tongban.catalog.models import ItemVersion

VERSION_FIELDS = [
    "acceptance_conditions",
    "handling_kind",
    "legal_limit_days",
    "legal_limit_note",
    "promised_limit_days",
    "special_procedures",
    "special_procedures_counted",
    "is_free",
    "handling_forms",
    "place",
    "windows_note",
    "office_hours",
    "consult_phone",
    "complaint_phone",
    "online_depth",
    "visits",
    "handle_anywhere",
    "appointment_supported",
    "delivery_supported",
    "online_payment_supported",
    "result_name",
    "result_sample",
    "result_is_licence",
    "intermediary_services",
    "form_field_sets",
    "form_schema",
]
MATERIAL_FIELDS = [
    "name",
    "source",
    "source_note",
    "originals",
    "copies",
    "medium",
    "requirement",
    "applies_when",
    "is_key",
    "blank_form",
    "example",
    "commitment_allowed",
    "is_proof",
    "notes",
]


def material_dict(material) -> dict[str, Any]:
    data = {f: getattr(material, f) for f in MATERIAL_FIELDS}
    data["proof"] = material.proof.code if material.proof_id else None
    # Files by SHA-256: a changed file shows in the diff; an import may refer to an uploaded file.
    data["blank_form_file"] = material.blank_form_file.sha256 if material.blank_form_file_id else None
    data["example_file"] = material.example_file.sha256 if material.example_file_id else None
    return data


def version_dict(version: ItemVersion) -> dict[str, Any]:
    data: dict[str, Any] = {f: getattr(version, f) for f in VERSION_FIELDS}
    data["hall"] = version.hall.name if version.hall_id else None
    data["materials"] = [
        material_dict(m)
        for m in version.materials.select_related("proof", "blank_form_file", "example_file").all()
    ]
    data["steps"] = [
        {"name": s.name, "description": s.description, "days": float(s.days)} for s in version.steps.all()
    ]
    data["fees"] = [
        {
            "name": f.name,
            "standard": f.standard,
            "amount": float(f.amount) if f.amount is not None else None,
            "basis": f.basis,
        }
        for f in version.fees.all()
    ]
    data["situations"] = [
        {
            "key": q.key,
            "text": q.text,
            "options": [
                {
                    "key": o.key,
                    "label": o.label,
                    "condition_text": o.condition_text,
                    "extra_visits": o.extra_visits,
                }
                for o in q.options.all()
            ],
        }
        for q in version.questions.prefetch_related("options").all()
    ]
    return data


def field_label(name: str) -> str:
    labels = {
        "materials": "申请材料",
        "steps": "办理流程",
        "fees": "收费项目",
        "situations": "情形",
        "hall": "办理大厅",
    }
    if name in labels:
        return labels[name]
    try:
        return str(ItemVersion._meta.get_field(name).verbose_name)
    except Exception:
        return name


def diff_dicts(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    """Element-level differences: [{field, label, old, new}]. Lists (materials …) are compared by
    item name so a reworded material shows as removed + added."""
    old = old or {}
    changes: list[dict[str, Any]] = []
    for key, new_value in new.items():
        old_value = old.get(key)
        if old_value == new_value:
            continue
        if (
            isinstance(new_value, list)
            and new_value
            and isinstance(new_value[0], dict)
            and "name" in new_value[0]
        ):
            old_by_name = {x["name"]: x for x in old_value or []}
            new_by_name = {x["name"]: x for x in new_value}
            added = [n for n in new_by_name if n not in old_by_name]
            removed = [n for n in old_by_name if n not in new_by_name]
            changed = [n for n in new_by_name if n in old_by_name and new_by_name[n] != old_by_name[n]]
            changes.append(
                {
                    "field": key,
                    "label": field_label(key),
                    "added": added,
                    "removed": removed,
                    "changed": changed,
                }
            )
        else:
            changes.append({"field": key, "label": field_label(key), "old": old_value, "new": new_value})
    return changes
