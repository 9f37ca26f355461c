"""Deleting sites in the admin: refused for a site that has synced, and never by gathering its rows.

Django's delete confirmation collects every related row to list it (a busy site's queue and sync log:
millions); a site that has synced is deactivated instead (apps.sites.services.site_delete_refusal).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import model_ngettext
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from .models import Site, Store
from .services import site_delete, site_delete_refusal


class SafeSiteDeletionMixin(admin.ModelAdmin):
    """For the site admin: the delete page and the bulk delete action, with the refusal page."""

    delete_refused_template = "admin/sites/site/delete_refused.html"

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        site = self.get_object(request, object_id)
        if site is not None and (refusal := site_delete_refusal(site=site)):
            return self.delete_refused(request, [(site, refusal)])
        return super().delete_view(request, object_id, extra_context)

    def delete_refused(self, request: HttpRequest, refusals: list[tuple[Site, str]]) -> TemplateResponse:
        """Say why, and offer to deactivate the sites instead (the changelist's Deactivate action)."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Cannot delete a site that has synced",
            "refusals": refusals,
            "deactivatable": [site for site, _reason in refusals if not site.is_primary],
            "changelist_url": reverse("admin:sites_site_changelist"),
        }
        return TemplateResponse(request, self.delete_refused_template, context)

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[str]]:
        """What the confirmation page lists, without loading the sites' queues and logs row by row
        (Django's default gathers every related row: millions on a busy primary)."""
        sites = list(objs)
        summary: list[Any] = [f"Site: {site}" for site in sites]
        summary.append(["its queue, sync log and quarantine (whatever a site that never synced has)"])
        protected = [f"Store: {store}" for store in Store.objects.filter(site__in=sites)]
        perms_needed = set() if self.has_delete_permission(request) else {"site"}
        return summary, {model_ngettext(self.opts, len(sites)): len(sites)}, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Site) -> None:
        site_delete(site_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Site]) -> None:
        for site in queryset:
            site_delete(site_id=site.pk)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            _default, name, description = actions["delete_selected"]
            actions["delete_selected"] = (SafeSiteDeletionMixin.delete_selected_sites, name, description)
        return actions

    def delete_selected_sites(self, request: HttpRequest, queryset: QuerySet[Site]) -> Any:
        refusals = [(site, site_delete_refusal(site=site)) for site in queryset]
        refused = [(site, reason) for site, reason in refusals if reason]
        if refused:
            return self.delete_refused(request, refused)
        return delete_selected(self, request, queryset)
