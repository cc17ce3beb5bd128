"""Staff two-factor (TOTP via django-otp): enrolment with a QR code, verification."""

from __future__ import annotations

import base64
from urllib.parse import quote

import segno
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device being enrolled (created on first visit, reused until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="手机令牌", confirmed=False)


def secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def provisioning_uri(device: TOTPDevice) -> str:
    issuer = getattr(settings, "OTP_TOTP_ISSUER", "tongban")
    label = quote(f"{issuer}:{device.user.username}")
    return f"otpauth://totp/{label}?secret={secret_base32(device)}&issuer={quote(issuer)}&digits=6&period=30"


def qr_data_uri(device: TOTPDevice) -> str:
    """SVG QR code as a data: URI (the CSP allows data: images; nothing leaves the server)."""
    return segno.make(provisioning_uri(device), error="m").svg_data_uri(scale=5)
