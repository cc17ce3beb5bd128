from django.contrib import admin

from tongban.workflow.models import ProcessDefinition, ProcessVersion


class ProcessVersionInline(admin.TabularInline):
    """Versions are listed read-only here; drafts are edited on the 审批流程 pages (validated)."""

    model = ProcessVersion
    extra = 0
    can_delete = False
    fields = ["number", "status", "note", "created_by", "created_at", "published_by", "published_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "region", "department", "created_at"]
    list_filter = ["region"]
    search_fields = ["key", "name"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["region", "department"]
    inlines = [ProcessVersionInline]

    def get_readonly_fields(self, request, obj=None):
        return ["key", "created_at"] if obj is not None else self.readonly_fields


@admin.register(ProcessVersion)
class ProcessVersionAdmin(admin.ModelAdmin):
    """Published and retired versions are immutable: a running case keeps the version it started
    with. Drafts may be looked at here, but are edited and published through the staff pages (or
    the API), which validate the graph; the admin never changes the status."""

    list_display = ["definition", "number", "status", "published_at"]
    list_filter = ["status"]
    search_fields = ["definition__key", "definition__name"]
    fields = [
        "definition",
        "number",
        "status",
        "graph",
        "note",
        "created_by",
        "created_at",
        "published_by",
        "published_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return (
            False
            if obj is not None and obj.status != ProcessVersion.State.DRAFT
            else super().has_change_permission(request, obj)
        )

    def has_delete_permission(self, request, obj=None):
        return (
            obj is not None
            and obj.status == ProcessVersion.State.DRAFT
            and super().has_delete_permission(request, obj)
        )
