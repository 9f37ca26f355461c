"""Admin for sites, stores and sync users.

Passwords are typed in plain and stored the way clients prove them: SHA-256 hex, then Django's slow
hash (apps.sites.services); the stored hash is never shown. The queue columns and the "rebuild queue"
action are added by apps/queue/admin.py, because sites must not depend on the queue app
(docs/development/structure.md).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db.models import QuerySet
from django.http import HttpRequest

from .admin_deletion import SafeSiteDeletionMixin
from .admin_site_page import NewStoreInline, NewStoresAndUserMixin
from .lockout import (
    ADMIN_NAME_PREFIX,
    TooManyFailures,
    check_not_locked,
    client_address,
    record_failure,
    release_lockout,
)
from .models import API_KEY_SCOPES, PRIMARY_SITE_ID, ApiKey, LoginFailure, Site, Store, SyncUser
from .services import (
    SiteError,
    apikey_clean_scopes,
    apikey_create,
    apikey_revoke,
    site_create,
    site_reset_hardware,
    site_set_active,
    site_set_password,
    store_create,
    sync_user_create,
    sync_user_set_password,
)

PASSWORD_HELP = (
    "Type the password in plain; it is stored as a slow hash of its SHA-256 and never shown. "
    "Leave empty to keep the current password."
)


class SiteForm(forms.ModelForm):
    password = forms.CharField(
        required=False, strip=False, widget=forms.PasswordInput(render_value=False), help_text=PASSWORD_HELP
    )

    new_user = forms.CharField(
        required=False,
        max_length=150,
        label="New user's name",
        help_text="A user of the mobile login for this site's stores (those above and those added here).",
    )
    new_user_password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        label="New user's password",
    )
    new_user_is_admin = forms.BooleanField(required=False, label="New user is an admin in the app")

    class Meta:
        model = Site
        fields = ["id", "name", "is_active"]

    def clean_id(self) -> int:
        site_id = self.cleaned_data["id"]
        # Site 1 is the primary itself; it exists from the first migration and never logs in.
        if site_id == PRIMARY_SITE_ID:
            raise forms.ValidationError("Site 1 is the primary itself; satellites start at 2.")
        if site_id < 1:
            raise forms.ValidationError("A site id is a positive whole number.")
        return site_id

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance._state.adding and not cleaned.get("password"):
            self.add_error("password", "A new site needs a password.")
        username = (cleaned.get("new_user") or "").strip()
        if username:
            if not cleaned.get("new_user_password"):
                self.add_error("new_user_password", "The new user needs a password.")
            if SyncUser.objects.filter(username=username).exists():
                self.add_error("new_user", f"A user named '{username}' exists already.")
        elif cleaned.get("new_user_password"):
            self.add_error("new_user", "Give the new user a name, or leave the password empty.")
        return cleaned


class StoreInline(admin.TabularInline):
    """The stores active on the site; a store is moved between sites on its own page."""

    model = Store
    fk_name = "site"
    fields = ["id", "name", "code", "name_id", "supplying_store"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Site)
class SiteAdmin(NewStoresAndUserMixin, SafeSiteDeletionMixin):
    form = SiteForm
    list_display = ["id", "name", "is_active", "hardware_id", "last_seen_at"]
    list_display_links = ["id", "name"]
    list_filter = ["is_active"]
    search_fields = ["=id", "name", "hardware_id"]
    inlines = [StoreInline, NewStoreInline]
    actions = ["reset_hardware_binding", "deactivate_sites", "activate_sites", "release_lockouts"]

    def get_readonly_fields(self, request: HttpRequest, obj: Site | None = None) -> list[str]:
        readonly = ["hardware_id", "last_seen_at", "created_at"]
        # Changing the primary key in a form would create a second site, not renumber this one.
        return ["id", *readonly] if obj else readonly

    def get_fields(self, request: HttpRequest, obj: Site | None = None) -> list[str]:
        return [
            "id",
            "name",
            "is_active",
            "password",
            "hardware_id",
            "last_seen_at",
            "created_at",
            "new_user",
            "new_user_password",
            "new_user_is_admin",
        ]

    def get_form(self, request: HttpRequest, obj: Site | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "id" in form.base_fields:
            form.base_fields["id"].help_text = "The site's number; satellites start at 2."
        return form

    def save_model(self, request: HttpRequest, obj: Site, form: SiteForm, change: bool) -> None:
        password = form.cleaned_data.get("password")
        if not change:
            # The services hash the password the way clients prove it and keep the caches right.
            site_create(site_id=obj.pk, name=obj.name, password=password)
            if not obj.is_active:
                site_set_active(site_id=obj.pk, active=False)
            obj.refresh_from_db()
            obj._state.adding = False
            return
        super().save_model(request, obj, form, change)
        if password:
            site_set_password(site=obj, password=password)

    def has_delete_permission(self, request: HttpRequest, obj: Site | None = None) -> bool:
        # Every record's history names site 1 as its source; it can never go.
        if obj is not None and obj.pk == PRIMARY_SITE_ID:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="Deactivate (refused from the next sync on; history kept)")
    def deactivate_sites(self, request: HttpRequest, queryset: QuerySet[Site]) -> None:
        self.set_active(request, queryset, active=False)

    @admin.action(description="Activate (nothing was queued for them while inactive: rebuild their queues)")
    def activate_sites(self, request: HttpRequest, queryset: QuerySet[Site]) -> Any:
        self.set_active(request, queryset, active=True)

    def set_active(self, request: HttpRequest, queryset: QuerySet[Site], *, active: bool) -> list[Site]:
        changed = []
        for site in queryset.order_by("pk"):
            try:
                was_active = site.is_active
                site_set_active(site_id=site.pk, active=active)
            except SiteError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            if was_active != active:
                changed.append(site)
        verb = "activated" if active else "deactivated"
        names = ", ".join(str(site) for site in changed) or "none (already so)"
        self.message_user(request, f"Sites {verb}: {names}.", messages.SUCCESS)
        return changed

    @admin.action(description="Release login lockout (forget the failed logins of the site's name)")
    def release_lockouts(self, request: HttpRequest, queryset: QuerySet[Site]) -> None:
        release_names(self, request, [site.name for site in queryset])

    @admin.action(description="Reset hardware binding (the next device to sync is bound)")
    def reset_hardware_binding(self, request: HttpRequest, queryset: QuerySet[Site]) -> None:
        for site in queryset:
            try:
                site_reset_hardware(site_id=site.pk)
            except SiteError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"Site {site}: hardware binding cleared.", messages.SUCCESS)


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "code", "name_id", "site", "supplying_store"]
    list_select_related = ["site", "supplying_store"]
    list_filter = ["site"]
    search_fields = ["=id", "name", "code", "=name_id"]
    raw_id_fields = ["supplying_store"]

    def get_readonly_fields(self, request: HttpRequest, obj: Store | None = None) -> list[str]:
        # The id is the primary key: changed in a form, it would save a second store.
        return ["id"] if obj else []

    def save_model(self, request: HttpRequest, obj: Store, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        store_create(
            store_id=obj.pk,
            name=obj.name,
            code=obj.code,
            name_id=obj.name_id,
            site_id=obj.site_id,
            supplying_store_id=obj.supplying_store_id,
        )
        obj._state.adding = False


class SyncUserForm(forms.ModelForm):
    password = forms.CharField(
        required=False, strip=False, widget=forms.PasswordInput(render_value=False), help_text=PASSWORD_HELP
    )

    class Meta:
        model = SyncUser
        fields = ["username", "is_admin", "is_active", "stores"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance._state.adding and not cleaned.get("password"):
            self.add_error("password", "A new user needs a password.")
        return cleaned


@admin.register(SyncUser)
class SyncUserAdmin(admin.ModelAdmin):
    form = SyncUserForm
    fields = ["id", "username", "password", "is_admin", "is_active", "stores"]
    readonly_fields = ["id"]
    list_display = ["username", "id", "is_admin", "is_active"]
    list_filter = ["is_admin", "is_active", "stores__site"]
    search_fields = ["username", "=id"]
    filter_horizontal = ["stores"]
    actions = ["release_lockouts"]

    def save_model(self, request: HttpRequest, obj: SyncUser, form: SyncUserForm, change: bool) -> None:
        password = form.cleaned_data.get("password")
        if not change:
            # The stores are set after this (save_related), from the form.
            created = sync_user_create(
                username=obj.username, password=password, store_ids=[], is_admin=obj.is_admin
            )
            if not obj.is_active:
                SyncUser.objects.filter(pk=created.pk).update(is_active=False)
            obj.pk = created.pk
            obj.refresh_from_db()
            obj._state.adding = False
            return
        super().save_model(request, obj, form, change)
        if password:
            sync_user_set_password(user=obj, password=password)

    @admin.action(description="Release login lockout (forget the failed logins of the user's name)")
    def release_lockouts(self, request: HttpRequest, queryset: QuerySet[SyncUser]) -> None:
        release_names(self, request, [user.username for user in queryset])


def release_names(model_admin: admin.ModelAdmin, request: HttpRequest, names: list[str]) -> None:
    released = sum(release_lockout(name=name).rows for name in names)
    model_admin.message_user(
        request,
        f"Released {', '.join(names)}: {released} failure count(s) forgotten; the next correct login "
        "is accepted.",
        messages.SUCCESS,
    )


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=sorted(API_KEY_SCOPES.items()), widget=forms.CheckboxSelectMultiple, help_text=""
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "owner"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["scopes"] = self.instance.scope_list

    def clean_scopes(self) -> str:
        try:
            return ",".join(apikey_clean_scopes(self.cleaned_data["scopes"]))
        except SiteError as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made here or with `createapikey`; the key is shown once, in the message after saving."""

    form = ApiKeyForm
    list_display = ["name", "prefix", "scopes", "owner", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "=prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    raw_id_fields = ["owner"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ApiKeyForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            created, raw_key = apikey_create(name=obj.name, scopes=obj.scopes, owner=obj.owner)
        except SiteError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        obj.pk = created.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            f"The new API key is {raw_key} — copy it now: it is shown only this once "
            "and stored only as a hash.",
            messages.WARNING,
        )

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        # Revoke instead: the row keeps the history of who used the API and when.
        return False

    @admin.action(description="Revoke the selected API keys (refused from now on)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            apikey_revoke(key=key)
        self.message_user(request, f"Revoked {len(queryset)} API key(s).", messages.SUCCESS)


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin login, with failed logins counted and locked like the sync logins (lockout.py).

    Admin user names are counted apart from site names ("admin:" prefix); the per-address count is
    shared, so guessing through both doors adds up.
    """

    def clean(self) -> dict[str, Any]:
        name = ADMIN_NAME_PREFIX + (self.data.get("username") or "")
        address = client_address(self.request.META if self.request else {})
        try:
            check_not_locked(name=name, address=address)
        except TooManyFailures as exc:
            raise forms.ValidationError(str(exc), code="locked") from exc
        try:
            return super().clean()
        except forms.ValidationError as exc:
            if any(error.code == "invalid_login" for error in exc.error_list):
                record_failure(name=name, address=address)
            raise


admin.site.login_form = ThrottledAdminLoginForm


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "failures", "window_started_at", "last_failure_at"]
    search_fields = ["name", "address"]
    actions = ["release"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Release the lockout (forget these failures)")
    def release(self, request: HttpRequest, queryset: QuerySet[LoginFailure]) -> None:
        released = sum(
            release_lockout(name=row.name or None, address=row.address).rows for row in list(queryset)
        )
        self.message_user(request, f"Released: {released} failure count(s) forgotten.", messages.SUCCESS)
