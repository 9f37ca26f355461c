"""Index the patients, prescribers and policies stored before the look-ups existed: now done by
0004_index_suffixes, which rebuilds the whole index (entries and their suffixes) with the indexing code
of today. Here it would write suffixes before their table exists (0003)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("lookups", "0001_initial"),
        ("records", "0003_registry_mobile_and_unknown_fields"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
