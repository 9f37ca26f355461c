"""manage.py demodata: demo sites, stores, users and realistic records, through the normal write path."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.demo.generators import SIZES, DemoSize
from apps.demo.import_schedule import ensure_demo_schedule, schedule_summary
from apps.demo.seeding import format_credentials, format_summary, seed_demo
from apps.demo.staff import ensure_demo_staff_user, format_staff_login
from apps.sites.services import SiteError


class Command(BaseCommand):
    help = (
        "Create demo satellites (site 2 'pharmacy', site 3 'clinic', ...) with a store and a user each, "
        "and fill the primary with realistic items, names, stock and invoices; the sites' queues fill "
        "through the normal fan-out. Safe to run twice: the same seed changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", choices=sorted(SIZES), default="small", help="Preset (default small).")
        for option, what in (
            ("--items", "items"),
            ("--names", "names (suppliers, customers, patients)"),
            ("--transactions", "invoices"),
            ("--lines-per-transaction", "lines per invoice, on average"),
        ):
            parser.add_argument(option, type=int, help=f"Number of {what}; overrides the preset.")
        parser.add_argument("--sites", type=int, default=2, help="How many satellites (default 2).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--password", default="demo", help="Password of new sites and users.")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Server URL to print.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bars on stderr.")
        parser.add_argument(
            "--staff-user",
            default="admin",
            help="A staff login for the admin, made with a random password that is printed (default "
            "admin; empty: none). For a demo only.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        preset = SIZES[options["size"]]
        size = DemoSize(
            items=_count(options["items"], preset.items, "--items"),
            names=_count(options["names"], preset.names, "--names"),
            transactions=_count(options["transactions"], preset.transactions, "--transactions"),
            lines_per_transaction=max(
                1, _count(options["lines_per_transaction"], preset.lines_per_transaction, "--lines")
            ),
        )
        if options["sites"] < 1:
            raise CommandError("--sites must be at least 1.")
        if not options["password"]:
            raise CommandError("--password must not be empty.")
        show = not options["no_progress"] and options["verbosity"] > 0
        try:
            result = seed_demo(
                size=size,
                sites=options["sites"],
                seed=options["seed"],
                password=options["password"],
                progress=None if show else False,
                progress_file=sys.stderr,
            )
        except SiteError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(format_summary(result))
        self.stdout.write(schedule_summary(ensure_demo_schedule()))
        self.stdout.write("")
        self.stdout.write(format_credentials(result, url=options["url"]))
        if options["staff_user"]:
            password = ensure_demo_staff_user(username=options["staff_user"])
            self.stdout.write(
                format_staff_login(username=options["staff_user"], password=password, url=options["url"])
            )
        if result.refused:
            raise CommandError(f"{result.refused} generated record(s) were refused; see above.")


def _count(value: int | None, default: int, option: str) -> int:
    if value is None:
        return default
    if value < 0:
        raise CommandError(f"{option} must not be negative.")
    return value
