"""Refusing to run in production with the public development SECRET_KEY.

`insecure_secret_key()` is the rule; the WSGI application (what gunicorn serves) refuses to start on it,
and `manage.py check --deploy` reports it as an error. Tests, `runserver` and the demo are not affected.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

INSECURE_KEY_MESSAGE = (
    "SECRET_KEY is the public development key and DEBUG is off: set SECRET_KEY to a long random "
    "string (docs/operations.md, 'Security'), or DEBUG=true for development only."
)


def insecure_secret_key() -> bool:
    return not settings.DEBUG and (
        settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY or len(settings.SECRET_KEY) < 32
    )


def refuse_insecure_secret_key() -> None:
    if insecure_secret_key():
        raise ImproperlyConfigured(INSECURE_KEY_MESSAGE)


@register(Tags.security, deploy=True)
def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if insecure_secret_key():
        return [Error(INSECURE_KEY_MESSAGE, id="syncserver.E001")]
    return []
