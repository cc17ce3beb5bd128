"""Fixtures for identity tests: citizens, staff with verified TOTP sessions, demo-like regions."""

from __future__ import annotations

import itertools

import hypothesis  # noqa: F401  (imported up front: see below)
import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.helpers import make_citizen, make_staff, resident_id
from tongban.accounts.models import PopulationRecord

# hypothesis is imported above so that pytest's terminal summary does not import it for the first
# time while live-server threads are shutting down: on CPython 3.11.7 that intermittently
# crashed the run at the very end ("AST constructor recursion depth mismatch") after all passed.

_phones = itertools.count(13900000001)


@pytest.fixture
def next_phone():
    return lambda: str(next(_phones))


@pytest.fixture
def citizen(db, next_phone):
    return make_citizen(name="张小三", phone=next_phone(), id_number=resident_id(1), level=2)


@pytest.fixture
def population(db):
    """The local population source knows these residents (name, ID number)."""
    from tongban.accounts.crypto import blind_index

    people = [("李四", resident_id(2)), ("王五", resident_id(3))]
    for name, number in people:
        PopulationRecord.objects.create(name=name, id_index=blind_index(number, "resident-id"))
    return people


def verified_login(client, user):
    """Log in with a TOTP-verified session (what the staff login produces)."""
    client.force_login(user, backend="tongban.accounts.backends.PhoneOrUsernameBackend")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="测试令牌", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session["session_version"] = user.session_version
    session.save()
    return device


@pytest.fixture
def staff_client(client):
    def login(user):
        verified_login(client, user)
        return client

    return login


__all__ = ["make_citizen", "make_staff"]
