"""Back-office views of identity data. Personal data is shown masked and cannot be edited here
(changes go through services with their audit events). Users, staff, role assignments and the
role groups are READ-ONLY here: saving them in the admin would skip the audit trail, so every
page points to the workbench pages that call the services."""

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import format_html

from tongban.accounts.models import (
    Delegation,
    Enterprise,
    EnterpriseAgent,
    Person,
    RoleAssignment,
    SmsMessage,
    StaffProfile,
    User,
)


class WorkbenchOnlyMixin:
    """No add / change / delete in the admin; a notice links to the audited workbench page."""

    workbench_notice = (
        "工作人员账号、部门区划、角色和账号安全请在工作台“工作人员与角色”中维护（每项变更都记入审计日志）。"
    )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _notice(self, request):
        messages.info(
            request,
            format_html(
                '{} <a href="{}">前往工作台</a>', self.workbench_notice, reverse("accounts:wb_staff")
            ),
        )

    def changelist_view(self, request, extra_context=None):
        self._notice(request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            self._notice(request)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(User)
class TongbanUserAdmin(WorkbenchOnlyMixin, UserAdmin):
    list_display = ("username", "display_name", "is_active", "is_staff", "last_login")
    search_fields = ("username", "display_name")
    # Read-only: the password hash and the permission widgets are not shown at all.
    fieldsets = (
        (None, {"fields": ("username", "display_name")}),
        ("状态", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("时间", {"fields": ("last_login", "date_joined")}),
    )


admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(WorkbenchOnlyMixin, GroupAdmin):
    """Role groups carry the permissions of ROLE_PERMISSIONS; they are synchronised in code."""


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("masked_name", "masked_id_number", "masked_phone", "level", "verified_at")
    list_filter = ("level",)
    fields = (
        "user",
        "masked_name",
        "masked_id_number",
        "masked_phone",
        "level",
        "verified_at",
        "verification_method",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_code", "legal_rep_name", "is_active")
    search_fields = ("name", "credit_code")
    readonly_fields = ("legal_rep_id_index",)


@admin.register(EnterpriseAgent)
class EnterpriseAgentAdmin(admin.ModelAdmin):
    list_display = ("enterprise", "person", "valid_until", "revoked_at")
    readonly_fields = (
        "enterprise",
        "person",
        "scopes",
        "valid_from",
        "valid_until",
        "granted_by",
        "revoked_at",
    )


@admin.register(StaffProfile)
class StaffProfileAdmin(WorkbenchOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "user", "department", "region", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "user__username", "department__name")
    exclude = ("phone",)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(WorkbenchOnlyMixin, admin.ModelAdmin):
    list_display = ("user", "role", "granted_by", "granted_at", "revoked_at")
    list_filter = ("role",)


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("helper", "citizen", "consent_method", "valid_until", "confirmed_at", "revoked_at")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "purpose", "gateway")
    exclude = ("phone", "phone_index")

    def has_change_permission(self, request, obj=None):
        return False
