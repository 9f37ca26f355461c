"""The sync-health page (admin, staff only) and /metrics."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from . import metrics, selectors
from .access import MetricsRefused, check_metrics_access
from .page import SORT_KEYS, HealthQuery, capped, plots, rows_for

PAGE_SIZE = 100


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    try:
        check_metrics_access(request)
    except MetricsRefused as refusal:
        response = HttpResponse(f"{refusal}\n", status=refusal.status, content_type="text/plain")
        if refusal.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


def health_page(request: HttpRequest) -> TemplateResponse:
    now = timezone.now()
    query = HealthQuery.from_params(request.GET)
    everything = selectors.site_health(now=now)
    shown = query.apply(everything, now=now)
    page = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    cap = settings.MONITORING_QUEUE_DEPTH_CAP
    by_lag = sorted((h for h in everything if h.queued_since), key=lambda h: h.queued_since)[:20]
    depths = selectors.capped_depths({h.site.pk for h in [*page.object_list, *by_lag]}, cap=cap)
    context = {
        **admin.site.each_context(request),
        "title": "Sync health",
        "query": query,
        "page": page,
        "rows": rows_for(page.object_list, depths=depths, cap=cap, now=now, query=query),
        "total": len(everything),
        "shown": len(shown),
        "plots": [mark_safe(svg) for svg in plots(now=now, lagging=by_lag, depths=depths, cap=cap)],
        "filters": query.filter_links(),
        "sort_links": {key: query.sort_link(key) for key in SORT_KEYS},
        "silent_days_choices": (1, 3, 7, 30),
        "behind_minutes": settings.MONITORING_BEHIND_MINUTES,
        "cap_text": capped(cap, cap),
    }
    return TemplateResponse(request, "admin/monitoring/health.html", context)
