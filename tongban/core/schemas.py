"""Identifier types for django-ninja (pydantic) schemas, with the same Chinese messages as the forms.

    class ApplicantIn(Schema):
        id_number: ResidentId
        mobile: MobileNumber
        company_code: CreditCode | None = None

A value is normalised (``341502199001011239``, ``13800138000``, upper-case credit code). On a bad
value the validator raises ``ValueError(<Chinese message>)``; the API's error handler strips
pydantic's "Value error, " prefix, so the client sees exactly the message forms show.
"""

from __future__ import annotations

from typing import Annotated

from django.core.exceptions import ValidationError
from pydantic import AfterValidator, BeforeValidator

from tongban.core.identifiers import validate_credit_code, validate_mobile, validate_resident_id


def _as_text(value: object) -> object:
    # Accept numbers typed as JSON numbers (13800138000) as well as strings.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _wrap(validator):
    def run(value: str) -> str:
        try:
            result = validator(value)
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None
        return getattr(result, "number", result)

    return run


ResidentId = Annotated[str, BeforeValidator(_as_text), AfterValidator(_wrap(validate_resident_id))]
"""居民身份证号码 (18 digits, normalised; check digit and birth date verified)."""

CreditCode = Annotated[str, BeforeValidator(_as_text), AfterValidator(_wrap(validate_credit_code))]
"""统一社会信用代码 (18 characters, upper case; GB 32100 check character verified)."""

MobileNumber = Annotated[str, BeforeValidator(_as_text), AfterValidator(_wrap(validate_mobile))]
"""手机号码 (normalised to 11 digits)."""
