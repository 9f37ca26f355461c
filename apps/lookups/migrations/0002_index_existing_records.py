"""Index the patients, prescribers and policies stored before the look-ups existed."""

from django.db import migrations


def index_existing(apps, schema_editor) -> None:
    # The indexing code itself, not a historical model: the rows it writes are exactly what the write
    # path writes from now on.
    from apps.lookups.indexing import rebuild_index

    rebuild_index()


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0001_initial"),
        ("records", "0003_registry_mobile_and_unknown_fields"),
    ]

    operations = [migrations.RunPython(index_existing, migrations.RunPython.noop)]
