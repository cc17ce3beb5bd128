from django.urls import path

from tongban.cases import views

app_name = "cases"

urlpatterns = [
    path("apply/<str:code>/", views.start, name="start"),
    path("a/<int:pk>/", views.detail, name="detail"),
    path("a/<int:pk>/situations/", views.situations, name="situations"),
    path("a/<int:pk>/form/", views.form, name="form"),
    path("a/<int:pk>/materials/", views.materials, name="materials"),
    path("a/<int:pk>/materials/<int:material_id>/", views.upload, name="upload"),
    path("a/<int:pk>/check/", views.check, name="check"),
    path("a/<int:pk>/refusal.pdf", views.refusal_notice, name="refusal_notice"),
    path("mine/", views.mine, name="mine"),
    path("progress/", views.progress, name="progress"),
    path("workbench/", views.queue, name="queue"),
    path("workbench/<int:pk>/", views.review, name="review"),
    path("workbench/register/", views.register, name="register"),
    path("workbench/helper/", views.helper_apply, name="helper"),
]
