"""The sync-health page (admin, staff only) and /metrics."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from . import metrics
from .access import MetricsRefused, check_metrics_access
from .page import health_context


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
    context = health_context(params=request.GET, now=timezone.now())
    context.update(admin.site.each_context(request), title="Sync health")
    return TemplateResponse(request, "admin/monitoring/health.html", context)
