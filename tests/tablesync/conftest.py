from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from django.test import Client

from apps.records.registry import get_registry
from apps.records.registry_sync import sync_registry
from apps.sites.models import Site
from tests.support import basic_auth, make_site

EXTENSION = Path(__file__).with_name("operator_tables.json")
ALLOWED = ["sales", "product_stock", "Location", "name", "item"]


@pytest.fixture
def operator_tables(settings, db):
    """The operator's own tables (sales, product_stock) next to mSupply's, and an allowlist."""
    settings.SYNC_REGISTRY_EXTENSION = str(EXTENSION)
    settings.SYNC_ALLOWED_TABLES = ALLOWED
    get_registry.cache_clear()
    sync_registry()
    yield
    get_registry.cache_clear()


class TableClient:
    """An offline app authenticated as a site, speaking the table sync API over HTTP."""

    def __init__(self, site: Site, password: str = "pass", hardware_id: str | None = None) -> None:
        self.site = site
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": basic_auth(site.name, password)}
        if hardware_id:
            self.headers["HTTP_MSUPPLY_SITE_UUID"] = hardware_id

    def post(self, path: str, body: Any):
        payload = body if isinstance(body, bytes) else orjson.dumps(body)
        return self.client.post(path, payload, content_type="application/json", **self.headers)

    def push(self, *operations: dict[str, Any], path: str = "/sync/push", **extra: Any):
        return self.post(path, {"operations": list(operations), **extra})

    def pull(self, **body: Any):
        return self.post("/sync/pull", body)

    def get(self, path: str):
        return self.client.get(path, **self.headers)


def op(table: str, action: str, **data: Any) -> dict[str, Any]:
    return {"table": table, "action": action, "data": data}


@pytest.fixture
def pos(operator_tables) -> TableClient:
    return TableClient(make_site(2))
