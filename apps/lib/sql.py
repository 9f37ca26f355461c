"""The SQL that differs between SQLite and MySQL/MariaDB, and multi-row INSERTs of plain tuples written
for each database the way it is fastest. The only module that asks which database it talks to.

SQLite binds parameters itself, so rows go to `executemany`. mysqlclient binds them on the client: it
calls `Connection.literal` (Python) for every value and runs MySQL's charset-aware escaping over every
byte, which took a large share of a push's upsert (docs/performance.md, "Measurements behind the
code"). On MySQL and MariaDB the VALUES list is therefore written here: integers as digits, text as
a hex literal with a charset introducer (`_utf8mb4 X'4142'` is the string 'AB'). `bytes.hex()` is one
C pass, and a hex literal cannot end early whatever the text holds (quotes, backslashes, NUL), in any
SQL mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# Largest statement text one call sends. Below every current default of max_allowed_packet (4 MB in
# MySQL 5.7, 16 MB in MariaDB, 64 MB in MySQL 8), and large enough for a push of 500 typical records
# (their JSON twice, as hex: ~2.3 MB) to go in one statement.
MAX_STATEMENT_BYTES = 3 << 20

Row = Sequence[object]
Item = TypeVar("Item")

# Room left in a packet for the statement around the largest row (columns, keys, ON DUPLICATE KEY).
STATEMENT_ROOM = 64 << 10
# SQLite binds values; its own limit on one value (SQLITE_MAX_LENGTH) is 1 000 000 000 bytes.
SQLITE_MAX_LENGTH = 1_000_000_000
_max_packet: dict[str, int] = {}


def sql_text_bytes(*texts: str) -> int:
    """The bytes the texts take in a statement: on MySQL/MariaDB hex literals, two characters a byte."""
    size = sum(len(text.encode()) for text in texts)
    return 2 * size if connection.vendor == "mysql" else size


def max_row_bytes(size: int) -> int:
    """The most SQL bytes one row may take, for a row of `size` bytes: SYNC_MAX_RECORD_BYTES when set,
    and the server's max_allowed_packet less room for the statement. The server is asked once per
    process, and only for a row larger than MAX_STATEMENT_BYTES, which every default packet holds."""
    configured = settings.SYNC_MAX_RECORD_BYTES or SQLITE_MAX_LENGTH
    if connection.vendor != "mysql" or size <= MAX_STATEMENT_BYTES:
        return configured
    if connection.alias not in _max_packet:
        with connection.cursor() as cursor:
            cursor.execute("SELECT @@max_allowed_packet")
            _max_packet[connection.alias] = int(cursor.fetchone()[0]) - STATEMENT_ROOM
    return min(configured, _max_packet[connection.alias])


def insert_rows(
    cursor: CursorWrapper, *, head: str, rows: Sequence[Row], tail: str = "", returning: str = ""
) -> list[tuple[Any, ...]]:
    """Run `head VALUES (...), (...) tail` for the rows, in as few statements as the size limit allows.

    `head` is e.g. "INSERT INTO t (a, b)" and `tail` an ON DUPLICATE KEY / ON CONFLICT clause. Values
    may be str, int, bool or None. `returning` (columns) asks for the written rows back, which only
    MariaDB can do here (see `can_return_rows`); the rows are returned.
    """
    if not rows:
        return []
    if connection.vendor != "mysql":
        if returning:
            raise ValueError("RETURNING from a multi-row INSERT is only written for MariaDB here")
        marks = ", ".join(["%s"] * len(rows[0]))
        cursor.executemany(f"{head} VALUES ({marks}) {tail}", rows)  # type: ignore[arg-type]
        return []
    suffix = f"{tail} RETURNING {returning}" if returning else tail
    written: list[tuple[Any, ...]] = []
    values: list[str] = []
    size = 0
    for row in rows:
        text = row_literal(row)
        if values and size + len(text) > MAX_STATEMENT_BYTES:
            cursor.execute(f"{head} VALUES {', '.join(values)} {suffix}")
            written.extend(cursor.fetchall() if returning else ())
            values, size = [], 0
        values.append(text)
        size += len(text) + 2
    cursor.execute(f"{head} VALUES {', '.join(values)} {suffix}")
    written.extend(cursor.fetchall() if returning else ())
    return written


def conflict_target(*unique_fields: str) -> dict[str, Any]:
    """`bulk_create(update_conflicts=True, ...)` keywords naming the unique key: SQLite's ON CONFLICT
    needs it, MySQL's ON DUPLICATE KEY UPDATE takes none (and Django refuses one there)."""
    if connection.features.supports_update_conflicts_with_target:
        return {"unique_fields": list(unique_fields)}
    return {}


