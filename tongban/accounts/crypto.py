"""Personal data at rest: encryption for ID numbers and phones, keyed blind indexes for lookups.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, random IV), so the same ID number
encrypts differently every time; equality lookups and uniqueness use a separate keyed
HMAC-SHA256 "blind index" of the normalised value. Keys come from settings
FIELD_ENCRYPTION_KEY / BLIND_INDEX_KEY; in development they are derived from SECRET_KEY
(``manage.py check --deploy`` insists on real keys, see checks.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


def _derive(label: str) -> bytes:
    return hashlib.sha256(f"tongban:{label}:{settings.SECRET_KEY}".encode()).digest()


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode() if key else base64.urlsafe_b64encode(_derive("field-encryption")))


def _blind_key() -> bytes:
    key = settings.BLIND_INDEX_KEY
    return key.encode() if key else _derive("blind-index")


def encrypt(value: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key or tampered column: never return garbage
        raise ValueError("encrypted value cannot be decrypted with the configured key") from exc


def blind_index(value: str, purpose: str) -> str:
    """Keyed HMAC of the normalised value; ``purpose`` keeps ID and phone indexes unlinkable."""
    return hmac.new(_blind_key(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def keyed_hash(value: str) -> str:
    """For short secrets such as SMS codes and tokens: not reversible, not guessable offline."""
    return hmac.new(_derive("secret-hash"), value.encode(), hashlib.sha256).hexdigest()


class EncryptedCharField(models.TextField):
    """Text column holding a Fernet token; Python side sees the clear value.

    Never filter on it (the ciphertext is randomised): filter on the blind index column instead.
    """

    description = "Encrypted text"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
