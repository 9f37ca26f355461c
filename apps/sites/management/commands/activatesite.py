"""`activatesite SITE_ID`: let a deactivated site sync again."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.sites.services import SiteError, site_set_active


class Command(BaseCommand):
    help = (
        "Reactivate a site: its next sync is accepted. Nothing was queued for it while it was inactive, so "
        "rebuild its queue next with initialdump."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("site_id", metavar="SITE_ID", type=int, help="The site's number.")

    def handle(self, *args: Any, site_id: int, **options: Any) -> None:
        try:
            site = site_set_active(site_id=site_id, active=True)
        except SiteError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Activated site {site.pk} '{site.name}'. Nothing was queued for it while it was inactive: "
            f"rebuild its queue with initialdump {site.pk} [--full]."
        )
