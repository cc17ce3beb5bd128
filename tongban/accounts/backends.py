"""Authentication backends: citizens sign in with their phone number, staff with a username."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from tongban.accounts.crypto import blind_index


def _looks_like_phone(value: str) -> bool:
    return len(value) == 11 and value.isdigit() and value.startswith("1")


def user_for_phone(phone: str):
    from tongban.accounts.models import Person

    person = Person.objects.select_related("user").filter(phone_index=blind_index(phone, "mobile")).first()
    return person.user if person else None


class PhoneOrUsernameBackend(ModelBackend):
    """Password check by phone (looked up through the blind index) or by username."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = (username or kwargs.get(get_user_model().USERNAME_FIELD) or "").strip()
        if not username or password is None:
            return None
        if _looks_like_phone(username):
            user = user_for_phone(username)
            if user is None:
                get_user_model()().set_password(password)  # same timing as a wrong password
                return None
            if user.check_password(password) and self.user_can_authenticate(user):
                return user
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def axes_username(request, credentials) -> str:
    """What django-axes records as the "username": phones only as a blind index."""
    value = ""
    if credentials:
        value = str(credentials.get("username", "") or "")
    if not value and request is not None:
        value = request.POST.get("username", "")
    value = value.strip()
    return "手机:" + blind_index(value, "mobile")[:16] if _looks_like_phone(value) else value
