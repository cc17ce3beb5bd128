from django.urls import path

from tongban.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("display/elder-mode/", views.toggle_elder_mode, name="elder-mode"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
