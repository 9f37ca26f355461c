"""A change made from the command line or the admin is seen by every worker of a running gunicorn on its
next request.

Each request is pinned to one worker: the other workers are stopped (SIGSTOP) while it is sent, so the
only process that can accept it is the one named. The server runs with the default cache settings.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.faults.test_gunicorn_faults import database_url
from tests.support import basic_auth, make_site

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.skipif(connection.vendor != "mysql", reason="needs MySQL/MariaDB and gunicorn"),
    pytest.mark.django_db(transaction=True),
]

WORKERS = 3
# Left to their defaults on the server and in the commands: what an operator gets without configuring.
DEFAULTED = ("CACHE_URL", "SYNC_AUTH_SITE_CACHE_SECONDS", "SYNC_AUTH_CACHE_SECONDS")
ROOT = Path(__file__).resolve().parents[2]


def defaults_env() -> dict[str, str]:
    from bench.server import server_env

    env = server_env(database_url())
    for key in DEFAULTED:
        env.pop(key, None)
    return env


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Any]:
    from bench.server import Gunicorn

    saved = {key: os.environ.pop(key, None) for key in DEFAULTED}
    try:
        running = Gunicorn(database_url(), tmp_path / "gunicorn.log", workers=WORKERS)
    finally:
        os.environ.update({key: value for key, value in saved.items() if value is not None})
    try:
        yield running
    finally:
        running.stop()


@contextmanager
def only_worker(server: Any, worker: int) -> Iterator[None]:
    others = [pid for pid in server.worker_pids() if pid != worker]
    for pid in others:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in others:
            os.kill(pid, signal.SIGCONT)


def on_every_worker(server: Any, request: Callable[[], int]) -> list[int]:
    workers = sorted(server.worker_pids())
    assert len(workers) == WORKERS
    statuses = []
    for worker in workers:
        with only_worker(server, worker):
            statuses.append(request())
    return statuses


def count_call(server: Any, *, password: str, device: str) -> Callable[[], int]:
    def call() -> int:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            conn.request(
                "GET",
                "/sync/v3/queued_records/count?from_site=2&to_site=1",
                headers={"Authorization": basic_auth("site2", password), "msupply-site-uuid": device},
            )
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    return call


def manage(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=defaults_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_command_line_changes_apply_on_the_next_request_in_every_worker(server):
    make_site(2, password="old")
    everywhere_ok = [200] * WORKERS
    # Every worker has authenticated the site bound to device A, and kept whatever it keeps.
    assert on_every_worker(server, count_call(server, password="old", device="A")) == everywhere_ok

    manage("resethardware", "2")
    assert on_every_worker(server, count_call(server, password="old", device="B")) == everywhere_ok

    manage("setpassword", "--site", "2", "--password", "new")
    assert on_every_worker(server, count_call(server, password="old", device="B")) == [401] * WORKERS
    assert on_every_worker(server, count_call(server, password="new", device="B")) == everywhere_ok

    manage("deactivatesite", "2")
    assert on_every_worker(server, count_call(server, password="new", device="B")) == [401] * WORKERS
    manage("activatesite", "2")
    assert on_every_worker(server, count_call(server, password="new", device="B")) == everywhere_ok


def test_a_lockout_released_from_the_command_line_lets_the_site_in_at_every_worker(server):
    make_site(2, password="right")
    wrong = count_call(server, password="wrong", device="A")
    # The failures of every worker add up to SYNC_AUTH_MAX_FAILURES (10), then the name is locked.
    statuses = [wrong() for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    right = count_call(server, password="right", device="A")
    assert on_every_worker(server, right) == [429] * WORKERS
    released = manage("releaselockout", "--name", "site2")
    assert re.search(r": [1-9][0-9]* failure count\(s\) forgotten", released), released
    assert on_every_worker(server, right) == [200] * WORKERS


class AdminBrowser:
    """The operator in the admin of the running server: a session cookie and the CSRF token of each form."""

    def __init__(self, server: Any) -> None:
        self.base = f"http://127.0.0.1:{server.port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def form_token(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as response:
            page = response.read().decode()
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    def post(self, path: str, fields: dict[str, Any]) -> str:
        """Post the form of `path` (after reading its token); the path it redirected to."""
        data = {"csrfmiddlewaretoken": self.form_token(path), **fields}
        body = urllib.parse.urlencode(data, doseq=True).encode()
        with self.opener.open(self.base + path, data=body, timeout=60) as response:
            return urllib.parse.urlsplit(response.geturl()).path


def test_admin_changes_apply_on_the_next_request_in_every_worker(server, django_user_model):
    make_site(2, password="old")
    django_user_model.objects.create_superuser(username="ops", email="", password="ops-pass")
    assert on_every_worker(server, count_call(server, password="old", device="A")) == [200] * WORKERS
    admin = AdminBrowser(server)
    assert admin.post("/admin/login/?next=/admin/", {"username": "ops", "password": "ops-pass"}) == "/admin/"

    site_page = {
        "name": "site2",
        "is_active": "on",
        "password": "new",
        "stores-TOTAL_FORMS": 1,
        "stores-INITIAL_FORMS": 1,
        "stores-0-id": "STORE2",
        "stores-0-site": 2,
        "stores-2-TOTAL_FORMS": 0,
        "stores-2-INITIAL_FORMS": 0,
    }
    assert admin.post("/admin/sites/site/2/change/", site_page) == "/admin/sites/site/"
    assert on_every_worker(server, count_call(server, password="old", device="A")) == [401] * WORKERS
    assert on_every_worker(server, count_call(server, password="new", device="A")) == [200] * WORKERS

    assert admin.post("/admin/sites/site/", {"action": "deactivate_sites", "_selected_action": [2]}) == (
        "/admin/sites/site/"
    )
    assert on_every_worker(server, count_call(server, password="new", device="A")) == [401] * WORKERS
