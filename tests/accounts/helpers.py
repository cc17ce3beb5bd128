"""Builders shared by the identity tests."""

from __future__ import annotations

import itertools

from django.utils import timezone

from tongban.accounts import services
from tongban.accounts.models import Person, User
from tongban.core.identifiers import resident_id_check_char

_usernames = itertools.count(1)


def resident_id(serial: int, region: str = "341502", birth: str = "19800101") -> str:
    """A valid 18-digit resident ID number (check digit computed)."""
    first17 = f"{region}{birth}{serial % 1000:03d}"
    return first17 + resident_id_check_char(first17)


def make_citizen(
    *, name: str, phone: str, id_number: str, level: int = 1, password: str = "Zz-secret-2024"
) -> Person:
    user = User(username=f"c-test-{next(_usernames)}", display_name=name)
    user.set_password(password)
    user.save()
    person = Person(user=user, name=name, level=level, verified_at=timezone.now(), verification_method="测试")
    person.set_phone(phone)
    person.set_id_number(id_number)
    person.save()
    return person


def make_staff(*, username: str, department, region=None, roles=(), password: str = "Staff-pass-2024"):
    profile = services.create_staff(
        username=username,
        name=f"员工{username}",
        department=department,
        region=region,
        roles=list(roles),
        password=password,
    )
    return profile.user
