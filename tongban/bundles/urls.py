from django.urls import path

from tongban.bundles import views

app_name = "bundles"

urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.mine, name="mine"),
    path("c/<int:pk>/", views.detail, name="detail"),
    path("c/<int:pk>/items/", views.choose, name="choose"),
    path("c/<int:pk>/form/", views.form, name="form"),
    path("c/<int:pk>/materials/", views.materials, name="materials"),
    path("c/<int:pk>/materials/<str:key>/", views.upload, name="upload"),
    path("c/<int:pk>/check/", views.check, name="check"),
    path("c/<int:pk>/result.pdf", views.result, name="result"),
    path("workbench/", views.queue, name="workbench"),
    path("workbench/<int:pk>/", views.review, name="review"),
    path("<slug:code>/", views.guide, name="guide"),
    path("<slug:code>/apply/", views.start, name="start"),
]
