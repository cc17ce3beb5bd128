"""One form, one set of questions and one material list for a bundle (一表申请、一套材料).

* Form: the union of the included items' composed form schemas (catalog.forms_schema), one field
  per field name; a field is required when any item requires it.
* Situations: questions merged by key (the same "是否委托他人办理" is asked once); each child
  gets the answers to its own questions only.
* Materials: merged by proof-list entry when the material is a listed proof, otherwise by name;
  the same material is submitted once and attached to every child that needs it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from tongban.catalog.forms_schema import compose_schema
from tongban.catalog.models import Material
from tongban.catalog.services import evaluate_situations


def included_items(bundle_case) -> list:
    """The bundle's items this application covers: every fixed item plus the optional ones ticked."""
    chosen = {int(i) for i in bundle_case.selected or []}
    return [
        item
        for item in bundle_case.bundle.items.select_related(
            "implementation__basic_item", "implementation__organisation", "implementation__published_version"
        )
        if not item.optional or item.pk in chosen
    ]


def version_of(item):
    version = item.implementation.published_version
    if version is None:
        raise ValidationError(
            "“%(n)s”没有已发布的办事指南，暂不能申请。",
            code="item-not-published",
            params={"n": item.implementation.basic_item.name},
        )
    return version


# ------------------------------------------------------------------ form


def merged_schema(items) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for item in items:
        schema = compose_schema(version_of(item))
        for name, prop in schema.get("properties", {}).items():
            properties.setdefault(name, prop)
        required += [r for r in schema.get("required", []) if r not in required]
    return {"type": "object", "properties": properties, "required": required}


def child_form(version, form_data: dict[str, Any]) -> dict[str, Any]:
    """The part of the merged form one child's schema has."""
    names = compose_schema(version).get("properties", {})
    return {name: value for name, value in form_data.items() if name in names}


# ------------------------------------------------------------------ situations


@dataclass
class Question:
    key: str
    text: str
    options: list[tuple[str, str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


def merged_questions(items) -> list[Question]:
    found: dict[str, Question] = {}
    for item in items:
        for q in version_of(item).questions.prefetch_related("options"):
            merged = found.setdefault(q.key, Question(q.key, q.text))
            merged.items.append(item.implementation.basic_item.name)
            for option in q.options.all():
                if option.key not in {k for k, _ in merged.options}:
                    merged.options.append((option.key, option.label))
    return list(found.values())


def child_answers(version, answers: dict[str, str]) -> dict[str, str]:
    keys = {q.key for q in version.questions.all()}
    return {key: value for key, value in answers.items() if key in keys}


def check_answers(items, answers: dict[str, str]) -> None:
    """Unknown questions or options → ValidationError (the catalogue's own check, per child)."""
    known = {q.key for q in merged_questions(items)}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise ValidationError(
            "未知的情形问题：%(k)s", code="unknown-question", params={"k": "、".join(unknown)}
        )
    for item in items:
        version = version_of(item)
        evaluate_situations(version, child_answers(version, answers))


# ------------------------------------------------------------------ materials

_SPACES = re.compile(r"\s+")


def material_key(material: Material) -> str:
    """Stable, URL-safe identity of a merged material."""
    raw = f"proof:{material.proof.code}" if material.proof_id else _SPACES.sub("", material.name)
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


@dataclass
class MergedMaterial:
    key: str
    name: str
    is_key: bool = False
    needs_upload: bool = False
    commitment_allowed: bool = True
    source_label: str = ""
    notes: str = ""
    items: list[str] = field(default_factory=list)
    #: (BundleItem, catalogue Material) for every child that needs it
    uses: list[tuple[Any, Material]] = field(default_factory=list)


def merged_materials(items, answers: dict[str, str], *, all_situations: bool = False) -> list[MergedMaterial]:
    """The merged list for these answers (``all_situations``: every material any situation may
    call for, for the public guide)."""
    found: dict[str, MergedMaterial] = {}
    for item in items:
        version = version_of(item)
        if all_situations:
            materials = list(version.materials.select_related("proof"))
        else:
            materials = evaluate_situations(version, child_answers(version, answers)).materials
        for material in materials:
            key = material_key(material)
            merged = found.get(key)
            if merged is None:
                merged = found[key] = MergedMaterial(key=key, name=material.name)
            merged.items.append(item.implementation.basic_item.name)
            merged.uses.append((item, material))
            if material.source == Material.Source.APPLICANT:
                merged.needs_upload = True
                merged.is_key = merged.is_key or material.is_key
                merged.commitment_allowed = merged.commitment_allowed and material.commitment_allowed
                merged.notes = merged.notes or material.notes
            elif not merged.source_label:
                merged.source_label = material.get_source_display()
    for merged in found.values():
        if not merged.needs_upload:
            merged.commitment_allowed = False
    return list(found.values())


def visits(items) -> int:
    """到现场次数 for the whole bundle: 0 when every item is 零跑动, otherwise one visit to the one window."""
    return 0 if all(version_of(item).visits == 0 for item in items) else 1
