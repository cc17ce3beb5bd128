from django.urls import path

from tongban.ledger import views

app_name = "ledger"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
]
