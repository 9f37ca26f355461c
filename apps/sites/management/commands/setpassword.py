"""`setpassword --site ID | --user NAME --password PW`: give a site or a mobile user a new password."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.sites.models import SyncUser
from apps.sites.services import SiteError, site_get, site_set_password, sync_user_set_password


class Command(BaseCommand):
    help = (
        "Set the password of a site or of a user of the mobile login. The old password is refused from the "
        "next request on, by every worker."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        whose = parser.add_mutually_exclusive_group(required=True)
        whose.add_argument("--site", type=int, dest="site_id", metavar="ID", help="The site's number.")
        whose.add_argument("--user", dest="username", metavar="NAME", help="The user's name.")
        parser.add_argument("--password", required=True, help="The new password.")

    def handle(
        self, *args: Any, site_id: int | None, username: str | None, password: str, **options: Any
    ) -> None:
        try:
            if site_id is not None:
                site = site_get(site_id=site_id)
                if site.is_primary:
                    raise SiteError("Site 1 is the primary itself; it never logs in.")
                site_set_password(site=site, password=password)
                self.stdout.write(f"Set the password of site {site.pk} '{site.name}'.")
                return
            user = SyncUser.objects.filter(username=username).first()
            if user is None:
                raise SiteError(f"There is no user '{username}'.")
            sync_user_set_password(user=user, password=password)
            self.stdout.write(f"Set the password of user '{user.username}'.")
        except SiteError as exc:
            raise CommandError(str(exc)) from exc
