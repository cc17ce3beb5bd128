"""Back-office views of identity data. Personal data is shown masked and cannot be edited here
(changes go through services with their audit events); role changes use the workbench pages."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

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


@admin.register(User)
class TongbanUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "is_active", "is_staff", "last_login")
    search_fields = ("username", "display_name")


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
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "department", "region", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "user__username", "department__name")
    autocomplete_fields = ()
    raw_id_fields = ("department", "region", "user")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "granted_by", "granted_at", "revoked_at")
    list_filter = ("role",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
