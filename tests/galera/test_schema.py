"""The schema stays replicable by Galera: every table InnoDB, every table with a primary key.

Galera replicates only InnoDB tables, and applies row changes of a table without a primary key by
scanning it (and may apply them differently on each node), so a migration that adds either must fail
here, on any MySQL/MariaDB, before it reaches a cluster.
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.mariadb,
    pytest.mark.skipif(connection.vendor != "mysql", reason="checks MySQL/MariaDB table definitions"),
    pytest.mark.django_db,
]


def test_every_table_is_innodb_with_a_primary_key():
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT t.table_name, t.engine,
                   EXISTS (SELECT 1 FROM information_schema.table_constraints c
                           WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name
                             AND c.constraint_type = 'PRIMARY KEY')
            FROM information_schema.tables t
            WHERE t.table_schema = DATABASE() AND t.table_type = 'BASE TABLE'"""
        )
        tables = cursor.fetchall()
    assert len(tables) >= 10, tables  # the migrations ran: this is the real schema
    offending = [
        (name, engine, bool(has_pk)) for name, engine, has_pk in tables if engine != "InnoDB" or not has_pk
    ]
    assert offending == []
