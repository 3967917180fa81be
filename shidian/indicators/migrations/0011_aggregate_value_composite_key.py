"""Aggregates are keyed by (period, code, element, option), no ``id``.

A rebuild of the year writes 89 k aggregate rows at national scale; with an ``id`` key, the
unique key and the children index it maintained three indexes per row and drew a sequence
number for each. The unique key becomes the primary key (the children index stays, for the
refresh after entry and the drill-down). As in 0007, Django cannot turn an existing key into
a composite one: the rows are copied aside, the table is created anew (byte-wise collation
of the codes again on PostgreSQL, as 0005 set it) and the rows are copied back.
"""
from django.db import migrations, models

TABLE = "indicators_aggregatevalue"
KEEP = "indicators_aggregatevalue_keep"
COLUMNS = "element_id, opt, code, parent, level, period, total, n, vmin, vmax"


def copy_aside():
    return [f"CREATE TABLE {KEEP} AS SELECT {COLUMNS} FROM {TABLE}"]


def copy_back():
    return [f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {KEEP} "
            f"ORDER BY period, code, element_id, opt",
            f"DROP TABLE {KEEP}"]


def collate_c(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'ALTER TABLE "{TABLE}" ALTER COLUMN "code" TYPE varchar(12) COLLATE "C", '
        f'ALTER COLUMN "parent" TYPE varchar(12) COLLATE "C", '
        f'ALTER COLUMN "period" TYPE varchar(8) COLLATE "C", '
        f'ALTER COLUMN "opt" TYPE varchar(32) COLLATE "C"')


AGGREGATE_FIELDS = [
    ("element_id", models.BigIntegerField()),
    ("option", models.CharField(blank=True, db_column="opt", default="", max_length=32)),
    ("code", models.CharField(max_length=12)),
    ("parent", models.CharField(max_length=12)),
    ("level", models.PositiveSmallIntegerField()),
    ("period", models.CharField(max_length=8)),
    ("total", models.FloatField(null=True)),
    ("n", models.IntegerField(default=0)),
    ("vmin", models.FloatField(null=True)),
    ("vmax", models.FloatField(null=True)),
]


class Migration(migrations.Migration):

    dependencies = [("indicators", "0010_period_leaf_partial_indexes")]

    operations = [
        migrations.RunSQL(copy_aside(), reverse_sql=copy_back()),
        # Backwards, the table with an id is created by reversing DeleteModel: collate it.
        migrations.RunPython(migrations.RunPython.noop, collate_c),
        migrations.DeleteModel(name="AggregateValue"),
        migrations.CreateModel(
            name="AggregateValue",
            fields=[
                ("pk", models.CompositePrimaryKey("period", "code", "element_id", "option",
                                                  blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                *AGGREGATE_FIELDS,
            ],
            options={
                "indexes": [models.Index(fields=["period", "parent"],
                                         name="aggregate_value_children")],
            },
        ),
        migrations.RunPython(collate_c, migrations.RunPython.noop),
        migrations.RunSQL(copy_back(), reverse_sql=copy_aside()),
    ]
