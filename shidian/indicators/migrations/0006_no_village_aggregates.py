"""Aggregates are no longer stored for villages (12-digit codes): a village has no children,
so its aggregate only copied its own combined values, which the roll-up now reads from the
values table. Rows written by earlier versions are dropped; nothing reads them any more."""
from django.db import migrations


def drop_village_rows(apps, schema_editor):
    aggregate = apps.get_model("indicators", "AggregateValue")
    aggregate.objects.filter(level=5).delete()


class Migration(migrations.Migration):

    dependencies = [("indicators", "0005_codes_collate_c")]

    operations = [migrations.RunPython(drop_village_rows, migrations.RunPython.noop)]
