"""Adapters at the edge (ARCHITECTURE.md): SMS gateway, population data source (L2), face
verification (L3). Each is a small interface with a registry; the "local" implementation really
runs and is what development and tests use. Pick one with settings SMS_GATEWAY /
POPULATION_SOURCE / FACE_VERIFIER.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core import signing
from django.utils import timezone

# ---- SMS ---------------------------------------------------------------------------------------


class SmsGateway(Protocol):
    name: str

    def send(self, phone: str, text: str, purpose: str = "") -> None: ...


class LocalSmsGateway:
    """Writes the message to the SmsMessage outbox (shown at /accounts/dev/sms-outbox/)."""

    name = "local"

    def send(self, phone: str, text: str, purpose: str = "") -> None:
        from tongban.accounts.crypto import blind_index
        from tongban.accounts.models import SmsMessage

        message = SmsMessage(text=text, purpose=purpose, gateway=self.name, sent_at=timezone.now())
        message.phone = phone
        message.phone_index = blind_index(phone, "mobile")
        message.save()


SMS_GATEWAYS: dict[str, type] = {"local": LocalSmsGateway}


def sms_gateway() -> SmsGateway:
    return SMS_GATEWAYS[settings.SMS_GATEWAY]()


# ---- Population data source (L2) --------------------------------------------------------------


class PopulationSource(Protocol):
    name: str

    def matches(self, name: str, id_number: str) -> bool: ...


class LocalPopulationSource:
    """Looks the pair up in PopulationRecord (seeded by demo data); the data-exchange module
    will register a source backed by the real population database."""

    name = "local"

    def matches(self, name: str, id_number: str) -> bool:
        from tongban.accounts.crypto import blind_index
        from tongban.accounts.models import PopulationRecord

        return PopulationRecord.objects.filter(
            name=name.strip(), id_index=blind_index(id_number, "resident-id")
        ).exists()


POPULATION_SOURCES: dict[str, type] = {"local": LocalPopulationSource}


def population_source() -> PopulationSource:
    return POPULATION_SOURCES[settings.POPULATION_SOURCE]()


# ---- Social-security card data source (L2 by card) ------------------------------------------


def normalise_card_number(value: str) -> str:
    """社会保障卡卡号: letters and digits, compared upper-case without spaces."""
    return "".join((value or "").split()).upper()


class SocialSecuritySource(Protocol):
    name: str

    def matches(self, card_number: str, name: str, id_number: str) -> bool: ...


class LocalSocialSecuritySource:
    """Looks the card up in SocialSecurityCardRecord (seeded by demo data); the data-exchange
    module will register a source backed by the human-resources and social-security card
    database. Only a valid card whose holder's name and ID number both match counts."""

    name = "local"

    def matches(self, card_number: str, name: str, id_number: str) -> bool:
        from tongban.accounts.crypto import blind_index
        from tongban.accounts.models import SocialSecurityCardRecord

        return SocialSecurityCardRecord.objects.filter(
            card_index=blind_index(normalise_card_number(card_number), "ss-card"),
            name=name.strip(),
            id_index=blind_index(id_number, "resident-id"),
            is_valid=True,
        ).exists()


SOCIAL_SECURITY_SOURCES: dict[str, type] = {"local": LocalSocialSecuritySource}


def social_security_source() -> SocialSecuritySource:
    return SOCIAL_SECURITY_SOURCES[getattr(settings, "SOCIAL_SECURITY_SOURCE", "local")]()


# ---- Legal-entity registry (enterprise verification) -----------------------------------------


@dataclass(frozen=True)
class LegalEntity:
    credit_code: str
    name: str
    legal_rep_name: str
    legal_rep_id_index: str
    region_id: int | None
    active: bool


class LegalEntityRegistry(Protocol):
    name: str

    def lookup(self, credit_code: str) -> LegalEntity | None: ...


class LocalLegalEntityRegistry:
    """Reads LegalEntityRecord (seeded by demo data); stands in for the market-supervision
    registry that the data-exchange module will connect."""

    name = "local"

    def lookup(self, credit_code: str) -> LegalEntity | None:
        from tongban.accounts.models import LegalEntityRecord

        row = LegalEntityRecord.objects.filter(credit_code=credit_code).first()
        if row is None:
            return None
        return LegalEntity(
            row.credit_code,
            row.name,
            row.legal_rep_name,
            row.legal_rep_id_index,
            row.region_id,
            row.status == "active",
        )


LEGAL_ENTITY_REGISTRIES: dict[str, type] = {"local": LocalLegalEntityRegistry}


def legal_entity_registry() -> LegalEntityRegistry:
    return LEGAL_ENTITY_REGISTRIES[getattr(settings, "LEGAL_ENTITY_REGISTRY", "local")]()


# ---- Face verification (L3) -------------------------------------------------------------------


@dataclass(frozen=True)
class FaceResult:
    passed: bool
    provider: str
    score: float


class FaceVerifier(Protocol):
    name: str

    def verify(self, token: str, user_id: int) -> FaceResult: ...


FACE_TOKEN_SALT = "tongban.accounts.face-liveness"
FACE_TOKEN_MAX_AGE = 600


class LocalFaceVerifier:
    """DEVELOPMENT STAND-IN for a real liveness/face-comparison provider.

    The development page /accounts/dev/face/ issues a signed token saying "user N passed with
    score S"; this verifier checks the signature, the user and the age. A real provider
    returns its own signed result, verified the same way through this interface.
    """

    name = "local"

    def verify(self, token: str, user_id: int) -> FaceResult:
        try:
            data = signing.loads(token, salt=FACE_TOKEN_SALT, max_age=FACE_TOKEN_MAX_AGE)
        except signing.BadSignature:
            return FaceResult(False, self.name, 0.0)
        ok = data.get("user") == user_id and data.get("live") is True and float(data.get("score", 0)) >= 0.8
        return FaceResult(ok, self.name, float(data.get("score", 0)))

    @staticmethod
    def issue(user_id: int, live: bool = True, score: float = 0.97) -> str:
        return signing.dumps({"user": user_id, "live": live, "score": score}, salt=FACE_TOKEN_SALT)


FACE_VERIFIERS: dict[str, type] = {"local": LocalFaceVerifier}


def face_verifier() -> FaceVerifier:
    return FACE_VERIFIERS[settings.FACE_VERIFIER]()
