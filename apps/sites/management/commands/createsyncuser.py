"""`createsyncuser USERNAME --password PW --store STORE_ID [...]`: a person who logs in to the mobile app."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.sites.services import SiteError, sync_user_create


class Command(BaseCommand):
    help = (
        "Create a user of the mobile login (GET /sync/v3/user) and give them the stores they may log in "
        "to. Repeat --store for each store."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username", metavar="USERNAME", help="The name the user logs in with.")
        parser.add_argument("--password", required=True, help="The user's password.")
        parser.add_argument(
            "--store",
            action="append",
            required=True,
            dest="store_ids",
            metavar="STORE_ID",
            help="A store the user may log in to; repeat for several (at least one).",
        )
        parser.add_argument("--admin", action="store_true", help="Make the user an admin in the app.")

    def handle(
        self, *args: Any, username: str, password: str, store_ids: list[str], admin: bool, **options: Any
    ) -> None:
        try:
            user = sync_user_create(username=username, password=password, store_ids=store_ids, is_admin=admin)
        except SiteError as exc:
            raise CommandError(str(exc)) from exc
        role = "admin user" if user.is_admin else "user"
        stores = ", ".join(sorted(dict.fromkeys(store_ids)))
        self.stdout.write(f"Created {role} '{user.username}' (id {user.pk}) for store(s) {stores}.")
