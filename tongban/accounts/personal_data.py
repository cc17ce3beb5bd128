"""个人信息查看 — staff see ID numbers and phones masked; the full value is revealed one field at
a time, for a stated purpose, only within the staff member's data scope, and every reveal is
written to the audit trail (who, whose, which field, why).

    from tongban.accounts.personal_data import reveal_personal_data
    number = reveal_personal_data(request.user, person, "id_number", "核验身份", request=request)

Coverage: the person themself; system administrators; staff whose data scope
(tongban.accounts.scope) covers the region of the person's household registration (the region
code in the ID number, or a region above it) or one of the person's applications.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from tongban.accounts.crypto import blind_index
from tongban.accounts.models import Person, Role
from tongban.accounts.scope import scope_for
from tongban.core.audit import record_event
from tongban.core.models import Region

FIELDS = {"id_number": "身份证号码", "phone": "手机号码"}
# Roles whose work involves serving or checking people (catalogue administrators do not).
PERSON_ROLES = frozenset(
    {
        Role.WINDOW_CLERK,
        Role.APPROVER,
        Role.DEPARTMENT_HEAD,
        Role.SUPERVISOR,
        Role.HOTLINE_AGENT,
        Role.HALL_MANAGER,
        Role.VILLAGE_HELPER,
        Role.DATA_OFFICER,
        Role.SYSTEM_ADMIN,
    }
)


def household_region(person: Person) -> Region | None:
    """The most specific known region of the ID number's 6-digit code (county, else city, else
    province) — the person's household registration as far as the reference data knows it."""
    number = person.id_number or ""
    if len(number) < 6:
        return None
    code = number[:6]
    for candidate in (code, code[:4] + "00", code[:2] + "0000"):
        region = Region.objects.filter(code=candidate).first()
        if region is not None:
            return region
    return None


def covers(actor, person: Person) -> bool:
    """May ``actor`` see this person's unmasked personal data?"""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    if person.user_id == actor.pk:
        return True
    scope = scope_for(actor)
    if scope.sees_everything:
        return True
    if not (scope.roles & PERSON_ROLES) or scope.region_path is None:
        return False
    region = household_region(person)
    if region is not None and region.path.startswith(scope.region_path):
        return True
    # A person from elsewhere who applied here: one of their applications is in the actor's scope.
    try:
        Application = apps.get_model("cases", "Application")
    except LookupError:
        return False
    mine = Application.objects.filter(applicant_person=person)
    return scope.filter(mine, region_field="region", department_field="department").exists()


def reveal_personal_data(
    actor, person: Person, field: str, purpose: str, *, request: HttpRequest | None = None
) -> str:
    """The unmasked value of ``field`` ("id_number" or "phone"), audited with ``purpose``.
    Refusals are audited too (a clerk probing outside their scope is worth knowing about)."""
    if field not in FIELDS:
        raise ValidationError("只能查看身份证号码或手机号码。", code="reveal-field-invalid")
    purpose = " ".join((purpose or "").split())
    if len(purpose) < 2:
        raise ValidationError("请填写查看完整号码的事由，例如“核验身份”。", code="reveal-purpose-required")
    if not covers(actor, person):
        record_event(
            "accounts.personal_data_refused",
            f"拒绝查看 {person.masked_name} 的完整{FIELDS[field]}：不在数据权限范围内",
            actor=actor,
            obj=person,
            request=request,
            data={"field": field, "purpose": purpose[:100]},
        )
        raise ValidationError("该群众不在您的数据权限范围内，不能查看完整号码。", code="reveal-out-of-scope")
    with transaction.atomic():
        record_event(
            "accounts.personal_data_reveal",
            f"查看 {person.masked_name} 的完整{FIELDS[field]}，事由：{purpose[:100]}",
            actor=actor,
            obj=person,
            request=request,
            data={"field": field, "purpose": purpose[:100]},
        )
    return getattr(person, field) or ""


def find_person(query: str) -> Person | None:
    """窗口查询: an exact phone or ID number (blind index lookup, nothing partial)."""
    from tongban.core.identifiers import validate_mobile, validate_resident_id

    value = "".join((query or "").split()).upper()
    if len(value) == 11 and value.isdigit():
        phone = validate_mobile(value)
        return Person.objects.select_related("user").filter(phone_index=blind_index(phone, "mobile")).first()
    if len(value) == 18:
        number = validate_resident_id(value).number
        return (
            Person.objects.select_related("user").filter(id_index=blind_index(number, "resident-id")).first()
        )
    raise ValidationError("请输入完整的 11 位手机号码或 18 位公民身份号码。", code="lookup-query-invalid")
