"""On PostgreSQL, the read-only trigger lets the redaction rewrite audit records.

An UPDATE of the audit log or of a case event passes only inside a transaction that sets
``shidian.audit_redact`` (``shidian.security.chain.redacting``, used by ``audit_redact``);
seals are never updated. DELETE keeps its rule (only the retention purge). The redactions
themselves get the trigger too: nobody updates one, only the purge may delete.
"""
from django.db import migrations

REDACTIONS = "security_auditredaction"

FUNCTION = """
CREATE OR REPLACE FUNCTION shidian_audit_read_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('shidian.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME IN ('auditlog_logentry', 'cases_caseevent')
            AND current_setting('shidian.audit_redact', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit records are read-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
"""

FUNCTION_BEFORE = """
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
    schema_editor.execute(
        f"CREATE TRIGGER shidian_audit_read_only BEFORE UPDATE OR DELETE ON {REDACTIONS} "
        f"FOR EACH ROW EXECUTE FUNCTION shidian_audit_read_only()")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS shidian_audit_read_only ON {REDACTIONS}")
    schema_editor.execute(FUNCTION_BEFORE, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("security", "0003_audit_redaction"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
