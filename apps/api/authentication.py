"""DRF authentication: the requesting site, from Basic `site:sha256hex` and the hardware header; or an
API key for the APIs that take one."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apps.sites.authentication import (
    ApiKeyRefused,
    api_key_from_header,
    apikey_authenticate,
    authenticate_site,
    authenticate_user_or_site,
)
from apps.sites.lockout import client_address
from apps.sites.models import ApiKey, Site, SyncUser


def _credentials(request: Request) -> dict[str, Any]:
    kwargs = (getattr(request, "parser_context", None) or {}).get("kwargs") or {}
    return {
        "authorization": request.META.get("HTTP_AUTHORIZATION"),
        "hardware_id": request.META.get("HTTP_MSUPPLY_SITE_UUID"),
        "version": str(kwargs.get("version", "")),
        "from_site": request.query_params.get("from_site"),
        "address": client_address(request.META),
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


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: <key>` or `Bearer <key>`, for views that name the scope they need.

    The view sets `api_key_scope`; `request.auth` is then the ApiKey and `request.user` its owner (None
    for a key without an owner).
    """

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser | None, ApiKey]:
        view = (getattr(request, "parser_context", None) or {}).get("view")
        scope = getattr(view, "api_key_scope", "")
        if not scope:
            raise ImproperlyConfigured(f"{type(view).__name__} must set api_key_scope to use API keys.")
        raw_key = api_key_from_header(request.META.get("HTTP_AUTHORIZATION"))
        key = apikey_authenticate(raw_key=raw_key, scope=scope, address=client_address(request.META))
        if key is None:
            raise ApiKeyRefused(
                f"Unknown or revoked API key, or the key lacks the '{scope}' scope. "
                "Ask an operator for a key (createapikey NAME --scope " + scope + ")."
            )
        return key.owner, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
