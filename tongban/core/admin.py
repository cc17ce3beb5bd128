"""Back-office pages for reference data: regions, departments, halls, windows and the audit log.

The forms run the same validators as the API and the demo loader (``tongban.core.services``), so
an administrator sees the same Chinese message for the same mistake; saves and deletes go
through the service functions, which write the audit trail.
"""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from tongban.core import services
from tongban.core.models import AuditEvent, Organisation, Region, ServiceHall, Window

# Which form field a rule's error belongs to (by the error's stable code); others go on top.
_ERROR_FIELDS = {
    "region-code-format": "code",
    "region-code-level": "code",
    "region-code-prefix": "code",
    "region-code-taken": "code",
    "region-level-invalid": "level",
    "region-name-required": "name",
    "region-parent-not-allowed": "parent",
    "region-parent-required": "parent",
    "region-parent-level": "parent",
    "organisation-name-required": "name",
    "credit-code-required": "credit_code",
    "credit-code-length": "credit_code",
    "credit-code-characters": "credit_code",
    "credit-code-region": "credit_code",
    "credit-code-checksum": "credit_code",
    "organisation-credit-code-taken": "credit_code",
    "organisation-parent-cycle": "parent",
    "organisation-parent-region": "parent",
    "hall-kind-level": "kind",
    "hall-coordinates-pair": "latitude",
    "hall-coordinates-format": "longitude",
    "hall-longitude-range": "longitude",
    "hall-latitude-range": "latitude",
    "hall-operator-region": "operator",
    "window-number-taken": "number",
    "window-dedicated-needs-organisation": "organisations",
    "window-organisation-region": "organisations",
}


class ServiceValidatedForm(forms.ModelForm):
    """Runs ``validator`` on a copy of the instance carrying the submitted values.

    Subclasses set ``validator``; normalised values (e.g. a credit code in upper case) are
    written back into ``cleaned_data``.
    """

    validator: Any = None
    normalised_fields: tuple[str, ...] = ()

    def candidate(self) -> Any:
        candidate = copy.copy(self.instance)
        candidate._state = copy.copy(self.instance._state)
        candidate._state.fields_cache = dict(self.instance._state.fields_cache)
        concrete = {f.name for f in self._meta.model._meta.concrete_fields}
        for name, value in self.cleaned_data.items():
            if name in concrete:
                setattr(candidate, name, value)
        return candidate

    def run_validator(self, candidate: Any) -> None:
        type(self).validator(candidate)

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned  # field-level errors first; the rules need well-typed values
        candidate = self.candidate()
        try:
            self.run_validator(candidate)
        except ValidationError as error:
            field = _ERROR_FIELDS.get(getattr(error, "code", None) or "")
            self.add_error(field if field in self.fields else None, error)
            return cleaned
        for name in self.normalised_fields:
            if name in cleaned:
                cleaned[name] = getattr(candidate, name)
        return cleaned


