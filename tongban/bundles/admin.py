"""Bundles (一件事) are configured here; bundle cases are read-only (state changes go through services)."""

from django.contrib import admin

from tongban.bundles.models import Bundle, BundleCase, BundleItem, BundleMember


class ItemInline(admin.TabularInline):
    model = BundleItem
    extra = 0
    autocomplete_fields = ["implementation"]
    fields = ["order", "implementation", "optional", "option_label"]


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "region", "lead_department", "is_active"]
    list_filter = ["is_active", "enterprise_stage"]
    search_fields = ["name", "code"]
    inlines = [ItemInline]


class MemberInline(admin.TabularInline):
    model = BundleMember
    extra = 0
    can_delete = False
    fields = ["item", "application"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BundleCase)
class BundleCaseAdmin(admin.ModelAdmin):
    list_display = ["display_reference", "bundle", "applicant_name", "status", "submitted_at"]
    list_filter = ["status", "bundle"]
    search_fields = ["reference", "applicant_name"]
    inlines = [MemberInline]
    exclude = ["form_data"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "form_data"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
