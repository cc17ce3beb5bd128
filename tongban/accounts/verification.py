"""Verification by social-security card (L2) and by enterprise credit code (seed 000 二(四)1).

Both ask a data-source adapter (tongban.accounts.adapters: social_security_source(),
legal_entity_registry()) and change nothing unless everything matches; every failure is a
Chinese ValidationError with a stable code and is written to the audit trail.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from tongban.accounts.adapters import legal_entity_registry, normalise_card_number, social_security_source
from tongban.accounts.models import Enterprise, Person, RealNameLevel
from tongban.core.audit import record_event
from tongban.core.identifiers import validate_credit_code

CARD_RE = re.compile(r"^[A-Z0-9]{9,20}$")


def _fail(person: Person, action: str, message: str, code: str, request, data=None):
    record_event(
        action, message, actor=person.user, obj=person, request=request, data={"code": code, **(data or {})}
    )
    raise ValidationError(message, code=code)


def raise_to_l2_by_social_security_card(
    person: Person, card_number: str, *, request: HttpRequest | None = None
) -> Person:
    """社会保障卡核验: the card number with the account's own name and ID number must match a
    valid card in the social-security source. Raises the person to L2."""
    if person.level >= RealNameLevel.L2:
        raise ValidationError("您已完成身份信息核验（L2 及以上），无需再次核验。", code="realname-already-l2")
    card = normalise_card_number(card_number)
    if not CARD_RE.match(card):
        raise ValidationError("社会保障卡卡号格式不正确：应为 9–20 位字母或数字。", code="ss-card-invalid")
    if not person.id_number:
        raise ValidationError("账号中没有身份证号码，请到窗口办理实名核验。", code="ss-card-no-id")
    if not social_security_source().matches(card, person.name, person.id_number):
        _fail(
            person,
            "accounts.realname_failed",
            "社会保障卡卡号与您的姓名、身份证号码不一致，或该卡已挂失、注销。请核对卡号或到人社窗口办理。",
            "ss-card-mismatch",
            request,
        )
    with transaction.atomic():
        person.level, person.verified_at = RealNameLevel.L2, timezone.now()
        person.verification_method = "社会保障卡核验"
        person.save(update_fields=["level", "verified_at", "verification_method"])
        record_event(
            "accounts.realname_l2",
            "实名等级提升至 L2（社会保障卡核验）",
            actor=person.user,
            obj=person,
            request=request,
        )
    return person


def add_enterprise_as_legal_rep(
    person: Person, *, credit_code: str, name: str, legal_rep_name: str, request: HttpRequest | None = None
) -> Enterprise:
    """法定代表人自助添加企业: credit code + enterprise name + legal representative's name must
    match the legal-entity registry, and the registered representative's ID number must be the
    (L2-verified) ID number of this person. Creates the Enterprise; the person is then its legal
    representative everywhere (services.enterprises_for)."""
    if person.level < RealNameLevel.L2 or not person.id_index:
        raise ValidationError("请先完成身份信息核验（L2），再添加企业。", code="realname-l2-required")
    code = validate_credit_code(credit_code)
    name = " ".join((name or "").split())
    rep_name = (legal_rep_name or "").strip()
    if not name or not rep_name:
        raise ValidationError("请填写企业名称和法定代表人姓名。", code="enterprise-fields-required")
    action = "accounts.enterprise_verify_failed"
    existing = Enterprise.objects.filter(credit_code=code).first()
    if existing is not None and existing.legal_rep_id_index == person.id_index:
        raise ValidationError(
            "该企业已关联到您的账号，可在“我的企业”中切换办事身份。", code="enterprise-already-linked"
        )
    entity = legal_entity_registry().lookup(code)
    if entity is None:
        _fail(
            person,
            action,
            "法人库中没有该统一社会信用代码，请核对。",
            "enterprise-not-found",
            request,
            {"credit_code": code},
        )
    if entity.name != name:
        _fail(
            person,
            action,
            "企业名称与法人库登记不一致，请按营业执照填写全称。",
            "enterprise-name-mismatch",
            request,
            {"credit_code": code},
        )
    if entity.legal_rep_name != rep_name:
        _fail(
            person,
            action,
            "法定代表人姓名与法人库登记不一致。",
            "enterprise-rep-name-mismatch",
            request,
            {"credit_code": code},
        )
    if not entity.active:
        _fail(
            person,
            action,
            "该企业已注销或被吊销，不能添加。",
            "enterprise-inactive",
            request,
            {"credit_code": code},
        )
    if entity.legal_rep_id_index != person.id_index or rep_name != person.name:
        _fail(
            person,
            action,
            "您不是该企业登记的法定代表人，不能自助添加。经办人请由法定代表人授权。",
            "enterprise-not-legal-rep",
            request,
            {"credit_code": code},
        )
    try:
        with transaction.atomic():
            if existing is not None:
                # Registered on the platform earlier with another (since changed) representative:
                # the registry is authoritative, so the representative follows it.
                existing.name, existing.legal_rep_name = entity.name, entity.legal_rep_name
                existing.legal_rep_id_index, existing.is_active = entity.legal_rep_id_index, True
                existing.save(update_fields=["name", "legal_rep_name", "legal_rep_id_index", "is_active"])
                enterprise = existing
            else:
                enterprise = Enterprise.objects.create(
                    name=entity.name,
                    credit_code=code,
                    legal_rep_name=entity.legal_rep_name,
                    legal_rep_id_index=entity.legal_rep_id_index,
                    region_id=entity.region_id,
                )
            record_event(
                "accounts.enterprise_add",
                f"法定代表人 {person.masked_name} 通过法人库核验添加企业 {enterprise.name}",
                actor=person.user,
                obj=enterprise,
                request=request,
                data={"credit_code": code, "source": legal_entity_registry().name},
            )
    except IntegrityError as exc:  # the same enterprise added twice at the same moment
        raise ValidationError("该企业刚刚已被添加，请刷新页面。", code="enterprise-already-linked") from exc
    return enterprise
