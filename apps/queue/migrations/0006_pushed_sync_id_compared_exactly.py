"""Pushed SyncIDs compare exactly on MySQL/MariaDB too (see records 0003): "s1", "S1" and "s1 " are
three."""

from django.db import migrations

from apps.lib.sql import make_ids_exact


def forwards(apps, schema_editor):
    make_ids_exact(schema_editor, "queue_pushedsyncid", ("sync_id",))


def backwards(apps, schema_editor):
    make_ids_exact(schema_editor, "queue_pushedsyncid", ("sync_id",), exact=False)


class Migration(migrations.Migration):
    # MySQL cannot run DDL inside a transaction.
    atomic = False
    dependencies = [("queue", "0005_synclog_device_id")]

    operations = [migrations.RunPython(forwards, backwards)]
