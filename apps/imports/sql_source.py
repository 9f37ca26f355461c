"""A SQL source: one read-only SELECT on a connection named in settings, with a timeout.

The connection is a Django DATABASES alias, or a name NAME whose database URL is read from the
environment variable IMPORTS_SQL_<NAME>_URL when the import runs (mysql://, postgres://, sqlite:///,
mssql:// with the mssql-django driver). Its password therefore lives only in the environment.

Read-only is enforced twice: the text must be a single SELECT (or WITH ... SELECT), and the session is
made read-only where the database allows it, so a SELECT that calls a writing function still fails.
The timeout is enforced by the database on SQLite, MySQL/MariaDB and PostgreSQL.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import environ
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.utils import load_backend

from .sources import SourceError, Table, plain_value

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_STRINGS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`")
_WRITING = re.compile(
    r"\b(insert|update|delete|replace|merge|drop|alter|create|truncate|grant|revoke|call|exec|execute|"
    r"attach|pragma|lock|set|into|handler|load|rename|vacuum)\b",
    re.IGNORECASE,
)


def env_var_of(name: str) -> str:
    return f"IMPORTS_SQL_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}_URL"


def check_select(query: str) -> str:
    """The query without a trailing semicolon, or a SourceError saying why it is not one read-only SELECT."""
    text = _COMMENTS.sub(" ", query or "").strip().rstrip(";").strip()
    if not text:
        raise SourceError("The SQL source has no query.")
    bare = _STRINGS.sub("''", text)
    if ";" in bare:
        raise SourceError("The SQL source must be one statement: remove the ';' between statements.")
    if not re.match(r"^(select|with)\b", bare, re.IGNORECASE):
        raise SourceError("The SQL source must be a SELECT (or WITH ... SELECT) query.")
    writing = _WRITING.search(bare)
    if writing:
        raise SourceError(f"The SQL source must only read: '{writing.group(1).upper()}' is not allowed.")
    return text


def connection_settings(name: str) -> dict[str, Any]:
    if not name:
        raise SourceError("The SQL source names no connection.")
    if name in settings.DATABASES:
        # The live settings of the alias (under tests, those of the test database).
        return dict(connections[name].settings_dict)
    url = os.environ.get(env_var_of(name), "")
    if not url:
        raise SourceError(
            f"The connection '{name}' is neither a DATABASES alias nor set in the environment "
            f"variable {env_var_of(name)}."
        )
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for a bad URL
        raise SourceError(f"{env_var_of(name)} is not a database URL that can be used.") from exc
    base = dict(connections["default"].settings_dict)
    return {**base, "OPTIONS": {}, "TEST": {}, **config, "CONN_MAX_AGE": 0}


def read_sql(*, connection: str, query: str, timeout: float) -> Table:
    text = check_select(query)
    config = connection_settings(connection)
    try:
        backend = load_backend(config["ENGINE"])
    except ImproperlyConfigured as exc:
        raise SourceError(
            f"The database driver for '{connection}' is not installed ({exc}); install the project's "
            "extra for it (mysql, postgres or sqlserver)."
        ) from exc
    wrapper = backend.DatabaseWrapper(config, alias=f"imports-{connection}")
    try:
        with wrapper.cursor() as cursor:
            vendor = wrapper.vendor
            _read_only_with_timeout(wrapper, cursor, vendor, timeout)
            try:
                cursor.execute(text)
                columns = [str(c[0]) for c in cursor.description or []]
                rows = [[plain_value(v) for v in row] for row in cursor.fetchall()]
            finally:
                if vendor == "sqlite":
                    wrapper.connection.set_progress_handler(None, 0)
    except SourceError:
        raise
    except Exception as exc:
        # The driver's message names the table or column at fault; it never holds the password.
        raise SourceError(f"The SQL query failed on '{connection}': {exc}") from exc
    finally:
        wrapper.close()
    return Table(columns=columns, rows=rows)


def _read_only_with_timeout(wrapper: Any, cursor: Any, vendor: str, timeout: float) -> None:
    if vendor == "sqlite":
        cursor.execute("PRAGMA query_only = ON")
        ends = time.monotonic() + timeout
        # Called every N virtual machine steps; a non-zero answer interrupts the query.
        wrapper.connection.set_progress_handler(lambda: int(time.monotonic() > ends), 10_000)
    elif vendor == "mysql":
        if wrapper.mysql_is_mariadb:
            cursor.execute("SET SESSION max_statement_time = %s", [float(timeout)])
        else:
            cursor.execute("SET SESSION max_execution_time = %s", [int(timeout * 1000)])
        cursor.execute("SET SESSION TRANSACTION READ ONLY")
    elif vendor == "postgresql":
        cursor.execute("SET default_transaction_read_only = on")
        cursor.execute("SET statement_timeout = %s", [int(timeout * 1000)])
