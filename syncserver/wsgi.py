"""WSGI entry point: `gunicorn syncserver.wsgi`. Refuses to start with the development SECRET_KEY."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "syncserver.settings")

application = get_wsgi_application()

from syncserver.checks import refuse_insecure_secret_key  # noqa: E402 - needs the settings loaded

refuse_insecure_secret_key()
