from django.urls import path

from tongban.accounts import views, views_dev, views_staff

app_name = "accounts"

# The OpenID Connect provider lives in tongban/accounts/oidc_urls.py: it must be included at the
# root (namespace "oauth2_provider", which the toolkit reverses), as "accounts/o/".

urlpatterns = [
    path("register/", views.register, name="register"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("me/", views.me, name="me"),
    path("me/level/", views.raise_level, name="raise_level"),
    path("me/level/ss-card/", views.raise_level_ss_card, name="raise_level_ss_card"),
    path("me/enterprises/add/", views.enterprise_add, name="enterprise_add"),
    path("me/face/", views.face_start, name="face"),
    path("me/switch/", views.switch, name="switch"),
    path("me/sessions/end/", views.end_session, name="end_session"),
    path("me/logout-everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("me/elder-mode/", views.elder_mode, name="elder_mode"),
    path("me/tokens/", views.create_token, name="create_token"),
    path("enterprises/<int:pk>/agents/", views.enterprise_agents, name="enterprise_agents"),
    path("agents/<int:pk>/revoke/", views.agent_revoke, name="agent_revoke"),
    path("staff/login/", views_staff.staff_login, name="staff_login"),
    path("staff/otp/", views_staff.staff_otp, name="staff_otp"),
    path("workbench/", views_staff.workbench, name="workbench"),
    path("workbench/staff/", views_staff.staff_list, name="wb_staff"),
    path("workbench/staff/new/", views_staff.staff_new, name="wb_staff_new"),
    path("workbench/staff/<int:pk>/", views_staff.staff_detail, name="wb_staff_detail"),
    path("workbench/staff/<int:pk>/edit/", views_staff.staff_edit, name="wb_staff_edit"),
    path("workbench/staff/<int:pk>/account/", views_staff.staff_account, name="wb_staff_account"),
    path("workbench/persons/", views_staff.person_lookup, name="wb_persons"),
    path("workbench/persons/<int:pk>/reveal/", views_staff.person_reveal, name="wb_person_reveal"),
    path("workbench/clients/", views_staff.client_list, name="wb_clients"),
    path("workbench/delegations/", views_staff.delegation_list, name="wb_delegations"),
    path(
        "workbench/delegations/<int:pk>/confirm/",
        views_staff.delegation_confirm,
        name="wb_delegation_confirm",
    ),
    path("workbench/delegations/<int:pk>/act/", views_staff.delegation_act, name="wb_delegation_act"),
    path("dev/sms-outbox/", views_dev.sms_outbox, name="dev_sms_outbox"),
    path("dev/face/", views_dev.face_simulator, name="dev_face"),
]
