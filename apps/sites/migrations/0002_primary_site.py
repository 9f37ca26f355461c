from django.db import migrations


def create_primary(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    # The primary is site 1. It never logs in to itself, so it has no password.
    Site.objects.get_or_create(id=1, defaults={"name": "primary", "is_active": True})


class Migration(migrations.Migration):
    dependencies = [("sites", "0001_initial")]

    operations = [migrations.RunPython(create_primary, migrations.RunPython.noop)]
