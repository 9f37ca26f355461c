"""Behind a TLS-terminating proxy: the settings come from the environment, and the admin login works.

The proxy speaks plain HTTP to gunicorn and says `X-Forwarded-Proto: https`; the browser's Origin is the
public https address. CSRF passes only when the server believes the header (SECURE_PROXY_SSL_HEADER) and,
when the proxy does not pass the public Host on, when the origin is trusted (CSRF_TRUSTED_ORIGINS).
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from tests.api.test_production import SECURE_ENV, run_python

pytestmark = pytest.mark.django_db

PUBLIC = "https://sync.example.org"
PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps(["
    "s.SECURE_PROXY_SSL_HEADER, s.CSRF_TRUSTED_ORIGINS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD]))"
)


def test_the_proxy_settings_come_from_the_environment():
    result = run_python("-c", PRINT_SETTINGS, DJANGO_SETTINGS_MODULE="syncserver.settings", **SECURE_ENV)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        ["HTTP_X_FORWARDED_PROTO", "https"],
        [PUBLIC],
        True,
        True,
        True,
        31536000,
        True,
        True,
    ]


@pytest.fixture
def behind_proxy(settings, django_user_model):
    settings.ALLOWED_HOSTS = ["sync.example.org", "10.0.0.5"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.CSRF_TRUSTED_ORIGINS = [PUBLIC]
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    django_user_model.objects.create_superuser(username="ops", email="", password="ops-password")
    return settings


def log_in(*, host: str, forwarded_proto: str | None = "https") -> tuple[Client, int, str]:
    """A browser with CSRF enforced, through the proxy: the login page, then the login form posted."""
    browser = Client(enforce_csrf_checks=True)
    headers = {"HTTP_HOST": host, "HTTP_ORIGIN": PUBLIC, "HTTP_REFERER": f"{PUBLIC}/admin/login/"}
    if forwarded_proto:
        headers["HTTP_X_FORWARDED_PROTO"] = forwarded_proto
    page = browser.get("/admin/login/", **headers)
    assert page.status_code == 200, page.status_code
    assert browser.cookies["csrftoken"]["secure"]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    form = {"username": "ops", "password": "ops-password", "csrfmiddlewaretoken": token, "next": "/admin/"}
    response = browser.post("/admin/login/?next=/admin/", form, **headers)
    return browser, response.status_code, response.get("Location", "")


def test_the_admin_login_works_through_the_proxy(behind_proxy):
    browser, status, location = log_in(host="sync.example.org")
    assert (status, location) == (302, "/admin/")
    assert browser.cookies["sessionid"]["secure"]
    home = browser.get("/admin/", HTTP_HOST="sync.example.org", HTTP_X_FORWARDED_PROTO="https")
    assert home.status_code == 200
    assert home["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_proxy_that_does_not_pass_the_host_on_needs_the_trusted_origin(behind_proxy):
    assert log_in(host="10.0.0.5")[1:] == (302, "/admin/")
    behind_proxy.CSRF_TRUSTED_ORIGINS = []
    assert log_in(host="10.0.0.5")[1] == 403


def test_without_the_proxy_header_the_admin_is_redirected_to_https(behind_proxy):
    response = Client().get("/admin/login/", HTTP_HOST="sync.example.org")
    assert response.status_code == 301
    assert response["Location"] == "https://sync.example.org/admin/login/"


def test_a_proxy_header_that_is_not_believed_fails_the_csrf_check(behind_proxy):
    behind_proxy.SECURE_SSL_REDIRECT = False
    behind_proxy.SECURE_PROXY_SSL_HEADER = None
    behind_proxy.CSRF_TRUSTED_ORIGINS = []
    behind_proxy.CSRF_COOKIE_SECURE = False
    browser = Client(enforce_csrf_checks=True)
    headers = {"HTTP_HOST": "sync.example.org", "HTTP_ORIGIN": PUBLIC, "HTTP_X_FORWARDED_PROTO": "https"}
    page = browser.get("/admin/login/", **headers)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    form = {"username": "ops", "password": "ops-password", "csrfmiddlewaretoken": token}
    # The https Origin does not match what the server thinks is a plain-HTTP request.
    assert browser.post("/admin/login/", form, **headers).status_code == 403
