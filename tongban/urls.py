from django.contrib import admin
from django.urls import include, path

from tongban.api import api

admin.site.site_header = "通办 · 后台管理"
admin.site.site_title = "通办后台"
admin.site.index_title = "基础数据与配置"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # django-oauth-toolkit reverses its own "oauth2_provider" namespace, so it cannot nest in "accounts".
    path("accounts/o/", include("tongban.accounts.oidc_urls")),
    path("accounts/", include("tongban.accounts.urls")),
    path("services/", include("tongban.catalog.urls")),
    path("cases/", include("tongban.cases.urls")),
    path("supervision/", include("tongban.supervision.urls")),
    path("workbench/processes/", include("tongban.workflow.urls_definitions")),
    path("workbench/smart/", include("tongban.workflow.urls_smart")),
    path("workbench/tasks/", include("tongban.workflow.urls")),
    path("ledger/", include("tongban.ledger.urls")),
    path("bundles/", include("tongban.bundles.urls")),
    path("", include("tongban.core.urls")),
]

handler400 = "tongban.core.views.bad_request"
handler403 = "tongban.core.views.permission_denied"
handler404 = "tongban.core.views.page_not_found"
handler500 = "tongban.core.views.server_error"
