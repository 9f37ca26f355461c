"""Who may scrape /metrics: a bearer token (METRICS_TOKEN) or an address in METRICS_ALLOWED_NETWORKS."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest

from apps.sites.lockout import client_address


class MetricsRefused(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def check_metrics_access(request: HttpRequest) -> None:
    """Return when the request may read the metrics; raise MetricsRefused (401/403) when not."""
    token: str = settings.METRICS_TOKEN
    networks: list[str] = settings.METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        raise MetricsRefused(
            "Metrics are switched off: set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS (docs/operations.md).",
            403,
        )
    if networks and _address_in(client_address(request.META), networks):
        return
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
        return
    if token:
        raise MetricsRefused("Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.", 401)
    raise MetricsRefused("This address may not read the metrics (METRICS_ALLOWED_NETWORKS).", 403)


def _address_in(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)
