"""Django admin for the orgs register: a back office for superusers.

The scoped pages under /orgs/ are where administrators work; Django admin ignores division
scopes, so only superusers (or staff given model permissions explicitly) see it. Agency and
alias changes still go through ``orgs.services`` so names, credit codes and pinyin initials are
checked the same way. Divisions are read-only here: ``shidian load_divisions`` maintains them.
"""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shidian.core.errors import ShidianError

from . import services
from .models import Agency, AgencyAlias, Division, User


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["=code", "^code", "name"]
    raw_id_fields = ["parent"]
    show_full_result_count = False  # 665k rows: no COUNT(*) on every search
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AgencyAdminForm(ModelForm):
    """Checks the name and the credit code as the services do, so errors show on the form."""

    class Meta:
        model = Agency
        fields = ["name", "short_name", "kind", "division", "credit_code", "is_active"]

    def clean_name(self) -> str:
        return self._checked(services.clean_name, self.cleaned_data.get("name", ""))

    def clean_credit_code(self) -> str:
        return self._checked(services.clean_credit_code,
                             self.cleaned_data.get("credit_code", ""))

    @staticmethod
    def _checked(check: Any, value: str) -> str:
        try:
            return str(check(value))
        except ShidianError as err:
            raise ValidationError(err.message) from None


class AgencyAliasInline(admin.TabularInline):
    model = AgencyAlias
    extra = 1


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "division", "kind", "credit_code", "initials", "is_active"]
    list_filter = ["kind", "is_active", "division__level"]
    search_fields = ["name", "short_name", "aliases__name", "initials", "credit_code",
                     "=division__code"]
    raw_id_fields = ["division"]
    readonly_fields = ["initials", "created_at"]
    list_select_related = ["division"]
    inlines = [AgencyAliasInline]
    form = AgencyAdminForm

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agency]:
        return super().get_queryset(request).distinct()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # plans and reports point at agencies: set them inactive instead

    def save_model(self, request: HttpRequest, obj: Agency, form: ModelForm, change: bool
                   ) -> None:
        data = form.cleaned_data
        if change:
            saved = services.agency_update(
                actor=request.user, agency=obj, name=data["name"],  # type: ignore[arg-type]
                short_name=data["short_name"], kind=data["kind"],
                credit_code=data["credit_code"], division=data["division"],
                is_active=data["is_active"])
        else:
            saved = services.agency_create(
                actor=request.user, name=data["name"],  # type: ignore[arg-type]
                division=data["division"], kind=data["kind"],
                short_name=data["short_name"], credit_code=data["credit_code"])
        obj.pk = saved.pk
        obj.initials = saved.initials

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet,
                     change: bool) -> None:
        if formset.model is not AgencyAlias:
            super().save_formset(request, form, formset, change)
            return
        agency = form.instance
        formset.save(commit=False)
        for alias in formset.deleted_objects:
            services.agency_alias_remove(actor=request.user,  # type: ignore[arg-type]
                                         agency=agency, alias_id=alias.pk)
        for alias, _fields in formset.changed_objects:
            services.agency_alias_remove(actor=request.user,  # type: ignore[arg-type]
                                         agency=agency, alias_id=alias.pk)
            services.agency_alias_add(actor=request.user,  # type: ignore[arg-type]
                                      agency=agency, name=alias.name)
        for alias in formset.new_objects:
            services.agency_alias_add(actor=request.user,  # type: ignore[arg-type]
                                      agency=agency, name=alias.name)


@admin.register(User)
class ShidianUserAdmin(UserAdmin):
    """Django's user admin with the role and scope fields (passwords hashed by Argon2)."""

    list_display = ["username", "display_name", "role", "division", "is_active", "is_superuser"]
    list_filter = ["role", "is_active", "is_superuser", "division__level"]
    search_fields = ["username", "display_name", "email", "phone", "agencies__name"]
    raw_id_fields = ["division"]
    filter_horizontal = ["agencies", "groups", "user_permissions"]
    fieldsets = (
        *UserAdmin.fieldsets,  # type: ignore[misc]
        (_("Role and scope"), {"fields": ("display_name", "role", "division", "agencies",
                                          "phone")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,  # type: ignore[misc]
        (_("Role and scope"), {"fields": ("display_name", "role", "division")}),
    )
