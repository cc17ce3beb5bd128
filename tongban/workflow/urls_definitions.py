"""Process-definition pages, included under /workbench/processes/ (namespace ``processes``)."""

from django.urls import path

from tongban.workflow import views_definitions as views

app_name = "processes"
urlpatterns = [
    path("", views.definition_list, name="list"),
    path("new/", views.definition_create, name="create"),
    path("<slug:key>/", views.definition_detail, name="detail"),
    path("<slug:key>/draft/", views.draft_create, name="draft"),
    path("<slug:key>/edit/", views.draft_edit, name="edit"),
    path("<slug:key>/discard/", views.draft_discard, name="discard"),
    path("<slug:key>/publish/", views.draft_publish, name="publish"),
    path("<slug:key>/bind/", views.bind, name="bind"),
    path("<slug:key>/unbind/", views.unbind, name="unbind"),
]
