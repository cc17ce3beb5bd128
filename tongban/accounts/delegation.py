"""帮办代办 — a village helper acts for a citizen with the citizen's recorded consent.

Consent is either an SMS code sent to the citizen's own phone and read back to the helper, or a
signed paper form scanned at the station (JPEG/PNG/PDF by content, at most 10 MB). It is limited
in time (at most 30 days) and scope. While a helper is acting, ``acting_for(request)`` returns
the delegation and ``record_delegated_event`` writes the audit event with both people.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from tongban.accounts import smscodes
from tongban.accounts.models import Delegation, DelegationScope, Person, Role
from tongban.accounts.scope import has_role
from tongban.accounts.services import person_for_phone
from tongban.core.audit import record_event
from tongban.core.identifiers import validate_mobile

MAX_DAYS = 30
MAX_SCAN_BYTES = 10 * 1024 * 1024
SCAN_TYPES = {"image/jpeg", "image/png", "application/pdf"}
SESSION_KEY = "acting_for_delegation_id"


def _require_helper(helper) -> None:
    if not (has_role(helper, Role.VILLAGE_HELPER) or has_role(helper, Role.WINDOW_CLERK)):
        raise ValidationError("只有帮办代办员可以发起代办授权。", code="not-helper")


def _check_terms(scopes: list[str], valid_until: datetime) -> list[str]:
    scopes = sorted(set(scopes))
    if not scopes or any(s not in DelegationScope.values for s in scopes):
        raise ValidationError("请选择有效的代办范围。", code="delegation-scopes-invalid")
    now = timezone.now()
    if valid_until <= now:
        raise ValidationError("代办有效期必须晚于现在。", code="delegation-until-past")
    if valid_until > now + timedelta(days=MAX_DAYS):
        raise ValidationError(f"代办授权最长 {MAX_DAYS} 天。", code="delegation-until-too-long")
    return scopes


def find_citizen(phone: str) -> Person:
    person = person_for_phone(validate_mobile(phone))
    if person is None:
        raise ValidationError("未找到该手机号的注册群众，请先协助其注册。", code="citizen-unknown")
    return person


def request_sms_consent(
    *, helper, citizen: Person, scopes: list[str], valid_until: datetime, request: HttpRequest | None = None
) -> Delegation:
    """Create a pending delegation and text the citizen a confirmation code."""
    _require_helper(helper)
    scopes = _check_terms(scopes, valid_until)
    with transaction.atomic():
        delegation = Delegation.objects.create(
            helper=helper,
            citizen=citizen,
            scopes=scopes,
            valid_until=valid_until,
            consent_method=Delegation.Method.SMS,
        )
        record_event(
            "accounts.delegation_request",
            f"申请代 {citizen.masked_name} 办理（短信确认）",
            actor=helper,
            on_behalf_of=citizen.user,
            obj=delegation,
            request=request,
            data={"scopes": scopes},
        )
    smscodes.request_code(
        citizen.phone,
        smscodes.Purpose.DELEGATION,
        ip=request.META.get("REMOTE_ADDR") if request else None,
        helper=helper.display_name or helper.username,
        until=f"{timezone.localtime(valid_until):%Y-%m-%d %H:%M}",
    )
    return delegation


def confirm_sms_consent(
    *, helper, delegation: Delegation, code: str, request: HttpRequest | None = None
) -> Delegation:
    if delegation.helper_id != helper.pk or delegation.consent_method != Delegation.Method.SMS:
        raise ValidationError("该代办授权不属于您。", code="delegation-not-yours")
    if delegation.confirmed_at is not None:
        raise ValidationError("该代办授权已确认。", code="delegation-confirmed")
    smscodes.verify_code(delegation.citizen.phone, smscodes.Purpose.DELEGATION, code)
    with transaction.atomic():
        delegation.confirmed_at = timezone.now()
        delegation.save(update_fields=["confirmed_at"])
        record_event(
            "accounts.delegation_confirm",
            f"{delegation.citizen.masked_name} 短信确认代办授权",
            actor=helper,
            on_behalf_of=delegation.citizen.user,
            obj=delegation,
            request=request,
        )
    return delegation


def check_scan(upload: UploadedFile) -> str:
    """The scanned consent form: type decided by the content, never by the file name."""
    if upload.size > MAX_SCAN_BYTES:
        raise ValidationError("授权书扫描件不能超过 10 MB。", code="scan-too-large")
    head = upload.read(261)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in SCAN_TYPES:
        raise ValidationError("授权书扫描件须为 JPG、PNG 或 PDF 文件。", code="scan-type")
    return kind.extension


def record_paper_consent(
    *,
    helper,
    citizen: Person,
    scopes: list[str],
    valid_until: datetime,
    scan: UploadedFile,
    request: HttpRequest | None = None,
) -> Delegation:
    _require_helper(helper)
    scopes = _check_terms(scopes, valid_until)
    extension = check_scan(scan)
    with transaction.atomic():
        delegation = Delegation(
            helper=helper,
            citizen=citizen,
            scopes=scopes,
            valid_until=valid_until,
            consent_method=Delegation.Method.PAPER,
            confirmed_at=timezone.now(),
        )
        delegation.consent_file.save(f"consent.{extension}", scan, save=False)
        delegation.save()
        record_event(
            "accounts.delegation_confirm",
            f"登记 {citizen.masked_name} 纸质代办授权书",
            actor=helper,
            on_behalf_of=citizen.user,
            obj=delegation,
            request=request,
            data={"scopes": scopes},
        )
    return delegation


def revoke(*, by, delegation: Delegation, request: HttpRequest | None = None) -> None:
    if by.pk not in (delegation.helper_id, delegation.citizen.user_id):
        raise ValidationError("只有委托人或帮办代办员可以撤销。", code="delegation-not-yours")
    with transaction.atomic():
        delegation.revoked_at = timezone.now()
        delegation.save(update_fields=["revoked_at"])
        record_event(
            "accounts.delegation_revoke",
            f"撤销代 {delegation.citizen.masked_name} 办理的授权",
            actor=by,
            on_behalf_of=delegation.citizen.user,
            obj=delegation,
            request=request,
        )


def start_acting(request: HttpRequest, delegation: Delegation) -> None:
    if delegation.helper_id != request.user.pk or not delegation.is_current():
        raise ValidationError("代办授权未确认、已过期或已撤销。", code="delegation-not-current")
    request.session[SESSION_KEY] = delegation.pk
    record_event(
        "accounts.delegation_start",
        f"开始代 {delegation.citizen.masked_name} 办理",
        actor=request.user,
        on_behalf_of=delegation.citizen.user,
        obj=delegation,
        request=request,
    )


def stop_acting(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


def acting_for(request: HttpRequest) -> Delegation | None:
    """The delegation the signed-in helper is acting under now, re-checked on every call."""
    delegation_id = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not delegation_id or not request.user.is_authenticated:
        return None
    delegation = (
        Delegation.objects.select_related("citizen__user")
        .filter(pk=delegation_id, helper=request.user)
        .first()
    )
    if delegation is None or not delegation.is_current():
        request.session.pop(SESSION_KEY, None)
        return None
    return delegation


def require_delegation(request: HttpRequest, scope: str) -> Delegation:
    """For services that act for a citizen: the current delegation covering ``scope``, or an error."""
    delegation = acting_for(request)
    if delegation is None:
        raise ValidationError("当前没有有效的代办授权。", code="delegation-not-current")
    if scope not in delegation.scopes:
        raise ValidationError("代办授权不包含该事项范围。", code="delegation-scope")
    return delegation


def record_delegated_event(request: HttpRequest, action: str, summary: str, **kwargs):
    """Audit an action done for a citizen: actor = helper, on_behalf_of = citizen."""
    delegation = acting_for(request)
    on_behalf_of = delegation.citizen.user if delegation else None
    return record_event(
        action, summary, actor=request.user, on_behalf_of=on_behalf_of, request=request, **kwargs
    )
