"""`initialdump SITE_ID [--full]`: rebuild a site's queue from the central store, as the API call does."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.queue.services import initial_dump
from apps.sites.models import PRIMARY_SITE_ID, Site


class Command(BaseCommand):
    help = (
        "Throw away a site's queue and rebuild it from the central store (what the site's own initial_dump "
        "call does). Without --full: the mobile-store subset (its stores' data and the central records they "
        "can see). With --full: everything routed to the site, for a re-install."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("site_id", metavar="SITE_ID", type=int, help="The site whose queue to rebuild.")
        parser.add_argument(
            "--full", action="store_true", help="Queue everything routed to the site, not the mobile subset."
        )

    def handle(self, *args: Any, site_id: int, full: bool, **options: Any) -> None:
        if site_id == PRIMARY_SITE_ID:
            raise CommandError("Site 1 is the primary itself and has no queue; give a satellite's id.")
        site = Site.objects.filter(pk=site_id).first()
        if site is None:
            raise CommandError(f"There is no site {site_id}; list the sites in the admin or create one.")
        length = initial_dump(site=site, full=full)
        kind = "full" if full else "mobile-store"
        self.stdout.write(
            f"Rebuilt the queue of site {site.pk} '{site.name}' ({kind} dump): {length} records."
        )
