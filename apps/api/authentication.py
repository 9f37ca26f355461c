"""DRF authentication: the requesting site, from Basic `site:sha256hex` and the hardware header."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apps.sites.authentication import authenticate_site, authenticate_user_or_site
from apps.sites.models import Site, SyncUser


def _credentials(request: Request) -> dict[str, Any]:
    kwargs = (getattr(request, "parser_context", None) or {}).get("kwargs") or {}
    return {
        "authorization": request.META.get("HTTP_AUTHORIZATION"),
        "hardware_id": request.META.get("HTTP_MSUPPLY_SITE_UUID"),
        "version": str(kwargs.get("version", "")),
        "from_site": request.query_params.get("from_site"),
    }


class SiteBasicAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Site, None]:
        return authenticate_site(**_credentials(request)), None

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="sync"'


class UserOrSiteBasicAuthentication(SiteBasicAuthentication):
    """For `user`: a user's own credentials (the mobile login) or the site's."""

    def authenticate(self, request: Request) -> tuple[SyncUser | Site, None]:  # type: ignore[override]
        return authenticate_user_or_site(**_credentials(request)), None
