"""Declarative application forms: reusable field sets + item-specific fields → one JSON Schema.

The composed schema is a JSON Schema (draft 2020-12) object. Extension keywords:
``x-prefill`` (profile/shared-data attribute, e.g. "person.id_number"), ``x-help`` (help text),
``x-fieldset`` (which field set a property came from) and ``x-order`` (display order).
"""

from __future__ import annotations

from typing import Any

import jsonschema
from django.core.cache import cache
from django.core.exceptions import ValidationError

PREFILL_ATTRIBUTES = {
    "person.name",
    "person.id_number",
    "person.mobile",
    "person.address",
    "person.gender",
    "person.birth_date",
    "person.household_address",
    "enterprise.name",
    "enterprise.credit_code",
    "enterprise.legal_representative",
    "enterprise.address",
    "enterprise.registered_capital",
    "agent.name",
    "agent.id_number",
    "agent.mobile",
}


def compose_schema(version) -> dict[str, Any]:
    """The version's whole form: its field sets and its own fields, checked. A published
    version's form comes from the cache (every draft save, submission and answer about a case
    asks); the key carries ``queries.PAGES``, bumped by any catalogue or field-set save."""
    from tongban.catalog.models import ItemVersion
    from tongban.catalog.queries import PAGE_CACHE_SECONDS, PAGES

    if version.status != ItemVersion.Status.PUBLISHED:
        return _compose_schema(version)
    key = f"catalog:form:{PAGES.current()}:{version.pk}"
    # An invalid form raises, and is not kept.
    return cache.get_or_set(key, lambda: _compose_schema(version), PAGE_CACHE_SECONDS)


def _compose_schema(version) -> dict[str, Any]:
    from tongban.catalog.models import FieldSet

    properties: dict[str, Any] = {}
    required: list[str] = []
    keys = version.form_field_sets.split()
    sets = {fs.key: fs for fs in FieldSet.objects.filter(key__in=keys)}
    missing = [k for k in keys if k not in sets]
    if missing:
        raise ValidationError(
            "申请表引用了不存在的字段组：%(k)s", code="unknown-field-set", params={"k": "、".join(missing)}
        )
    order = 0
    parts = [(k, sets[k].schema) for k in keys]
    if version.form_schema:
        parts.append(("item", version.form_schema))
    for source, schema in parts:
        for name, prop in (schema.get("properties") or {}).items():
            order += 1
            properties[name] = {**prop, "x-fieldset": source, "x-order": order}
        required += [r for r in schema.get("required", []) if r not in required]
    composed = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
    }
    try:
        jsonschema.Draft202012Validator.check_schema(composed)
    except jsonschema.SchemaError as exc:
        raise ValidationError(
            "申请表定义不是有效的 JSON Schema：%(e)s", code="invalid-form-schema", params={"e": exc.message}
        ) from exc
    unknown = sorted({p["x-prefill"] for p in properties.values() if "x-prefill" in p} - PREFILL_ATTRIBUTES)
    if unknown:
        raise ValidationError(
            "申请表字段的预填属性无效：%(u)s", code="unknown-prefill", params={"u": "、".join(unknown)}
        )
    return composed


def validate_submission(version, data: dict[str, Any]) -> list[dict[str, str]]:
    """Problems in an applicant's form data: [{field, message}] (used by the applications issue)."""
    schema = compose_schema(version)
    problems = []
    for error in jsonschema.Draft202012Validator(schema).iter_errors(data):
        field = ".".join(str(p) for p in error.path) or (
            error.message.split("'")[1] if error.validator == "required" else ""
        )
        title = schema["properties"].get(field, {}).get("title", field)
        message = f"请填写{title}" if error.validator == "required" else f"{title}格式不正确"
        problems.append({"field": field, "message": message})
    return problems
