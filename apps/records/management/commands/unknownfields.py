"""`unknownfields [--type RECORD_TYPE] [--clear]`: the field names clients send that the registry lacks."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from apps.records.models import UnknownField


class Command(BaseCommand):
    help = (
        "List the field names clients sent that fixtures/registry.json does not know. The records were "
        "kept with them and v2/v3 pulls carry them; add them to the registry (with new v1 numbers) so "
        "v1 clients receive them too."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--type", dest="record_type", help="Only this record type.")
        parser.add_argument(
            "--clear",
            action="store_true",
            help="Forget the listed names (after adding them to the registry).",
        )

    def handle(self, *args: Any, record_type: str | None, clear: bool, **options: Any) -> None:
        rows = UnknownField.objects.select_related("last_site").order_by("record_type", "name")
        if record_type:
            rows = rows.filter(record_type=record_type)
        listed = list(rows)
        if not listed:
            self.stdout.write("No unknown field names.")
            return
        for row in listed:
            self.stdout.write(
                f"{row.record_type}.{row.name}  last seen {row.last_seen_at:%Y-%m-%d %H:%M} "
                f"from site {row.last_site_id}  e.g. {row.example[:60]!r}"
            )
        self.stdout.write(f"{len(listed)} unknown field name(s).")
        if clear:
            rows.delete()
            self.stdout.write("Cleared.")
