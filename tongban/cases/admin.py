"""Back-office view of applications: read-only (state changes go through services and pages)."""

from django.contrib import admin

from tongban.cases.models import Application, CaseEvent, CorrectionNotice, MaterialFile, Message


class _ReadOnly(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class FileInline(_ReadOnly):
    model = MaterialFile
    fields = ["material", "original_name", "content_type", "size", "sha256", "by_commitment", "superseded"]


class NoticeInline(_ReadOnly):
    model = CorrectionNotice
    fields = ["round", "items", "issued_at", "issued_by", "answered_at"]


class EventInline(_ReadOnly):
    model = CaseEvent
    fields = ["created_at", "action", "from_status", "to_status", "actor", "on_behalf_of", "reason"]


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "implementation", "status", "channel", "received_date", "deadline"]
    list_filter = ["status", "channel", "deemed_accepted"]
    search_fields = ["case_number"]
    exclude = ["applicant_id_number", "applicant_phone", "applicant_id_index", "form_data"]
    inlines = [FileInline, NoticeInline, EventInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "created_at", "read_at", "sms_status", "sms_attempts"]
    list_filter = ["sms_status"]
    exclude = ["sms_phone"]  # encrypted; the applicant's phone is not shown in the admin
    readonly_fields = ["sms_status", "sms_attempts", "sms_last_error", "sms_next_attempt_at", "sms_sent_at"]
