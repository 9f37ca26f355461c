"""The sync-health page (admin, staff only) and /metrics."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.request import Request
from rest_framework.views import APIView

from . import metrics
from .access import MetricsRefused, check_metrics_access
from .page import health_context


class MetricsView(APIView):
    """Prometheus text exposition. An APIView without DRF's authentication: access is by token or network
    (access.py), and being a DRF view puts it in the OpenAPI schema with the other endpoints."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    def get(self, request: Request) -> HttpResponse:
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
