from django.urls import path

from tongban.supervision import views

app_name = "supervision"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/", views.case_list, name="cases"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("tasks/", views.task_list, name="tasks"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/ack/", views.alert_ack, name="alert_ack"),
    path("notices/", views.notice_list, name="notices"),
    path("notices/<int:pk>/", views.notice_detail, name="notice"),
    path("stats/", views.statistics, name="stats"),
    path("screen/", views.screen, name="screen"),
    path("screen/data.json", views.screen_json, name="screen_data"),
    path("complaints/", views.complaint_list, name="complaints"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint"),
    path("complain/", views.complain, name="complain"),
    path("complain/mine/", views.my_complaints, name="my_complaints"),
]
