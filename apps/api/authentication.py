"""DRF authentication: the requesting site, from Basic `site:sha256hex` and the hardware header; or an
API key for the APIs that take one.

How credentials travel is wire format, so it lives here: the Basic and Bearer headers, and the v1
legacy options (a plain password, one shared credential naming the site in `from_site`;
docs/protocol-v1.md). Checking them against the stored accounts is apps/sites/authentication.py.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from apps.sites.authentication import (
    ApiKeyRefused,
    AuthenticationFailed,
    apikey_authenticate,
    bind_hardware,
    load_site,
    refuse,
    site_authenticate,
    touch_last_seen,
    user_authenticate,
    user_with_password,
)
from apps.sites.lockout import check_not_locked, client_address
from apps.sites.models import ApiKey, Site, SyncUser
from apps.sites.selectors import site_by_id
from apps.sites.services import password_to_sha256


@dataclass(frozen=True)
class BasicCredentials:
    username: str
    secret: str


def parse_basic_header(header: str | None) -> BasicCredentials:
    if not header:
        raise AuthenticationFailed("Authentication required: send HTTP Basic credentials.")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise AuthenticationFailed("Malformed Authorization header: expected 'Basic <base64>'.")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise AuthenticationFailed("Malformed Authorization header: the credentials are not base64.") from exc
    username, sep, secret = decoded.partition(":")
    if not sep or not username:
        raise AuthenticationFailed("Malformed Authorization header: expected 'name:sha256-of-password'.")
    return BasicCredentials(username=username, secret=secret)


def authenticate_site(
    *,
    authorization: str | None,
    hardware_id: str | None,
    version: str = "",
    from_site: str | None = None,
    check_hardware: bool = True,
    address: str = "unknown",
) -> Site:
    """The site named by the Basic credentials, after the password and the hardware binding are checked.

    For v1 only, and only when the operator enables them (docs/protocol-v1.md): the plain password, and
    one shared legacy credential for which the site is the one named by `from_site`.
    """
    credentials = parse_basic_header(authorization)
    legacy = version == "v1"
    if legacy and settings.SYNC_V1_SHARED_USER and credentials.username == settings.SYNC_V1_SHARED_USER:
        check_not_locked(name=credentials.username, address=address)
        site = _v1_shared_site(credentials, from_site, address)
        bind_hardware(site=site, hardware_id=hardware_id)
        touch_last_seen(site)
        return site
    secrets = [credentials.secret]
    if legacy and settings.SYNC_V1_ALLOW_PLAIN_PASSWORD:
        secrets.append(password_to_sha256(credentials.secret))
    return site_authenticate(
        username=credentials.username,
        secrets=secrets,
        hardware_id=hardware_id,
        check_hardware=check_hardware,
        address=address,
    )


def _v1_shared_site(credentials: BasicCredentials, from_site: str | None, address: str) -> Site:
    """The shared legacy credential: checked against its configured hash; the site is `from_site`."""
    expected = settings.SYNC_V1_SHARED_PASSWORD_SHA256.strip().lower()
    offered = [credentials.secret.strip().lower()]
    if settings.SYNC_V1_ALLOW_PLAIN_PASSWORD:
        offered.append(password_to_sha256(credentials.secret))
    # Both settings must be set: an empty hash would otherwise accept an empty password.
    if not expected or not any(hmac.compare_digest(expected.encode(), s.encode()) for s in offered):
        raise refuse(
            name=credentials.username, address=address, message="Unknown or inactive site, or wrong password."
        )
    site_id = (from_site or "").strip()
    readable = site_id.isascii() and site_id.isdigit() and len(site_id) <= 9
    site = site_by_id(site_id=int(site_id)) if readable else None
    if site is None or not site.is_active or site.is_primary:
        raise AuthenticationFailed(
            f"The shared v1 sync credential needs from_site to name an active satellite; "
            f"from_site={site_id or '(missing)'} does not."
        )
    return site


def authenticate_user_or_site(
    *,
    authorization: str | None,
    hardware_id: str | None,
    version: str = "",
    from_site: str | None = None,
    address: str = "unknown",
) -> SyncUser | Site:
    """The `user` call takes a user's own credentials (the mobile login) or a site's (the sync API).

    The name decides: a site's name (or the shared v1 credential) goes to the site check, any other
    name to the user check. A user who has the same name as a site is tried first with the user's own
    password, so a mobile login is never shadowed by a site; only one failure is counted either way.
    """
    credentials = parse_basic_header(authorization)
    shared_v1 = version == "v1" and bool(settings.SYNC_V1_SHARED_USER)
    names_a_site = (shared_v1 and credentials.username == settings.SYNC_V1_SHARED_USER) or (
        load_site(credentials.username) is not None
    )
    if not names_a_site:
        return user_authenticate(username=credentials.username, secret=credentials.secret, address=address)
    check_not_locked(name=credentials.username, address=address)
    user = user_with_password(username=credentials.username, secret=credentials.secret)
    if user is not None:
        return user
    return authenticate_site(
        authorization=authorization,
        hardware_id=hardware_id,
        version=version,
        from_site=from_site,
        address=address,
    )


def api_key_from_header(header: str | None) -> str:
    """The raw key from `Authorization: <key>` or `Authorization: Bearer <key>`."""
    value = (header or "").strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    if not value:
        raise ApiKeyRefused("Authentication required: send 'Authorization: Bearer <API key>'.")
    return value


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
