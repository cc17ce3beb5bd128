from django.urls import path

from tongban.workflow import views

app_name = "workflow"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:pk>/", views.task_detail, name="task"),
    path("extensions/<int:pk>/", views.decide_extension, name="decide_extension"),
    path("results/<int:pk>.pdf", views.result_download, name="result"),
    path("cases/<int:pk>/pauses/<int:pause_id>.pdf", views.pause_notice, name="pause_notice"),
]
