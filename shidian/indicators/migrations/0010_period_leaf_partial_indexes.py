"""The stored leaf's few rows that a rebuild reads apart from the villages' plain rows, each
set in a partial index: the rows entered above the villages and the option rows of
disaggregated elements.

A rebuild of the year took each of them with a scan of the period's whole stored leaf (1.24 M
rows at national scale: 0.11–0.14 s and 0.05 s on PostgreSQL, for no rows at all when nothing
is entered above the villages or disaggregated). Plain village rows, nearly all of the table,
satisfy neither condition, so entry does not maintain these indexes for them.
"""
import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('indicators', '0009_target_task'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='periodleaf',
            index=models.Index(condition=models.Q(django.db.models.lookups.LessThan(django.db.models.functions.text.Length('code'), 12)), fields=['period', 'code'], name='period_leaf_above_villages'),
        ),
        migrations.AddIndex(
            model_name='periodleaf',
            index=models.Index(condition=models.Q(django.db.models.lookups.GreaterThan(models.F('option'), '')), fields=['period', 'element_id'], name='period_leaf_options'),
        ),
    ]
