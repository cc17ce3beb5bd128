from django.urls import path

from tongban.catalog import manage_views, views

app_name = "catalog"
urlpatterns = [
    path("", views.index, name="index"),
    path("search/", views.search, name="search"),
    path("departments/", views.departments, name="departments"),
    path("departments/<int:pk>/", views.department, name="department"),
    path("manage/", manage_views.manage_index, name="manage"),
    path("manage/report/", manage_views.manage_report, name="manage-report"),
    path("manage/import/", manage_views.manage_import, name="manage-import"),
    path("manage/<str:code>/", manage_views.manage_item, name="manage-item"),
    path("manage/<str:code>/draft/", manage_views.manage_new_draft, name="manage-draft"),
    path("manage/<str:code>/edit/", manage_views.manage_edit, name="manage-edit"),
    path("manage/<str:code>/submit/", manage_views.manage_submit, name="manage-submit"),
    path("manage/<str:code>/review/", manage_views.manage_review, name="manage-review"),
    path("manage/<str:code>/publish/", manage_views.manage_publish, name="manage-publish"),
    path("<str:code>/", views.guide, name="guide"),
    path("<str:code>/guide/", views.situation_guide, name="situation"),
    path(
        "<str:code>/materials/<int:material_id>/<str:kind>/",
        views.material_file,
        name="material-file",
    ),
]
