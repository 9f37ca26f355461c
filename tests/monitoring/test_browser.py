"""The operator's admin in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Skipped with the reason when Playwright or chromium is missing, except where BROWSER_TESTS_REQUIRED is
set (.ci/run sets it): there a missing browser fails the test instead of hiding it. Screenshots of each
step go to test-artifacts/ at the repository root.

Each step is a method of `AdminBrowser`, so a new admin step is one more
method and one more line in the test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from apps.monitoring.services import count_call
from apps.queue.models import QuarantinedRecord, QueueEntry, SiteDump
from apps.queue.snapshot import pending_count
from apps.records.models import Record
from apps.sites.lockout import TooManyFailures, check_not_locked, record_failure
from apps.sites.models import Site
from tests.support import make_site, primary_upsert

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SATELLITE_ADDRESS = "203.0.113.7"
REQUIRED = os.environ.get("BROWSER_TESTS_REQUIRED", "") not in ("", "0", "false")


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def browser_missing() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if chromium_path() is None:
        return "no chromium on PATH (Debian: apt-get install chromium)"
    return ""


pytestmark = pytest.mark.django_db(transaction=True)


class AdminBrowser:
    """One logged-in operator in Chromium; `shot` saves a screenshot under test-artifacts/."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base = page, base

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def log_in(self, username: str, password: str) -> None:
        self.page.goto(self.base + "/admin/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("input[type=submit]")
        self.page.wait_for_selector("#sync-health-link")

    def open_health(self) -> None:
        self.page.click("#sync-health-link a")
        self.page.wait_for_selector("#health-table")

    def health_sites(self) -> list[int]:
        return [
            int(s)
            for s in self.page.eval_on_selector_all("tr.site-row", "rows => rows.map(r => r.dataset.site)")
        ]

    def show(self, label: str) -> None:
        self.page.click(f'a[data-filter="{label}"]')
        self.page.wait_for_selector("#health-table")

    def run_site_action(self, site_id: int, action: str) -> str:
        self.page.goto(self.base + "/admin/sites/site/")
        self.page.check(f'input[name="_selected_action"][value="{site_id}"]')
        self.page.select_option('select[name="action"]', action)
        self.page.click('button[name="index"]')
        return self.page.inner_text("ul.messagelist")


@pytest.fixture
def browser(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminBrowser]:
    missing = browser_missing()
    if missing:
        if REQUIRED:
            pytest.fail(f"BROWSER_TESTS_REQUIRED is set but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still plain
    # synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = chromium.new_page(viewport={"width": 1500, "height": 900})
            yield AdminBrowser(page, live_server.url)
        finally:
            chromium.close()


def seed_operations() -> None:
    """A few sites in different states, and a day and a month of traffic in the rollup."""
    for site_id, name in ((2, "clinic-north"), (3, "clinic-south"), (4, "warehouse"), (5, "mobile-van")):
        make_site(site_id, name=name)
    for n in range(3):
        primary_upsert("item", f"I{n}", {"ID": f"I{n}", "item_name": f"Item {n}"})
    QueueEntry.objects.filter(site_id__in=[3, 4, 5]).delete()
    queued = QueueEntry.objects.filter(site_id=2).values_list("record_id", flat=True)
    Record.objects.filter(pk__in=list(queued)).update(modified_at=timezone.now() - timedelta(hours=6))
    now = timezone.now()
    Site.objects.filter(pk__in=[2, 4]).update(last_seen_at=now)
    Site.objects.filter(pk=3).update(last_seen_at=now - timedelta(days=9))
    SiteDump.objects.create(
        site_id=4, dumped_at=now - timedelta(days=20), dump_type="mobile", record_count=1234
    )
    QuarantinedRecord.objects.create(
        site_id=4, api_version="v3", raw="{}", reason="unknown store", received_at=now
    )
    for hours_ago in range(24 * 30):
        at = now - timedelta(hours=hours_ago)
        busy = 4 if 8 <= at.hour <= 18 else 1  # the stores are open in the day
        for site_id in (2, 4):
            for call, counts in (
                ("pull", {"pulled": 15 * busy + hours_ago % 11}),
                ("push", {"pushed": 5 * busy}),
            ):
                count_call(
                    site_id=site_id,
                    call=call,
                    status_code=200,
                    duration_ms=30,
                    at=at,
                    counts=counts,
                    app_version="8.7.4" if site_id == 2 else "8.6.1",
                )
        if hours_ago % 29 == 0:
            count_call(site_id=4, call="push", status_code=503, duration_ms=5, at=at, counts={}, error="busy")
    count_call(
        site_id=4, call="push", status_code=500, duration_ms=5, at=now, counts={}, error="database gone"
    )


def locked_out(site_name: str) -> bool:
    try:
        check_not_locked(name=site_name, address=SATELLITE_ADDRESS)
    except TooManyFailures:
        return True
    return False


def test_an_operator_sees_the_health_page_filters_behind_rebuilds_a_queue_and_releases_a_lockout(browser):
    User.objects.create_superuser("operator", password="operator-pw")
    seed_operations()

    browser.log_in("operator", "operator-pw")
    browser.open_health()
    assert browser.page.locator("svg.plot polyline.series").count() >= 4
    assert browser.health_sites() == [2, 3, 4, 5]
    browser.shot("health-page")

    browser.show("behind")
    assert browser.health_sites() == [2]
    browser.shot("health-behind")

    message = browser.run_site_action(3, "rebuild_queue")
    assert "queue rebuilt" in message
    # The dump is a snapshot the site pulls from, not queue rows (apps/queue/snapshot.py).
    assert pending_count(site_id=3) > 0
    browser.shot("site-queue-rebuilt")

    for _ in range(settings.SYNC_AUTH_MAX_FAILURES):
        record_failure(name="clinic-south", address=SATELLITE_ADDRESS)
    assert locked_out("clinic-south")
    message = browser.run_site_action(3, "release_lockouts")
    assert "Released clinic-south" in message
    assert not locked_out("clinic-south")
    browser.shot("site-lockout-released")
