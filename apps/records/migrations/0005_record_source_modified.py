import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """The (source site, modified_at) index a snapshot counts a site's own changes with. It is made
    before the single-column index of the foreign key is dropped: MySQL/MariaDB keep a foreign key only
    on an index that starts with its column."""

    dependencies = [
        ("records", "0004_record_ids_compared_exactly"),
        ("sites", "0004_login_failure"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="record",
            index=models.Index(fields=["source_site", "modified_at"], name="record_source_modified_idx"),
        ),
        migrations.AlterField(
            model_name="record",
            name="source_site",
            field=models.ForeignKey(
                db_index=False,
                help_text="The site that changed it last.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="sites.site",
            ),
        ),
    ]