def upsert_head(*, key: Sequence[str]) -> str:
    """What follows a multi-row INSERT to update rows whose unique `key` exists already; the
    assignments come after it (ON DUPLICATE KEY UPDATE on MySQL/MariaDB, ON CONFLICT ... DO UPDATE SET on
    SQLite)."""
    if is_mysql():
        return "ON DUPLICATE KEY UPDATE"
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET"


def inserted_value(column: str) -> str:
    """In an upsert's assignments: the value the INSERT tried to write to `column`."""
    return f"VALUES({column})" if is_mysql() else f"excluded.{column}"


def greatest() -> str:
    """The function that returns the largest of its arguments (MySQL's GREATEST, SQLite's MAX)."""
    return "GREATEST" if is_mysql() else "MAX"


def upsert_tail(*, key: Sequence[str], updated: Sequence[str]) -> str:
    """The clause after a multi-row INSERT that overwrites the `updated` columns of rows whose unique
    `key` exists already."""
    return f"{upsert_head(key=key)} " + ", ".join(f"{c} = {inserted_value(c)}" for c in updated)


def can_return_rows() -> bool:
    """MariaDB 10.5+ returns rows from INSERT ... ON DUPLICATE KEY UPDATE; MySQL cannot."""
    return connection.vendor == "mysql" and connection.features.can_return_rows_from_bulk_insert


def row_literal(row: Row) -> str:
    """One row of a VALUES list: `(_utf8mb4 X'..', 3, NULL)`."""
    return "(" + ", ".join(map(sql_literal, row)) + ")"


def int_list(values: Iterable[int]) -> str:
    """Integers (primary keys) as an inline SQL list: `int()` makes them safe, and binding 500 of them
    costs 500 Python calls in mysqlclient."""
    return ", ".join(map(str, map(int, values)))


def sql_literal(value: object) -> str:
    """A value as MySQL literal text that needs no escaping (see the module's docstring)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "_utf8mb4 X'" + value.encode().hex() + "'" if value else "''"
    raise TypeError(f"no SQL literal for {type(value).__name__} values; pass str, int, bool or None")


def exact_collation(db_connection: Any) -> str:  # a MySQL DatabaseWrapper
    """The collation under which ids compare exactly, as in Python and SQLite: binary, and without
    padding (a trailing space makes another id). MariaDB and MySQL 8 name it differently; MySQL before
    8.0.17 has only the padded binary one."""
    if db_connection.mysql_is_mariadb:
        return "utf8mb4_nopad_bin"
    return "utf8mb4_0900_bin" if db_connection.mysql_version >= (8, 0, 17) else "utf8mb4_bin"


def make_ids_exact(
    schema_editor: BaseDatabaseSchemaEditor, table: str, columns: tuple[str, ...], *, exact: bool = True
) -> None:
    """Give id columns (VARCHAR(100) NOT NULL) the exact collation; or back to the table's default.

    Only MySQL/MariaDB: SQLite compares text exactly already. Not in the models, because SQLite has no
    collation of that name.
    """
    db_connection = schema_editor.connection
    if db_connection.vendor != "mysql":
        return
    collate = f" COLLATE {exact_collation(db_connection)}" if exact else ""
    changes = ", ".join(f"MODIFY {c} VARCHAR(100) CHARACTER SET utf8mb4{collate} NOT NULL" for c in columns)
    schema_editor.execute(f"ALTER TABLE {table} {changes}")


def is_mysql() -> bool:
    return connection.vendor == "mysql"


def datetime_from_db(value: datetime | str) -> datetime:
    """A DateTimeField's value as a raw cursor returns it (text on SQLite, naive UTC on MySQL), aware."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        raise ValueError(f"not a date and time: {value!r}")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


def force_index(name: str) -> str:
    """A table hint that makes MySQL/MariaDB read `name` as a range, the primary key it implicitly ends
    with included. Without it, MariaDB reads an equality prefix of a covering index as `ref` and filters
    `id > x` row by row (every entry before the position, on every page). SQLite's planner needs none."""
    return f"FORCE INDEX ({name})" if is_mysql() else ""


def replace_into() -> str:
    """INSERT that first deletes a row with the same unique key (a new auto-increment id)."""
    return "REPLACE INTO" if is_mysql() else "INSERT OR REPLACE INTO"


def insert_ignore() -> str:
    """INSERT that skips rows whose unique key exists already."""
    return "INSERT IGNORE INTO" if is_mysql() else "INSERT OR IGNORE INTO"


def ordered_join() -> str:
    """A join that keeps the order the tables are written in (MySQL's STRAIGHT_JOIN, SQLite's CROSS JOIN)."""
    return "STRAIGHT_JOIN" if is_mysql() else "CROSS JOIN"


def chunks(items: list[Item], size: int) -> list[list[Item]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)
