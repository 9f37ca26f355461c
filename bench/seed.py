"""Seeding: the client sites through the project's services, volume through direct SQL bulk inserts."""

from __future__ import annotations

from datetime import UTC, datetime

import MySQLdb

from .records import Factory

PASSWORD = "bench-password"
PULL_SITE = 2
PUSH_SITES_FROM = 3  # the 10-site push uses sites 3..12; the 1-site push uses site 2
DUMP_SITE = 13
HEAD_SITE = 14
CLIENT_SITES = list(range(2, 15))
FANOUT_SITES_FROM = 1001
HISTORY_STORE = "BENCHHISTORY"
INSERT_CHUNK = 1000


def store_of(site_id: int) -> str:
    return f"BENCHSTORE{site_id}"


def site_name(site_id: int) -> str:
    return f"bench-site-{site_id}"


def create_client_sites() -> str:
    """The sites the HTTP client logs in as, each with one store; returns a password hash to reuse."""
    from apps.sites.services import site_create, store_create

    site = None
    for site_id in CLIENT_SITES:
        site = site_create(site_id=site_id, name=site_name(site_id), password=PASSWORD)
        store_create(
            store_id=store_of(site_id), name=f"Store {site_id}", site_id=site_id, name_id=f"N{site_id}"
        )
    assert site is not None
    return site.password_hash


def bulk_sites(conn: MySQLdb.Connection, *, first: int, count: int, password_hash: str) -> None:
    """Many more sites (fan-out targets), inserted directly, with the same password."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [(i, site_name(i), True, "", None, now, password_hash) for i in range(first, first + count)]
    with conn.cursor() as cursor:
        for start in range(0, len(rows), INSERT_CHUNK):
            cursor.executemany(
                "INSERT INTO sites_site (id, name, is_active, hardware_id, last_seen_at, created_at, "
                "password_hash) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                rows[start : start + INSERT_CHUNK],
            )


def insert_records(
    conn: MySQLdb.Connection,
    factory: Factory,
    *,
    record_types: list[str],
    count: int,
    store_id: str = "",
    table: str = "records_record",
) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    sql = (
        f"INSERT INTO {table} (record_type, record_id, store_id, ref_id, transfer_name_id, data, wire, "
        "change_type, merged_into, is_deleted, source_site_id, created_by_site_id, modified_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    batch: list[tuple] = []
    with conn.cursor() as cursor:
        for record_type, record_id, data, wire in factory.rows(record_types, count):
            # Every value a placeholder: mysqlclient writes one multi-row INSERT only then, else one per row.
            batch.append((record_type, record_id, store_id, "", "", data, wire, "I", "", 0, 1, 1, now))
            if len(batch) == INSERT_CHUNK:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def fill_queue(
    conn: MySQLdb.Connection, *, site_id: int, count: int, where: str = "1=1", table: str = "queue_queueentry"
) -> int:
    """Queue `count` existing records for the site (oldest records first), in one INSERT ... SELECT."""
    with conn.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (site_id, record_id) SELECT %s, id FROM records_record "
            f"WHERE {where} ORDER BY id LIMIT %s",
            [site_id, count],
        )
        return cursor.rowcount


def set_active_sites(conn: MySQLdb.Connection, *, first: int | None = None, count: int = 0) -> None:
    """Only sites first..first+count-1 active (fan-out targets); None: every site active again."""
    with conn.cursor() as cursor:
        if first is None:
            cursor.execute("UPDATE sites_site SET is_active = 1")
        else:
            cursor.execute("UPDATE sites_site SET is_active = (id >= %s AND id < %s)", [first, first + count])


def truncate(conn: MySQLdb.Connection, *tables: str) -> None:
    with conn.cursor() as cursor:
        for table in tables:
            cursor.execute(f"TRUNCATE TABLE {table}")


def analyze(conn: MySQLdb.Connection, *tables: str) -> None:
    with conn.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE TABLE {table}")
            cursor.fetchall()


def count(conn: MySQLdb.Connection, sql: str, params: list | None = None) -> int:
    with conn.cursor() as cursor:
        cursor.execute(sql, params or [])
        return int(cursor.fetchone()[0])
