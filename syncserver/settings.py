"""Settings for syncserver, read from the environment (and `.env` if present).

Every variable is documented in docs/configuration.md and .env.example.
"""

import ipaddress
from pathlib import Path

import environ

from syncserver.secret_key import installation_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The public development key: the WSGI application (gunicorn) refuses to start with it (or with a key
# under 32 characters) unless DEBUG is on, and `check --deploy` reports it (syncserver/checks.py).
DEVELOPMENT_SECRET_KEY = "insecure-development-key-set-SECRET_KEY-in-production"
# Without SECRET_KEY, an installation makes its own random key once and keeps it in SECRET_KEY_FILE, so
# a fresh checkout never runs on a published key. Several hosts must share one key: set SECRET_KEY.
SECRET_KEY_FILE = env.path("SECRET_KEY_FILE", default=BASE_DIR / ".secret_key")
SECRET_KEY = env.str("SECRET_KEY", default="") or installation_secret_key(
    Path(SECRET_KEY_FILE), fallback=DEVELOPMENT_SECRET_KEY
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

# --- Behind TLS (docs/operations.md, "Security"); all off by default so the demo works over plain HTTP.
# The header a TLS-terminating proxy sets, e.g. "HTTP_X_FORWARDED_PROTO,https".
_proxy_ssl_header = env.tuple("SECURE_PROXY_SSL_HEADER", default=())
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if len(_proxy_ssl_header) == 2 else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# A load balancer's health probe may stay on plain HTTP; everything else, the sync API included, is
# redirected (configure clients with the https:// address).
SECURE_REDIRECT_EXEMPT = [r"^health/?$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    # Before the admin: its admin/index.html adds the link to the sync-health page.
    "apps.monitoring",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # The OpenAPI schema at /api/schema/ and its browsable page, from files the package ships (no CDN).
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.sites",
    "apps.records",
    "apps.queue",
    "apps.tablesync",
    "apps.settingsync",
    "apps.imports",
    "apps.lookups",
    "apps.api",
    "apps.demo",
]

MIDDLEWARE = [
    # First, so /metrics counts and times every answer (503 and 413 included).
    "apps.monitoring.middleware.RequestMetricsMiddleware",
    "apps.api.middleware.DatabaseUnavailableMiddleware",
    "apps.api.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "syncserver.urls"
WSGI_APPLICATION = "syncserver.wsgi.application"
# Real clients use both `queued_records` and `queued_records/`; the routes accept both, and a redirect
# would break POSTs.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'syncserver.sqlite3'}")}
_db = DATABASES["default"]
# A kept connection that died while idle (a database restart) is replaced before a request uses it.
_db["CONN_HEALTH_CHECKS"] = True
if _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].setdefault("charset", "utf8mb4")
    # READ COMMITTED: no gap locks, so concurrent pushes and acks of different sites do not block
    # each other on the queue index (docs/development/concurrency.md).
    _db["OPTIONS"].setdefault("isolation_level", "read committed")
    # The tests run under the collation scripts/mariadb.sh and docs/operations.md give production, so
    # they see what it does; id columns are made exact by migrations (records 0003, queue 0003).
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    _db.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {})
    # WAL lets readers go on while one writer commits; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue up instead of failing halfway with "database is locked".
    _db["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    _db["OPTIONS"].setdefault("timeout", 20)
    _db["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")

# The database cache by default: every worker on every host reads the same one, so a change made in the
# admin or by a command applies on the next request everywhere. `migrate` creates its table
# (apps/sites/apps.py). CACHE_URL may name memcached or redis instead.
CACHES = {
    "default": env.cache("CACHE_URL", default="dbcache://syncserver_cache"),
    # Verified credentials only, kept in each process: the key includes the stored password hash, so a
    # changed password can never be matched by an old entry (apps/sites/authentication.py).
    "verified_credentials": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "verified-credentials",
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["apps.api.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "EXCEPTION_HANDLER": "apps.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The OpenAPI description of every endpoint (apps/api/openapi.py; docs/api.md is generated from it).
SPECTACULAR_SETTINGS = {
    "TITLE": "syncserver API",
    "DESCRIPTION": "Every HTTP endpoint of the primary sync server. The protocol is in docs/protocol.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "",
    "SORT_OPERATIONS": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.api.openapi.paths_without_trailing_slash",
    ],
}

# --- Sync behaviour -------------------------------------------------------------------------------
# Largest request body accepted (bytes). Real clients send 1 to 3 MB pushes.
SYNC_MAX_BODY_BYTES = env.int("SYNC_MAX_BODY_BYTES", default=32 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = SYNC_MAX_BODY_BYTES
# Largest record (its data and its pull form, as SQL text) accepted, in bytes; 0: whatever the database's
# max_allowed_packet allows. A larger record is quarantined with the reason instead of failing the push.
SYNC_MAX_RECORD_BYTES = env.int("SYNC_MAX_RECORD_BYTES", default=0)
# Most records one pull returns, whatever `limit` asks for.
SYNC_PULL_CAP = env.int("SYNC_PULL_CAP", default=1000)
# The version number GET site reports to clients.
SYNC_SERVER_VERSION = env.int("SYNC_SERVER_VERSION", default=500)
# How long pushed SyncIDs are remembered so a replayed push is applied once (days).
SYNC_PUSHED_ID_RETENTION_DAYS = env.int("SYNC_PUSHED_ID_RETENTION_DAYS", default=90)
# How long sync log rows are kept (days).
SYNC_LOG_RETENTION_DAYS = env.int("SYNC_LOG_RETENTION_DAYS", default=30)
# Authentication: a verified credential is trusted for this long without re-running the slow hash.
SYNC_AUTH_CACHE_SECONDS = env.int("SYNC_AUTH_CACHE_SECONDS", default=300)
# How long an authenticated site's row is cached (seconds; 0: read it on every request, the default:
# reading the row costs what reading the database cache does). Worth setting with a memory cache in
# CACHE_URL; changes made through the admin, commands or services forget the cached row at once.
SYNC_AUTH_SITE_CACHE_SECONDS = env.int("SYNC_AUTH_SITE_CACHE_SECONDS", default=0)
# Failed logins for one name from one client address within the window before 429 Too Many Requests
# (for that name from that address only), and failures from one address under any names before that
# address is refused (docs/operations.md, "Security").
SYNC_AUTH_MAX_FAILURES = env.int("SYNC_AUTH_MAX_FAILURES", default=10)
SYNC_AUTH_MAX_FAILURES_PER_ADDRESS = env.int("SYNC_AUTH_MAX_FAILURES_PER_ADDRESS", default=100)
SYNC_AUTH_FAILURE_WINDOW_SECONDS = env.int("SYNC_AUTH_FAILURE_WINDOW_SECONDS", default=300)
# Reverse proxies whose X-Forwarded-For is believed: the client address is then the nearest forwarded
# address that is not one of them. Empty: REMOTE_ADDR is the client.
SYNC_TRUSTED_PROXIES = env.list("SYNC_TRUSTED_PROXIES", default=[])
# How often a site's last-seen time is written (seconds): not on every request.
SYNC_LAST_SEEN_INTERVAL_SECONDS = env.int("SYNC_LAST_SEEN_INTERVAL_SECONDS", default=60)
# Attempts for a transaction that hits a deadlock or lock wait timeout before giving up with 503.
SYNC_DEADLOCK_RETRIES = env.int("SYNC_DEADLOCK_RETRIES", default=5)
# v1 legacy authentication, off by default (docs/configuration.md).
SYNC_V1_ALLOW_PLAIN_PASSWORD = env.bool("SYNC_V1_ALLOW_PLAIN_PASSWORD", default=False)
SYNC_V1_SHARED_USER = env.str("SYNC_V1_SHARED_USER", default="")
SYNC_V1_SHARED_PASSWORD_SHA256 = env.str("SYNC_V1_SHARED_PASSWORD_SHA256", default="")

# --- Table sync and settings documents (docs/tables-api.md, docs/settings-api.md) -----------------
# Record types the table sync API serves (comma-separated registry names); ALLOWED_TABLES is read too.
SYNC_ALLOWED_TABLES = env.list("SYNC_ALLOWED_TABLES", default=env.list("ALLOWED_TABLES", default=[]))
# A JSON file of the operator's own tables, in the registry's format, loaded after fixtures/registry.json.
SYNC_REGISTRY_EXTENSION = env.str("SYNC_REGISTRY_EXTENSION", default="")
# Most rows of one table a table pull returns, whatever `limit` asks (the default limit is 1000).
SYNC_TABLES_PULL_CAP = env.int("SYNC_TABLES_PULL_CAP", default=5000)
# Largest settings document request (bytes); larger ones get 413.
SETTINGS_SYNC_MAX_BYTES = env.int("SETTINGS_SYNC_MAX_BYTES", default=1024 * 1024)
# --- Scheduled imports (docs/imports.md) ------------------------------------------------------------
# The folder CSV and xlsx sources are read from; a source's path is relative to it and cannot leave it.
IMPORTS_FILE_ROOT = env.path("IMPORTS_FILE_ROOT", default=BASE_DIR / "imports")
# Seconds a source may take to download or a SQL query to run (a source may set its own).
IMPORTS_READ_TIMEOUT_SECONDS = env.int("IMPORTS_READ_TIMEOUT_SECONDS", default=60)
# Largest file or download read (bytes).
IMPORTS_MAX_SOURCE_BYTES = env.int("IMPORTS_MAX_SOURCE_BYTES", default=100 * 1024 * 1024)
# Rows applied per transaction.
IMPORTS_BATCH_SIZE = env.int("IMPORTS_BATCH_SIZE", default=500)
# delete_missing stops the run (deleting nothing) if it would delete more than this share of the
# records the schedule imported before.
IMPORTS_DELETE_MAX_SHARE = env.float("IMPORTS_DELETE_MAX_SHARE", default=0.5)
# A runner refreshes its claim after every batch; a claim older than this is a crashed runner's.
IMPORTS_CLAIM_TIMEOUT_SECONDS = env.int("IMPORTS_CLAIM_TIMEOUT_SECONDS", default=900)
# At most one manual run of a schedule per this many seconds (API and admin).
IMPORTS_MANUAL_RUN_INTERVAL_SECONDS = env.int("IMPORTS_MANUAL_RUN_INTERVAL_SECONDS", default=60)
# How long run history is kept (days; purgesync).
IMPORTS_HISTORY_RETENTION_DAYS = env.int("IMPORTS_HISTORY_RETENTION_DAYS", default=90)
# `runimports --loop`: seconds between looks for due schedules.
IMPORTS_LOOP_SECONDS = env.int("IMPORTS_LOOP_SECONDS", default=30)

PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ],
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.server": {"level": "WARNING"}},
}

# Monitoring: the sync-health page and /metrics (docs/operations.md).
MONITORING_BEHIND_MINUTES = env.int("MONITORING_BEHIND_MINUTES", default=60)
MONITORING_QUEUE_DEPTH_CAP = env.int("MONITORING_QUEUE_DEPTH_CAP", default=10_000)
MONITORING_ROLLUP_RETENTION_DAYS = env.int("MONITORING_ROLLUP_RETENTION_DAYS", default=400)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# CIDR networks (e.g. 10.0.0.0/8) that may scrape /metrics without the token; a bad one stops startup.
METRICS_ALLOWED_NETWORKS = [
    str(ipaddress.ip_network(network, strict=False))
    for network in env.list("METRICS_ALLOWED_NETWORKS", default=[])
]
