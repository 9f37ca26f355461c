"""`createapikey NAME --scope settings [--owner USERNAME]`: make an API key and print it, once."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.sites.models import API_KEY_SCOPES
from apps.sites.services import SiteError, apikey_create


class Command(BaseCommand):
    help = (
        "Make an API key for the settings or schedules APIs and print it. The key is shown only now: "
        "the server keeps a hash of it. Revoke it in the admin (API keys)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", metavar="NAME", help="What the key is for, e.g. the device or service.")
        parser.add_argument(
            "--scope",
            action="append",
            required=True,
            dest="scopes",
            help="What the key may be used for: "
            + ", ".join(sorted(API_KEY_SCOPES))
            + ". Repeat or comma-separate.",
        )
        parser.add_argument("--owner", help="User name of the operator account the key acts for.")

    def handle(self, *args: Any, name: str, scopes: list[str], owner: str | None, **options: Any) -> None:
        owner_user = None
        if owner:
            owner_user = get_user_model().objects.filter(username=owner).first()
            if owner_user is None:
                raise CommandError(f"There is no user '{owner}'; create it with createsuperuser first.")
        try:
            key, raw_key = apikey_create(
                name=name, scopes=[s for part in scopes for s in part.split(",")], owner=owner_user
            )
        except SiteError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(
            f"Created API key '{key.name}' (scopes: {key.scopes}). It is shown only this once; store it now:"
        )
        self.stdout.write(raw_key)
