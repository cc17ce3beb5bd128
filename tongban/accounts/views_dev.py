"""Development-only pages: the SMS outbox and the face-verification simulator.

Available when DEBUG is on, or to superusers (for demonstrations on a production-like box)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tongban.accounts.adapters import LocalFaceVerifier
from tongban.accounts.models import SmsMessage


def _dev_allowed(request: HttpRequest) -> None:
    if not (settings.DEBUG or (request.user.is_authenticated and request.user.is_superuser)):
        raise Http404("仅开发环境可用")


def sms_outbox(request: HttpRequest) -> HttpResponse:
    _dev_allowed(request)
    items = SmsMessage.objects.all()[:50]
    return render(request, "accounts/dev_sms_outbox.html", {"items": items})


@login_required
def face_simulator(request: HttpRequest) -> HttpResponse:
    """STAND-IN for a real liveness provider: pretend the camera check passed (or failed)."""
    _dev_allowed(request)
    if request.method == "POST":
        live = request.POST.get("result") == "pass"
        token = LocalFaceVerifier.issue(request.user.pk, live=live, score=0.97 if live else 0.2)
        return redirect(f"/accounts/me/face/?face_token={token}")
    return render(request, "accounts/dev_face.html", {})
