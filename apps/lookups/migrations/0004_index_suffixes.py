"""Rebuild the search index from the stored records: the entries, and the suffixes that serve
"contains" (0003), for everything stored before. The write path keeps both in step from then on."""

from django.db import migrations


def rebuild(apps, schema_editor) -> None:
    # The indexing code itself, not a historical model: the rows it writes are exactly what the write
    # path writes from now on.
    from apps.lookups.indexing import rebuild_index

    rebuild_index()


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0003_search_suffix"),
        ("records", "0004_record_ids_compared_exactly"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
