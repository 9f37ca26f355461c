"""Production safety: settings from the environment, the development key refused, 503 when the database
is unreachable, and no software versions given out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.test import Client

from apps.queue import selectors
from tests.support import json_error

ROOT = Path(__file__).resolve().parents[2]
DEVELOPMENT_SECRET_KEY = django_settings.DEVELOPMENT_SECRET_KEY
SECURE_ENV = {
    "SECRET_KEY": "k" * 20 + "-a-long-random-production-key-0123456789abcdef",
    "ALLOWED_HOSTS": "sync.example.org",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "CSRF_TRUSTED_ORIGINS": "https://sync.example.org",
}


def run_python(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    dropped = ("DEBUG", "SECRET_KEY", "SECRET_KEY_FILE")
    base = {k: v for k, v in os.environ.items() if k not in SECURE_ENV and k not in dropped}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_when_the_production_settings_are_set():
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", **SECURE_ENV)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("key", [DEVELOPMENT_SECRET_KEY, "too-short"])
def test_check_deploy_reports_the_development_or_a_short_secret_key(key):
    env = {**SECURE_ENV, "SECRET_KEY": key}
    result = run_python("manage.py", "check", "--deploy", **env)

    assert result.returncode != 0
    assert "syncserver.E001" in result.stderr


@pytest.mark.parametrize("key", [DEVELOPMENT_SECRET_KEY, "too-short"])
def test_the_wsgi_application_refuses_to_start_with_the_development_key_unless_debug(key):
    refused = run_python("-c", "import syncserver.wsgi", SECRET_KEY=key)
    debug = run_python("-c", "import syncserver.wsgi", DEBUG="true", SECRET_KEY=key)
    production = run_python("-c", "import syncserver.wsgi", SECRET_KEY=SECURE_ENV["SECRET_KEY"])

    assert refused.returncode != 0 and "SECRET_KEY is the public development key" in refused.stderr
    assert debug.returncode == 0, debug.stderr
    assert production.returncode == 0, production.stderr


def test_without_a_secret_key_an_installation_makes_its_own_once_and_keeps_it(tmp_path):
    key_file = tmp_path / "secret_key"
    show = "from django.conf import settings; import syncserver.wsgi; print(settings.SECRET_KEY)"

    first = run_python(
        "-c", show, SECRET_KEY_FILE=str(key_file), DJANGO_SETTINGS_MODULE="syncserver.settings"
    )
    again = run_python(
        "-c", show, SECRET_KEY_FILE=str(key_file), DJANGO_SETTINGS_MODULE="syncserver.settings"
    )

    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert key == again.stdout.strip() == key_file.read_text().strip()
    assert len(key) >= 50 and key != DEVELOPMENT_SECRET_KEY
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only


@pytest.mark.django_db
def test_an_unreachable_database_is_503_with_retry_after(sat, monkeypatch):
    def gone(**kwargs):
        raise OperationalError(2006, "MySQL server has gone away")

    monkeypatch.setattr(selectors, "queue_length", gone)

    response = sat.get("queued_records/count")

    assert "database is unreachable" in json_error(response, 503)
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_other_database_errors_are_not_hidden_as_503(sat, monkeypatch):
    def broken(**kwargs):
        raise OperationalError(1054, "Unknown column")

    monkeypatch.setattr(selectors, "queue_length", broken)
    client = sat.client
    client.raise_request_exception = False

    assert sat.get("queued_records/count").status_code == 500


def test_connections_are_health_checked(settings):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.mark.django_db
def test_the_status_gives_no_software_versions():
    body = Client().get("/sync/status").json()

    assert body["status"] == "ok"
    assert not {"django", "python", "mariadb"} & set(body)
