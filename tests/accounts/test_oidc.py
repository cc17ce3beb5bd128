"""Single sign-on: a real OIDC client library (Authlib) drives the authorization-code + PKCE flow
against the running server and verifies the ID token signature against the published JWKS."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings as django_settings
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet
from oauth2_provider.models import get_application_model

from tests.accounts.helpers import make_citizen, resident_id
from tongban.accounts import services
from tongban.accounts.crypto import blind_index
from tongban.accounts.models import Enterprise

pytestmark = [pytest.mark.urls("tests.accounts.urls_oidc"), pytest.mark.django_db(transaction=True)]

REDIRECT = "http://rp.example.test/callback"
LOGOUT_REDIRECT = "http://rp.example.test/bye"


@pytest.fixture(autouse=True)
def _insecure_transport(monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # live_server speaks plain http


@pytest.fixture
def department_system():
    Application = get_application_model()
    secret = secrets.token_urlsafe(24)
    app = Application.objects.create(
        name="不动产登记系统",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT,
        post_logout_redirect_uris=LOGOUT_REDIRECT,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
        client_secret=secret,
    )
    return app, secret


@pytest.fixture
def signed_in(live_server):
    """A citizen with an enterprise, signed in to the platform in a requests session."""
    person = make_citizen(name="陈法人", phone="13812345678", id_number=resident_id(7), level=2)
    enterprise = Enterprise.objects.create(
        name="六安示例科技有限公司",
        credit_code="91341500MA2N000001",
        legal_rep_name="陈法人",
        legal_rep_id_index=blind_index(resident_id(7), "resident-id"),
    )
    services.switch_identity(person, enterprise.pk)
    client = Client()
    client.force_login(person.user, backend="tongban.accounts.backends.PhoneOrUsernameBackend")
    browser = requests.Session()
    browser.cookies.set(
        django_settings.SESSION_COOKIE_NAME, client.cookies[django_settings.SESSION_COOKIE_NAME].value
    )
    return person, enterprise, browser


def run_flow(live_server, app, secret, browser, scope):
    discovery = requests.get(
        f"{live_server.url}/accounts/o/.well-known/openid-configuration", timeout=10
    ).json()
    rp = OAuth2Session(
        app.client_id,
        secret,
        scope=scope,
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = rp.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    # The user's browser (already signed in to the platform) follows the authorization URL.
    answer = browser.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    callback = answer.headers["Location"]
    assert callback.startswith(REDIRECT) and parse_qs(urlparse(callback).query)["state"] == [state]
    token = rp.fetch_token(
        discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    # Signature checked against the published JWKS (Authlib's JOSE successor, joserfc).
    jwks = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    decoded = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": discovery["issuer"]},
        aud={"essential": True, "value": app.client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(decoded.claims)
    claims = decoded.claims
    userinfo = rp.get(discovery["userinfo_endpoint"], timeout=10).json()
    return discovery, token, claims, userinfo


def test_discovery_document(live_server):
    doc = requests.get(f"{live_server.url}/accounts/o/.well-known/openid-configuration", timeout=10).json()
    assert doc["issuer"] == f"{live_server.url}/accounts/o"
    assert "RS256" in doc["id_token_signing_alg_values_supported"]
    assert "S256" in doc["code_challenge_methods_supported"]
    assert {"realname_level", "enterprise", "phone_number"} <= set(doc["claims_supported"])
    keys = requests.get(doc["jwks_uri"], timeout=10).json()["keys"]
    assert keys and keys[0]["kty"] == "RSA" and "d" not in keys[0]  # public part only


def test_full_flow_with_all_scopes(live_server, department_system, signed_in):
    app, secret = department_system
    person, enterprise, browser = signed_in
    _, _, claims, userinfo = run_flow(
        live_server, app, secret, browser, "openid profile phone realname enterprise"
    )
    assert claims["sub"] == str(person.user_id)
    assert claims["name"] == "陈法人" and claims["realname_level"] == 2
    assert claims["enterprise"]["credit_code"] == enterprise.credit_code
    assert claims["enterprise"]["role"] == "legal_representative"
    assert userinfo["phone_number"] == "13812345678" and userinfo["realname_level"] == 2
    assert resident_id(7) not in str(claims) + str(userinfo)  # the ID number never leaves


def test_claims_follow_the_granted_scopes(live_server, department_system, signed_in):
    app, secret = department_system
    _, _, claims, userinfo = run_flow(live_server, app, secret, signed_in[2], "openid")
    for claim in ("name", "phone_number", "realname_level", "enterprise"):
        assert claim not in claims and claim not in userinfo


def test_tampered_id_token_is_rejected(live_server, department_system, signed_in):
    app, secret = department_system
    discovery, token, _, _ = run_flow(live_server, app, secret, signed_in[2], "openid")
    header, payload, signature = token["id_token"].split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    jwks = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    with pytest.raises(Exception, match="signature"):
        jwt.decode(forged, jwks, algorithms=["RS256"])


def test_pkce_is_required(live_server, department_system, signed_in):
    app, _ = department_system
    url = (
        f"{live_server.url}/accounts/o/authorize/?response_type=code&client_id={app.client_id}"
        f"&redirect_uri={REDIRECT}&scope=openid&state=xyz"
    )
    answer = signed_in[2].get(url, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 400)
    assert "code=" not in answer.headers.get("Location", "")


def test_not_signed_in_goes_to_platform_login(live_server, department_system):
    app, _ = department_system
    rp = OAuth2Session(app.client_id, scope="openid", redirect_uri=REDIRECT, code_challenge_method="S256")
    url, _ = rp.create_authorization_url(
        f"{live_server.url}/accounts/o/authorize/", code_verifier=generate_token(48)
    )
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/accounts/login/")


def test_rp_initiated_logout_ends_platform_session(live_server, department_system, signed_in):
    app, secret = department_system
    browser = signed_in[2]
    _, token, _, _ = run_flow(live_server, app, secret, browser, "openid")
    answer = browser.get(
        f"{live_server.url}/accounts/o/logout/",
        params={
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": LOGOUT_REDIRECT,
            "client_id": app.client_id,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302 and answer.headers["Location"].startswith(LOGOUT_REDIRECT)
    assert (
        browser.get(f"{live_server.url}/accounts/me/", allow_redirects=False, timeout=10).status_code == 302
    )
