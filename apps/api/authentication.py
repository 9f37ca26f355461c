"""DRF authentication: the requesting site, from Basic `site:sha256hex` and the hardware header."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apps.sites.authentication import authenticate_site
from apps.sites.lockout import client_address
from apps.sites.models import Site


class SiteBasicAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Site, None]:
        kwargs = (getattr(request, "parser_context", None) or {}).get("kwargs") or {}
        site = authenticate_site(
            authorization=request.META.get("HTTP_AUTHORIZATION"),
            hardware_id=request.META.get("HTTP_MSUPPLY_SITE_UUID"),
            version=str(kwargs.get("version", "")),
            from_site=request.query_params.get("from_site"),
            address=client_address(request.META),
        )
        return site, None

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="sync"'
