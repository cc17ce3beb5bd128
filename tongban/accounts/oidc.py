"""单点登录 — the platform as OpenID Connect provider (django-oauth-toolkit, RS256).

Claims by scope, for department systems registered as clients:
  openid      sub (stable user id)
  profile     name (full name: the relying party is a government system that needs it),
              preferred_username
  phone       phone_number (full), phone_number_verified
  realname    realname_level (0–3), realname_verified_at, realname_method
  enterprise  enterprise {name, credit_code, role, scopes} for the identity the person is acting
              as (chosen at /accounts/me/ before going to the department system), or null
"""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator


def _person(request):
    return getattr(request.user, "person", None)


def _name(request):
    person = _person(request)
    if person is not None:
        return person.name
    staff = getattr(request.user, "staff_profile", None)
    return staff.name if staff is not None else (request.user.display_name or request.user.username)


def _phone(request):
    person = _person(request)
    return person.phone if person is not None and person.phone else None


def _level(request):
    person = _person(request)
    return int(person.level) if person is not None else 0


def _verified_at(request):
    person = _person(request)
    return int(person.verified_at.timestamp()) if person is not None and person.verified_at else None


def _method(request):
    person = _person(request)
    return person.verification_method if person is not None else ""


def _enterprise(request):
    """The enterprise the person last chose to act for (re-checked: an expired agent gets null)."""
    from tongban.accounts.services import enterprise_role

    person = _person(request)
    role = enterprise_role(person, person.acting_enterprise_id) if person is not None else None
    if role is None:
        return None
    return {
        "name": role.enterprise.name,
        "credit_code": role.enterprise.credit_code,
        "role": "legal_representative" if role.is_legal_rep else "agent",
        "scopes": list(role.scopes),
    }


class TongbanOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "realname_level": "realname",
        "realname_verified_at": "realname",
        "realname_method": "realname",
        "enterprise": "enterprise",
    }

    def get_additional_claims(self):
        return {
            "name": _name,
            "preferred_username": lambda r: r.user.username,
            "phone_number": _phone,
            "phone_number_verified": lambda r: _phone(r) is not None,
            "realname_level": _level,
            "realname_verified_at": _verified_at,
            "realname_method": _method,
            "enterprise": _enterprise,
        }
