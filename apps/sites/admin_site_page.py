"""A new site's stores and its first mobile user, added on the site's own page of the admin.

The stores come from an inline of new rows only (existing stores are listed read-only beside it); the
user from three fields of the site's form (SiteForm). Both are made through the services, as the
createstore and createsyncuser commands make them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from .models import Store
from .services import store_create, sync_user_create


class NewStoresFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if not (self.data.get("new_user") or "").strip():
            return
        adding = any(form.has_changed() for form in self.forms)
        has_stores = not self.instance._state.adding and Store.objects.filter(site=self.instance).exists()
        if not adding and not has_stores:
            raise forms.ValidationError("The new user needs a store of this site: add one here.")


class NewStoreInline(admin.TabularInline):
    """Stores added on the site's page, made active on it (through store_create, like createstore)."""

    model = Store
    fk_name = "site"
    formset = NewStoresFormSet
    fields = ["id", "name", "code", "name_id"]
    extra = 1
    can_delete = False
    verbose_name = "new store"
    verbose_name_plural = "add stores to this site"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Store]:
        return super().get_queryset(request).none()


class NewStoresAndUserMixin(admin.ModelAdmin):
    """For the site admin: saves the new stores and the new user after the site itself."""

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        if not isinstance(formset, NewStoresFormSet):
            super().save_formset(request, form, formset, change)
            return
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for store_form in formset.forms:
            if not store_form.has_changed():
                continue
            data = store_form.cleaned_data
            formset.new_objects.append(
                store_create(
                    store_id=data["id"],
                    name=data["name"],
                    code=data.get("code") or "",
                    name_id=data["name_id"],
                    site_id=form.instance.pk,
                )
            )

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        username = (form.cleaned_data.get("new_user") or "").strip()
        if username:
            site = form.instance
            user = sync_user_create(
                username=username,
                password=form.cleaned_data["new_user_password"],
                store_ids=list(site.stores.values_list("pk", flat=True)),
                is_admin=form.cleaned_data.get("new_user_is_admin", False),
            )
            self.message_user(
                request, f"User '{user}' added for the stores of site {site}.", messages.SUCCESS
            )
