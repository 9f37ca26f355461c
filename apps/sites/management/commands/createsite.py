"""`createsite ID NAME --password PW`: register a satellite site so it can log in and sync."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.sites.services import SiteError, site_create


class Command(BaseCommand):
    help = (
        "Register a satellite site. ID is its number (2 or more: site 1 is this primary), NAME is the user "
        "name it logs in with. The password is stored only as a salted hash of its SHA-256."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("site_id", metavar="ID", type=int, help="The site's number, 2 or more.")
        parser.add_argument("name", metavar="NAME", help="The user name the site logs in with.")
        parser.add_argument("--password", required=True, help="The password the site logs in with.")

    def handle(self, *args: Any, site_id: int, name: str, password: str, **options: Any) -> None:
        try:
            site = site_create(site_id=site_id, name=name, password=password)
        except SiteError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Created site {site.pk} '{site.name}'. Add a store to it with createstore --site {site.pk}."
        )
