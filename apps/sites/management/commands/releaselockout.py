"""`releaselockout [--name NAME] [--address ADDRESS]`: let a locked-out site, user or address in again."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.sites.lockout import release_lockout


class Command(BaseCommand):
    help = (
        "Forget the failed logins of a login name (from every address), of a client address, or of a name "
        "from one address, so the next correct login is accepted at once. Admin user names are 'admin:NAME'."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--name", default="", help="The site, user or 'admin:NAME' login name.")
        parser.add_argument("--address", default="", help="The client address the failures came from.")

    def handle(self, *args: Any, name: str, address: str, **options: Any) -> None:
        if not name and not address:
            raise CommandError("Give --name, --address, or both.")
        released = release_lockout(name=name or None, address=address or None)
        whom = " from ".join(part for part in (name and f"'{name}'", address) if part)
        self.stdout.write(f"Released {whom}: {released.rows} failure count(s) forgotten.")
