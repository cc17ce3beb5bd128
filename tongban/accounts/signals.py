"""Every login, whatever view performed it (ours, the admin's, a test client), stamps the
session with the user's session version and records the device."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    from tongban.accounts.services import record_login

    record_login(request, user, getattr(request, "login_method", "") or "密码")
