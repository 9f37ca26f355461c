"""`resethardware SITE_ID`: let a site sync from a new device (a replaced tablet or server)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.sites.services import SiteError, site_reset_hardware


class Command(BaseCommand):
    help = (
        "Forget the device a site is bound to (its msupply-site-uuid), so the next device that syncs with "
        "the site's credentials is accepted and bound instead. Use it when a site's hardware is replaced."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("site_id", metavar="SITE_ID", type=int, help="The site's number.")

    def handle(self, *args: Any, site_id: int, **options: Any) -> None:
        try:
            site = site_reset_hardware(site_id=site_id)
        except SiteError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Reset the hardware binding of site {site.pk} '{site.name}': "
            "the next device that syncs as this site will be bound to it."
        )
