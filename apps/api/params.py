"""Query parameters, checked with errors that say what is wrong."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request

from apps.sites.models import PRIMARY_SITE_ID, Site

from .errors import BadRequest, Forbidden


def int_param(request: Request, name: str, *, default: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise BadRequest(f"The query parameter '{name}' is required.")
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise BadRequest(f"The query parameter '{name}' must be a whole number, not '{raw}'.") from exc


def check_site_params(request: Request, site: Site) -> None:
    """`from_site` must be the authenticated site and `to_site` the primary: no one reads another queue."""
    from_site = int_param(request, "from_site")
    to_site = int_param(request, "to_site")
    if from_site != site.pk:
        raise Forbidden(
            f"from_site={from_site} is not the site these credentials belong to (site {site.pk})."
        )
    if to_site != PRIMARY_SITE_ID:
        raise Forbidden(f"to_site={to_site} is not this server: the primary is site {PRIMARY_SITE_ID}.")


def pull_limit(request: Request) -> int:
    limit = int_param(request, "limit", default=1)
    if limit < 1:
        raise BadRequest("The query parameter 'limit' must be 1 or more.")
    return min(limit, settings.SYNC_PULL_CAP)
