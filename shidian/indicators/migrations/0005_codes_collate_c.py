"""On PostgreSQL, the code, period and option columns of the value tables compare byte-wise.

They hold digits and ids such as 2021M06; under a language collation every index insert and
sort compares them through the locale, which made the roll-up several times slower. SQLite
compares text byte-wise already, so nothing changes there.
"""
from django.db import migrations

COLUMNS = {
    "indicators_datavalue": [("division_id", 12), ("period", 8), ("opt", 32)],
    "indicators_aggregatevalue": [("code", 12), ("parent", 12), ("period", 8), ("opt", 32)],
    "indicators_indicatorvalue": [("code", 12), ("parent", 12), ("period", 8)],
}


def collate_c(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in COLUMNS.items():
        changes = ", ".join(f'ALTER COLUMN "{name}" TYPE varchar({size}) COLLATE "C"'
                            for name, size in columns)
        schema_editor.execute(f'ALTER TABLE "{table}" {changes}')


class Migration(migrations.Migration):

    dependencies = [("indicators", "0004_drop_series_index")]

    operations = [migrations.RunPython(collate_c, migrations.RunPython.noop)]
