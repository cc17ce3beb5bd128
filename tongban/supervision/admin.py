"""Read-only admin views: alerts, 督办单 and complaints change only through services.py."""

from django.contrib import admin

from tongban.supervision.models import Alert, Complaint, DailyStat, StatDay, SupervisionNotice


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnly):
    list_display = ["application", "task", "level", "recipient", "due_date", "created_at", "acknowledged_at"]
    list_filter = ["level"]
    raw_id_fields = ["application", "task", "recipient", "message"]


@admin.register(SupervisionNotice)
class NoticeAdmin(ReadOnly):
    list_display = ["number", "application", "department", "respond_by", "issued_at", "responded_at"]
    raw_id_fields = ["application", "issued_by", "responded_by"]


@admin.register(Complaint)
class ComplaintAdmin(ReadOnly):
    list_display = ["number", "source", "status", "assigned_department", "received_on", "due_date"]
    list_filter = ["source", "status"]
    exclude = ["contact_phone"]
    raw_id_fields = ["application", "window", "complainant", "assignee", "answered_by"]


@admin.register(StatDay)
class StatDayAdmin(ReadOnly):
    list_display = ["day", "refreshed_at"]


@admin.register(DailyStat)
class DailyStatAdmin(ReadOnly):
    list_display = ["day", "department", "implementation", "channel", "received", "completed"]
    list_filter = ["channel"]
    raw_id_fields = ["region", "department", "implementation"]
