"""`createstore STORE_ID NAME --site ID --name-id NAME_ID`: make a store active on a site."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.sites.services import SiteError, store_create


class Command(BaseCommand):
    help = (
        "Create a store and make it active on a site: its records then sync to that site only, and only "
        "that site may push them. STORE_ID is the store's id in the legacy store table."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("store_id", metavar="STORE_ID", help="The store's id (as in the store table).")
        parser.add_argument("name", metavar="NAME", help="The store's name, for people.")
        parser.add_argument(
            "--site", type=int, required=True, dest="site_id", help="The site the store is active on."
        )
        parser.add_argument(
            "--name-id", required=True, dest="name_id", help="The store's entry in the name table (name_ID)."
        )
        parser.add_argument("--code", default="", help="The store's short code (optional).")
        parser.add_argument(
            "--supplying-store",
            dest="supplying_store_id",
            default=None,
            metavar="STORE_ID",
            help="The store that supplies this one (optional; it must exist already).",
        )

    def handle(
        self,
        *args: Any,
        store_id: str,
        name: str,
        site_id: int,
        name_id: str,
        code: str,
        supplying_store_id: str | None,
        **options: Any,
    ) -> None:
        try:
            store = store_create(
                store_id=store_id,
                name=name,
                site_id=site_id,
                name_id=name_id,
                code=code,
                supplying_store_id=supplying_store_id,
            )
        except SiteError as exc:
            raise CommandError(str(exc)) from exc
        supplied = f", supplied by {store.supplying_store_id}" if store.supplying_store_id else ""
        self.stdout.write(
            f"Created store {store.pk} '{store.name}' (name_ID {store.name_id}), "
            f"active on site {site_id}{supplied}."
        )
