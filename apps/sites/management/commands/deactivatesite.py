"""`deactivatesite SITE_ID`: refuse a site from its next request on, keeping its queue and history."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.sites.models import Site
from apps.sites.services import SiteError, site_set_active


class SetActiveCommand(BaseCommand):
    """Deactivate (or, in activatesite, activate) one site through the service, which every worker sees."""

    active = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("site_id", metavar="SITE_ID", type=int, help="The site's number.")

    def handle(self, *args: Any, site_id: int, **options: Any) -> None:
        try:
            site = site_set_active(site_id=site_id, active=self.active)
        except SiteError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.done(site))

    def done(self, site: Site) -> str:
        return f"Deactivated site {site.pk} '{site.name}': its next sync is refused."


class Command(SetActiveCommand):
    help = (
        "Deactivate a site: its next sync is refused (by every worker), its queue, sync log and records "
        "are kept. activatesite lets it in again."
    )
