"""The OpenAPI schema describes every HTTP endpoint, the browsable page uses only shipped files, and
docs/api.md is the schema's own rendering."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.api.openapi import OPERATIONS

EXAMPLE_PATH_VALUES = {"version": "v3", "schedule_id": "1"}


def routed_views(resolver: URLResolver | None = None) -> set[Any]:
    """The view behind every route of the project, except the admin's (the health page too) and the
    schema's own pages."""
    found: set[Any] = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name != "admin":
                found |= routed_views(pattern)
        elif isinstance(pattern, URLPattern) and not str(pattern.pattern).startswith("admin/"):
            view = getattr(pattern.callback, "view_class", pattern.callback)
            if view not in (SpectacularAPIView, SpectacularSwaggerView):
                found.add(view)
    return found


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_served_as_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "syncserver API"


def test_every_route_is_in_the_schema(schema):
    described = set()
    for path in schema["paths"]:
        example = re.sub(r"\{(\w+)\}", lambda m: EXAMPLE_PATH_VALUES[m.group(1)], path)
        described.add(resolve(example).func.view_class)
    assert described == routed_views()
    # And each is described in apps/api/openapi.py, not left to drf-spectacular's guesses.
    assert routed_views() <= set(OPERATIONS)


def test_every_method_a_view_answers_is_described():
    for view, (_tag, operations) in OPERATIONS.items():
        answered = {m for m in view.http_method_names if m not in ("options", "head") and hasattr(view, m)}
        assert set(operations) == answered, view.__name__


def test_each_operation_says_how_it_authenticates(schema):
    schemes = schema["components"]["securitySchemes"]
    assert {"siteBasic", "userOrSiteBasic", "siteBasicWithoutDevice", "apiKey"} <= set(schemes)
    pull = schema["paths"]["/sync/{version}/queued_records"]["get"]
    assert pull["security"] == [{"siteBasic": []}]
    assert {p["name"] for p in pull["parameters"]} >= {"from_site", "to_site", "limit", "version"}
    assert schema["paths"]["/api/sync/schedules"]["get"]["security"] == [{"apiKey": []}]
    assert "security" not in schema["paths"]["/health"]["get"]


def test_the_browsable_page_uses_only_files_the_package_ships():
    page = Client().get("/api/schema/docs/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in text
    assert not re.search(r"""(src|href)=["']?https?://""", text)
    assert re.search(r"""["']\\?/api\\?/schema\\?/["']""", text)


def test_docs_api_md_is_the_rendering_of_the_schema():
    out = StringIO()
    call_command("apidocs", "--check", stdout=out)
    assert "matches the schema" in out.getvalue()
