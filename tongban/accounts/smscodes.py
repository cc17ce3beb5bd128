"""短信验证码: 6 digits, hashed at rest, 5-minute expiry, single use, limited attempts, rate
limited per phone and per IP. Messages leave through the SMS gateway adapter."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from tongban.accounts.adapters import sms_gateway
from tongban.accounts.crypto import blind_index, keyed_hash
from tongban.accounts.models import SmsCode

logger = logging.getLogger(__name__)

Purpose = SmsCode.Purpose

_TEMPLATES = {
    Purpose.REGISTER: "【六安通办】您正在注册账号，验证码 {code}，{minutes} 分钟内有效。请勿告诉他人。",
    Purpose.LOGIN: "【六安通办】您正在登录，验证码 {code}，{minutes} 分钟内有效。请勿告诉他人。",
    Purpose.RESET: "【六安通办】您正在重置密码，验证码 {code}，{minutes} 分钟内有效。如非本人操作请忽略。",
    Purpose.DELEGATION: (
        "【六安通办】帮办代办员{helper}申请代您办理政务服务事项，有效期至{until}。同意请将验证码 {code} "
        "告知帮办代办员，{minutes} 分钟内有效；不同意请忽略。"
    ),
}


def _hash(phone_index: str, purpose: str, code: str) -> str:
    return keyed_hash(f"{phone_index}:{purpose}:{code}")


def request_code(phone: str, purpose: str, *, ip: str | None = None, **text_args: str) -> None:
    """Send a new code to ``phone`` (already normalised) or raise a Chinese ValidationError."""
    now = timezone.now()
    phone_index = blind_index(phone, "mobile")
    recent = SmsCode.objects.filter(phone_index=phone_index)
    interval = settings.SMS_PER_PHONE_INTERVAL_SECONDS
    if recent.filter(created_at__gt=now - timedelta(seconds=interval)).exists():
        raise ValidationError(f"验证码发送过于频繁，请 {interval} 秒后再试。", code="sms-too-frequent")
    day_ago = now - timedelta(days=1)
    if recent.filter(created_at__gt=day_ago).count() >= settings.SMS_PER_PHONE_PER_DAY:
        raise ValidationError("该手机号今日获取验证码次数已达上限，请明天再试。", code="sms-daily-limit")
    if (
        ip
        and SmsCode.objects.filter(ip_address=ip, created_at__gt=day_ago).count()
        >= settings.SMS_PER_IP_PER_DAY
    ):
        raise ValidationError("当前网络获取验证码次数过多，请稍后再试。", code="sms-ip-limit")
    code = f"{secrets.randbelow(1_000_000):06d}"
    ttl = settings.SMS_CODE_TTL_SECONDS
    SmsCode.objects.create(
        phone_index=phone_index,
        purpose=purpose,
        code_hash=_hash(phone_index, purpose, code),
        ip_address=ip,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    text = _TEMPLATES[Purpose(purpose)].format(code=code, minutes=ttl // 60, **text_args)
    sms_gateway().send(phone, text, purpose=purpose)
    logger.info("sms code sent purpose=%s phone=%s", purpose, phone)  # masked by the log filter


def verify_code(phone: str, purpose: str, code: str) -> None:
    """Consume the latest code for (phone, purpose) or raise a ValidationError.

    Runs in its own small writes (not inside the caller's transaction) so that a wrong attempt is
    counted even when the caller's work is rolled back.
    """
    phone_index = blind_index(phone, "mobile")
    latest = (
        SmsCode.objects.filter(phone_index=phone_index, purpose=purpose)
        .order_by("-created_at", "-id")
        .first()
    )
    if latest is None:
        raise ValidationError("请先获取短信验证码。", code="sms-code-missing")
    if latest.used_at is not None:
        raise ValidationError("验证码已使用，请重新获取。", code="sms-code-used")
    if latest.expires_at <= timezone.now():
        raise ValidationError("验证码已过期，请重新获取。", code="sms-code-expired")
    if latest.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
        raise ValidationError("验证码错误次数过多，请重新获取。", code="sms-code-locked")
    code = (code or "").strip()
    if not (
        len(code) == 6
        and code.isdigit()
        and hmac.compare_digest(latest.code_hash, _hash(phone_index, purpose, code))
    ):
        SmsCode.objects.filter(pk=latest.pk).update(attempts=F("attempts") + 1)
        logger.warning("wrong sms code purpose=%s", purpose)
        raise ValidationError("验证码不正确，请核对后重新输入。", code="sms-code-wrong")
    # Single use even under concurrency: only one UPDATE can flip used_at from NULL.
    if not SmsCode.objects.filter(pk=latest.pk, used_at__isnull=True).update(used_at=timezone.now()):
        raise ValidationError("验证码已使用，请重新获取。", code="sms-code-used")
