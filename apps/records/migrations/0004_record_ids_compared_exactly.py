"""Ids compare exactly on MySQL/MariaDB too: "ab", "AB" and "ab " are three records, as in Python and
SQLite. Under the database's case-insensitive, space-padded default they collided in the unique key
while the code kept them apart, and the push failed."""

from django.db import migrations

from apps.lib.sql import make_ids_exact

COLUMNS = ("record_id", "store_id", "ref_id", "transfer_name_id", "merged_into")


def forwards(apps, schema_editor):
    make_ids_exact(schema_editor, "records_record", COLUMNS)


def backwards(apps, schema_editor):
    make_ids_exact(schema_editor, "records_record", COLUMNS, exact=False)


class Migration(migrations.Migration):
    # MySQL cannot run DDL inside a transaction.
    atomic = False
    dependencies = [("records", "0003_registry_mobile_and_unknown_fields")]

    operations = [migrations.RunPython(forwards, backwards)]
