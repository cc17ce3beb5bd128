"""tongban.urls plus the OIDC provider at accounts/o/ (until tongban/urls.py mounts it itself)."""

from django.urls import include, path

from tongban import urls as root

handler400 = root.handler400
handler403 = root.handler403
handler404 = root.handler404
handler500 = root.handler500

_mounted = any(getattr(p, "namespace", None) == "oauth2_provider" for p in root.urlpatterns)
urlpatterns = ([] if _mounted else [path("accounts/o/", include("tongban.accounts.oidc_urls"))]) + list(
    root.urlpatterns
)
