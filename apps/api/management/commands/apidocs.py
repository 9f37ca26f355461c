"""`apidocs [--check]`: write docs/api.md from the OpenAPI schema, or check that it is up to date."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.api.openapi import generated_schema, markdown

API_DOC = Path(settings.BASE_DIR) / "docs" / "api.md"


class Command(BaseCommand):
    help = (
        "Write docs/api.md from the OpenAPI schema (what /api/schema/ serves), so the page and the schema "
        "cannot drift. With --check: change nothing, fail when the page is out of date."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--check", action="store_true", help="Only compare; exit 1 when they differ.")

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        text = markdown(generated_schema())
        current = API_DOC.read_text(encoding="utf-8") if API_DOC.exists() else ""
        if check:
            if current != text:
                raise CommandError(f"{API_DOC.name} is out of date: run `manage.py apidocs` and commit it.")
            self.stdout.write(f"{API_DOC.name} matches the schema.")
            return
        API_DOC.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {API_DOC.name} from the OpenAPI schema.")
