"""Identity checks on every request: "log out everywhere" (session version) and the staff
two-factor rule (a staff account with a password-only session can reach nothing but the TOTP
step)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django_otp.middleware import OTPMiddleware as BaseOTPMiddleware

from tongban.accounts import identity

# Paths a staff member may reach before entering the TOTP code.
OTP_EXEMPT_PREFIXES = (
    "/accounts/staff/",
    "/accounts/logout/",
    "/static/",
    "/healthz",
    "/readyz",
    "/favicon.ico",
)


def requires_otp(user) -> bool:
    """Staff (a staff profile, Django admin access or superuser) must use TOTP."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    cached = getattr(user, "_tongban_is_staff", None)
    if cached is None:
        from tongban.accounts.models import StaffProfile

        cached = StaffProfile.objects.filter(user=user, is_active=True).exists()
        user._tongban_is_staff = cached
    return cached


class OTPMiddleware(BaseOTPMiddleware):
    """django-otp's middleware, with the session's verified device from the identity cache."""

    def _device_from_persistent_id(self, persistent_id: str):
        return identity.otp_device(
            persistent_id, lambda: super(OTPMiddleware, self)._device_from_persistent_id(persistent_id)
        )


class IdentityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            identity.prime(user)
            if request.session.get("session_version", 0) != user.session_version:
                logout(request)
                return redirect("accounts:login")
            if (
                requires_otp(user)
                and not user.is_verified()
                and not request.path.startswith(OTP_EXEMPT_PREFIXES)
            ):
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"code": "otp-required", "message": "工作人员须先完成动态口令验证。"}, status=403
                    )
                return redirect("accounts:staff_otp")
        return self.get_response(request)
