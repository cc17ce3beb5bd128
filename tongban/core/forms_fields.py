"""Django form fields for national identifiers: clean to the normalised value, errors in Chinese."""

from __future__ import annotations

from typing import Any

from django import forms

from tongban.core.identifiers import IdCheck, validate_credit_code, validate_mobile, validate_resident_id


class _IdentifierField(forms.CharField):
    default_error_messages = {"required": "此项为必填项。"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)  # room for spaces and "+86 " a user may type
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.setdefault("autocomplete", "off")
        attrs.setdefault("spellcheck", "false")
        return attrs

    def validate_identifier(self, value: str) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value in self.empty_values:
            return ""
        return self.validate_identifier(value)


class ResidentIdField(_IdentifierField):
    """居民身份证号码. After ``clean`` the region warning (if any) is in ``field.last_check.warnings``."""

    last_check: IdCheck | None = None

    def validate_identifier(self, value: str) -> str:
        check = validate_resident_id(value)
        self.last_check = check
        return check.number


class CreditCodeField(_IdentifierField):
    """统一社会信用代码."""

    def validate_identifier(self, value: str) -> str:
        return validate_credit_code(value)


class MobileNumberField(_IdentifierField):
    """手机号码 (11 digits after cleaning)."""

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs["inputmode"] = "tel"
        attrs["autocomplete"] = "tel"
        return attrs

    def validate_identifier(self, value: str) -> str:
        return validate_mobile(value)
