"""The stored leaf of the longer periods (``PeriodLeaf``): each element's values at each
division combined over the year, kept at entry so that a full rebuild of the year reads one
row per division and element instead of every value entered in it.

The table is created by hand: on SQLite WITHOUT ROWID (the key is the table, so a period's
rows are read in key order without a lookup per row), on PostgreSQL with the byte-wise
collation of the other value tables (0005). Existing values are then combined into it, as
``services.period_leaf_fill`` does.
"""
from django.db import migrations, models

from shidian.core.periods import parse_period
from shidian.indicators import rollup

TABLE = "indicators_periodleaf"


def create_table(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            f'CREATE TABLE "{TABLE}" ("period" varchar(8) NOT NULL, "code" varchar(12) NOT NULL, '
            '"element_id" bigint NOT NULL, "opt" varchar(32) NOT NULL, "v" real NOT NULL, '
            'PRIMARY KEY ("period", "code", "element_id", "opt")) WITHOUT ROWID')
    elif vendor == "postgresql":
        schema_editor.execute(
            f'CREATE TABLE "{TABLE}" ("period" varchar(8) COLLATE "C" NOT NULL, '
            '"code" varchar(12) COLLATE "C" NOT NULL, "element_id" bigint NOT NULL, '
            '"opt" varchar(32) COLLATE "C" NOT NULL, "v" double precision NOT NULL, '
            'PRIMARY KEY ("period", "code", "element_id", "opt"))')
    else:
        schema_editor.create_model(apps.get_model("indicators", "PeriodLeaf"))


def drop_table(apps, schema_editor):
    schema_editor.execute(f'DROP TABLE "{TABLE}"')


def fill(apps, schema_editor):
    value = apps.get_model("indicators", "DataValue")
    element = apps.get_model("indicators", "DataElement")
    specs = [rollup.ElementSpec(e.pk, e.code, e.aggregation, e.disaggregation_id is not None)
             for e in element.objects.exclude(value_type="text")]
    found = {p.id: p for text in value.objects.values_list("period", flat=True).distinct()
             for p in rollup.leaf_periods(parse_period(text))}
    for key in sorted(found):
        each = found[key]
        for statement in rollup.period_leaf_statements(
                specs, each.id, each.start, each.end,
                dialect=schema_editor.connection.vendor):
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [("indicators", "0007_indicator_value_composite_key")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.CreateModel(
                name="PeriodLeaf",
                fields=[
                    ("pk", models.CompositePrimaryKey("period", "code", "element_id",
                                                      "option", blank=True, editable=False,
                                                      primary_key=True, serialize=False)),
                    ("period", models.CharField(max_length=8)),
                    ("code", models.CharField(max_length=12)),
                    ("element_id", models.BigIntegerField()),
                    ("option", models.CharField(blank=True, db_column="opt", default="",
                                                max_length=32)),
                    ("v", models.FloatField()),
                ],
            )],
            database_operations=[migrations.RunPython(create_table, drop_table)],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
