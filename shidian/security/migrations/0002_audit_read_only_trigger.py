"""On PostgreSQL, a trigger refuses UPDATE and DELETE of audit records and their seals.

Only the retention purge deletes, inside a transaction that sets ``shidian.audit_purge``
(``shidian.security.chain.purging``). SQLite keeps the model-level refusal only: Django empties
SQLite tables with DELETE between transactional tests, which a trigger would stop.
"""
from django.db import migrations

TABLES = ("auditlog_logentry", "cases_caseevent", "security_auditseal")

FUNCTION = """
CREATE OR REPLACE FUNCTION shidian_audit_read_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('shidian.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit records are read-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER shidian_audit_read_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION shidian_audit_read_only()")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS shidian_audit_read_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS shidian_audit_read_only()")


class Migration(migrations.Migration):

    dependencies = [
        ("security", "0001_initial"),
        ("auditlog", "0017_add_actor_email"),
        ("cases", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
