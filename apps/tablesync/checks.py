"""Startup checks: the registry (with the operator's extension) loads, and every allowed table is in it.

Django runs these before `runserver` and `migrate`, and `manage.py check` runs them on demand, so a
typo in SYNC_ALLOWED_TABLES stops the deployment instead of refusing every push later.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from apps.records.registry import get_registry


@register()
def check_allowed_tables(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        registry = get_registry()
    except Exception as exc:  # any malformed entry: a check error in words, not a traceback
        return [
            Error(
                f"The record-type registry does not load: {exc}",
                hint="Fix SYNC_REGISTRY_EXTENSION's file (docs/tables-api.md shows its format).",
                id="tablesync.E001",
            )
        ]
    unknown = [name for name in settings.SYNC_ALLOWED_TABLES if registry.get(name) is None]
    if not unknown:
        return []
    return [
        Error(
            f"SYNC_ALLOWED_TABLES names record type(s) the registry does not have: {', '.join(unknown)}.",
            hint="Use registry names (case matters, e.g. 'item', 'Location'), or declare your own tables "
            "in the file named by SYNC_REGISTRY_EXTENSION.",
            id="tablesync.E002",
        )
    ]
