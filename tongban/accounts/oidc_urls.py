"""OpenID Connect provider URLs (django-oauth-toolkit), mounted by tongban/urls.py as
``path("accounts/o/", include("tongban.accounts.oidc_urls"))``.

Issuer: <site>/accounts/o; discovery: /accounts/o/.well-known/openid-configuration; JWKS:
/accounts/o/.well-known/jwks.json; authorize/, token/, userinfo/, logout/ (RP-initiated),
revoke_token/, introspect/. Client registration is a workbench page, so the toolkit's own
management views are not mounted.
"""

from oauth2_provider import urls as oauth2_urls

app_name = "oauth2_provider"
urlpatterns = oauth2_urls.base_urlpatterns + oauth2_urls.oidc_urlpatterns