class AuditedAdmin(admin.ModelAdmin):
    """Saves and deletes through the services so each change writes its audit event."""

    save_function: Any = None

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        type(self).save_function(obj, actor=request.user, request=request)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.delete_reference(obj, actor=request.user, request=request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            services.delete_reference(obj, actor=request.user, request=request)


# -- regions ------------------------------------------------------------------------------------


class RegionForm(ServiceValidatedForm):
    validator = services.validate_region
    normalised_fields = ("code", "name")

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent", "is_active"]
        help_texts = {
            "code": "省、市、县级填 6 位 GB/T 2260 代码（如 341502）；"
            "乡、村级填 12 位统计用区划代码（如 341502001000）。",
        }


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    form = RegionForm
    save_function = services.save_region
    list_display = ["code", "name", "level", "parent", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path"]
    fields = ["code", "name", "level", "parent", "path", "is_active"]
    ordering = ["path"]
    list_select_related = ["parent"]


# -- organisations ------------------------------------------------------------------------------


class OrganisationForm(ServiceValidatedForm):
    validator = services.validate_organisation
    normalised_fields = ("name", "credit_code", "phone")

    class Meta:
        model = Organisation
        fields = [
            "name",
            "short_name",
            "credit_code",
            "kind",
            "region",
            "parent",
            "phone",
            "address",
            "is_active",
        ]


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    form = OrganisationForm
    save_function = services.save_organisation
    list_display = ["name", "short_name", "credit_code", "kind", "region", "parent", "is_active"]
    list_filter = ["kind", "region__level", "is_active"]
    search_fields = ["name", "short_name", "credit_code", "region__name", "region__code"]
    autocomplete_fields = ["region", "parent"]
    list_select_related = ["region", "parent"]


# -- windows (also edited inline on their hall) -------------------------------------------------


class WindowForm(ServiceValidatedForm):
    normalised_fields = ("number", "name")

    class Meta:
        model = Window
        fields = ["hall", "number", "name", "kind", "organisations", "is_active"]

    def run_validator(self, candidate: Any) -> None:
        hall = self.cleaned_data.get("hall")
        if hall is not None:
            candidate.hall = hall  # inline on a hall being added: the hall is not saved yet
        services.validate_window(candidate, self.cleaned_data.get("organisations") or [])


class WindowInline(admin.TabularInline):
    model = Window
    form = WindowForm
    extra = 1
    fields = ["number", "name", "kind", "organisations", "is_active"]
    autocomplete_fields = ["organisations"]


@admin.register(Window)
class WindowAdmin(AuditedAdmin):
    form = WindowForm
    list_display = ["hall", "number", "name", "kind", "is_active"]
    list_filter = ["kind", "is_active", "hall__kind"]
    search_fields = ["number", "name", "hall__name", "organisations__name"]
    autocomplete_fields = ["hall", "organisations"]
    list_select_related = ["hall"]

    def save_model(self, request: HttpRequest, obj: Window, form: forms.ModelForm, change: bool) -> None:
        services.save_window(
            obj, form.cleaned_data.get("organisations") or [], actor=request.user, request=request
        )

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool) -> None:
        pass  # the departments were set by services.save_window


# -- halls --------------------------------------------------------------------------------------


class ServiceHallForm(ServiceValidatedForm):
    validator = services.validate_hall
    normalised_fields = ("name", "address", "phone", "longitude", "latitude")

    class Meta:
        model = ServiceHall
        fields = [
            "name",
            "kind",
            "region",
            "operator",
            "address",
            "longitude",
            "latitude",
            "opening_hours",
            "hours_note",
            "phone",
            "is_active",
        ]


@admin.register(ServiceHall)
class ServiceHallAdmin(AuditedAdmin):
    form = ServiceHallForm
    save_function = services.save_hall
    inlines = [WindowInline]
    list_display = ["name", "kind", "region", "phone", "is_active"]
    list_filter = ["kind", "region__level", "is_active"]
    search_fields = ["name", "address", "region__name", "region__code"]
    autocomplete_fields = ["region", "operator"]
    list_select_related = ["region"]

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        """Windows edited inline are saved and deleted through the services too."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for window_form in formset.forms:
            instance = window_form.instance
            if window_form in formset.deleted_forms:
                if instance.pk:
                    services.delete_reference(instance, actor=request.user, request=request)
                    formset.deleted_objects.append(instance)
                continue
            if not window_form.has_changed():
                continue
            is_new = instance.pk is None
            window = window_form.save(commit=False)
            window.hall = form.instance
            organisations = window_form.cleaned_data.get("organisations") or []
            services.save_window(window, organisations, actor=request.user, request=request)
            if is_new:
                formset.new_objects.append(window)
            else:
                formset.changed_objects.append((window, window_form.changed_data))


# -- audit trail --------------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """操作日志: searchable, never editable (append-only by design)."""

    list_display = ["created_at", "action", "summary", "actor", "object_type", "object_id", "ip_address"]
    list_filter = ["action", "object_type"]
    search_fields = ["summary", "action", "object_id", "request_id", "actor__username"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


import tongban.core.admin_calendar  # noqa: E402, F401  (registers the calendar pages)
