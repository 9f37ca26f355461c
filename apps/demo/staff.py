"""The demo's staff login for the admin: made once with a random password, which demodata prints."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model


def ensure_demo_staff_user(*, username: str) -> str | None:
    """A superuser for the demo's admin; its new password, or None when the user existed already (then
    it is left as it is: `manage.py changepassword` sets a new one)."""
    users = get_user_model()
    if users.objects.filter(username=username).exists():
        return None
    password = secrets.token_urlsafe(12)
    users.objects.create_superuser(username=username, email="", password=password)
    return password


def format_staff_login(*, username: str, password: str | None, url: str) -> str:
    shown = password if password is not None else "(unchanged: the user existed already)"
    return f"Admin: {url}/admin/  user {username}  password {shown}  (demo only)"
