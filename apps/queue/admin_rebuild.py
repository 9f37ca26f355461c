"""Rebuilding sites' queues from the admin: both dump kinds, and a question after every change that needs it.

A store moved to another site, or a site activated again (nothing is queued for an inactive site), leaves
queues that no longer match what the sites should hold. The admin then asks, on a page of its own,
whether to rebuild the queues concerned (full or mobile subset) and does it when told.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.sites.admin import SiteAdmin, StoreAdmin
from apps.sites.models import PRIMARY_SITE_ID, Site, Store

from .services import initial_dump

REBUILD_URL_NAME = "sites_site_rebuild_queues"
# Set on the request by save_model, read by response_change: the admin instance is shared by requests.
ASK_ATTRIBUTE = "_sites_whose_queues_to_rebuild"


def rebuild_queues_url(site_ids: list[int], *, why: str) -> str:
    query = urlencode({"site": site_ids, "why": why}, doseq=True)
    return f"{reverse('admin:' + REBUILD_URL_NAME)}?{query}"


def ask_to_rebuild(request: HttpRequest, site_ids: list[int | None]) -> None:
    satellites = sorted({pk for pk in site_ids if pk is not None and pk != PRIMARY_SITE_ID})
    if satellites:
        setattr(request, ASK_ATTRIBUTE, satellites)


def asked_response(request: HttpRequest, response: HttpResponse, *, why: str) -> HttpResponse:
    site_ids = getattr(request, ASK_ATTRIBUTE, None)
    return HttpResponseRedirect(rebuild_queues_url(site_ids, why=why)) if site_ids else response


class RebuildQueuesSiteAdmin(SiteAdmin):
    """The site admin with the two rebuild actions, the rebuild page, and the question on reactivation."""

    rebuild_template = "admin/sites/site/rebuild_queues.html"

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.rebuild_queues_view)
        return [path("rebuild-queues/", view, name=REBUILD_URL_NAME), *super().get_urls()]

    def rebuild_queues_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        source = request.POST if request.method == "POST" else request.GET
        ids = [int(v) for v in source.getlist("site") if v.isascii() and v.isdigit()]
        sites = list(Site.objects.filter(pk__in=ids).exclude(pk=PRIMARY_SITE_ID).order_by("pk"))
        changelist = reverse("admin:sites_site_changelist")
        if request.method == "POST":
            kind = request.POST.get("kind", "")
            if kind in ("full", "mobile"):
                self.rebuild(request, sites, full=kind == "full")
            else:
                names = ", ".join(str(site) for site in sites)
                self.message_user(
                    request,
                    f"Queues not rebuilt: {names}. Rebuild them later with the action or initialdump.",
                    messages.WARNING,
                )
            return HttpResponseRedirect(changelist)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Rebuild the queues concerned?",
            "sites": sites,
            "why": source.get("why", ""),
            "changelist_url": changelist,
        }
        return TemplateResponse(request, self.rebuild_template, context)

    def rebuild(self, request: HttpRequest, sites: list[Site], *, full: bool) -> None:
        kind = "full" if full else "mobile-store"
        for site in sites:
            if site.pk == PRIMARY_SITE_ID:
                self.message_user(request, "Site 1 is the primary itself; it has no queue.", messages.WARNING)
                continue
            length = initial_dump(site=site, full=full)
            self.message_user(
                request,
                f"Site {site}: queue rebuilt ({kind} dump), {length} records queued.",
                messages.SUCCESS,
            )

    @admin.action(description="Rebuild queue (initial dump, full: everything routed to the site)")
    def rebuild_queue(self, request: HttpRequest, queryset: QuerySet[Site]) -> None:
        self.rebuild(request, list(queryset.order_by("pk")), full=True)

    @admin.action(description="Rebuild queue (initial dump, mobile-store subset)")
    def rebuild_queue_mobile(self, request: HttpRequest, queryset: QuerySet[Site]) -> None:
        self.rebuild(request, list(queryset.order_by("pk")), full=False)

    @admin.action(description="Activate (and then rebuild their queues: nothing was queued meanwhile)")
    def activate_sites(self, request: HttpRequest, queryset: QuerySet[Site]) -> HttpResponse | None:
        activated = self.set_active(request, queryset, active=True)
        if not activated:
            return None
        return HttpResponseRedirect(rebuild_queues_url([site.pk for site in activated], why="activated"))

    def save_model(self, request: HttpRequest, obj: Site, form: forms.ModelForm, change: bool) -> None:
        if change and "is_active" in form.changed_data and obj.is_active:
            ask_to_rebuild(request, [obj.pk])
        super().save_model(request, obj, form, change)

    def response_change(self, request: HttpRequest, obj: Site) -> HttpResponse:
        return asked_response(request, super().response_change(request, obj), why="activated")


class RebuildQueuesStoreAdmin(StoreAdmin):
    """A store moved to another site: both sites' queues are asked to be rebuilt."""

    def save_model(self, request: HttpRequest, obj: Store, form: forms.ModelForm, change: bool) -> None:
        if change and "site" in form.changed_data:
            ask_to_rebuild(request, [form.initial.get("site"), obj.site_id])
        super().save_model(request, obj, form, change)

    def response_change(self, request: HttpRequest, obj: Store) -> HttpResponse:
        return asked_response(request, super().response_change(request, obj), why=f"store {obj.pk} moved")
