"""智慧审批 administration pages, included under /workbench/smart/ (namespace ``smart``)."""

from django.urls import path

from tongban.workflow import views_smart as views

app_name = "smart"
urlpatterns = [
    path("", views.item_list, name="list"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule-edit"),
    path("rules/<int:pk>/active/", views.rule_active, name="rule-active"),
    path("rules/<int:pk>/test/", views.rule_test, name="rule-test"),
    path("<str:code>/", views.item_detail, name="item"),
    path("<str:code>/suitable/", views.set_suitable, name="suitable"),
    path("<str:code>/rules/new/", views.rule_create, name="rule-create"),
]
