"""Indicator values are keyed by (period, indicator, parent, code), their only index.

A rebuild writes one row per division (665 k for one indicator and period at national scale);
with an ``id`` key, a unique key and a children index it maintained three indexes per row.
The composite key serves both lookups (one division: its parent follows from its code; a
division's children: one range) and makes ``id`` pointless. Django cannot turn an existing
key into a composite one, so the rows are copied aside, the table is created anew (byte-wise
collation again on PostgreSQL, as 0005 set it) and the rows are copied back.
"""
from django.db import migrations, models

TABLE = "indicators_indicatorvalue"
KEEP = "indicators_indicatorvalue_keep"
COLUMNS = "indicator_id, code, parent, level, period, numerator, denominator, value"


def copy_aside():
    return [f"CREATE TABLE {KEEP} AS SELECT {COLUMNS} FROM {TABLE}"]


def copy_back():
    return [f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {KEEP}",
            f"DROP TABLE {KEEP}"]


def collate_c(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'ALTER TABLE "{TABLE}" ALTER COLUMN "code" TYPE varchar(12) COLLATE "C", '
        f'ALTER COLUMN "parent" TYPE varchar(12) COLLATE "C", '
        f'ALTER COLUMN "period" TYPE varchar(8) COLLATE "C"')


VALUE_FIELDS = [
    ("indicator_id", models.BigIntegerField()),
    ("code", models.CharField(max_length=12)),
    ("parent", models.CharField(max_length=12)),
    ("level", models.PositiveSmallIntegerField()),
    ("period", models.CharField(max_length=8)),
    ("numerator", models.FloatField(null=True)),
    ("denominator", models.FloatField(null=True)),
    ("value", models.FloatField(null=True)),
]


class Migration(migrations.Migration):

    dependencies = [("indicators", "0006_no_village_aggregates")]

    operations = [
        migrations.RunSQL(copy_aside(), reverse_sql=copy_back()),
        # Backwards, the table with an id is created by reversing DeleteModel: collate it.
        migrations.RunPython(migrations.RunPython.noop, collate_c),
        migrations.DeleteModel(name="IndicatorValue"),
        migrations.CreateModel(
            name="IndicatorValue",
            fields=[
                ("pk", models.CompositePrimaryKey("period", "indicator_id", "parent", "code",
                                                  blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                *VALUE_FIELDS,
            ],
        ),
        migrations.RunPython(collate_c, migrations.RunPython.noop),
        migrations.RunSQL(copy_back(), reverse_sql=copy_aside()),
    ]
