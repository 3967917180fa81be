"""Citus for a national deployment: which tables are spread over the nodes, by what, and the SQL.

Distributed tables are split by ``province``, the first two digits of the division code, and
co-located with ``cases_case``; reference tables are copied to every node. ``citus_sql()``
prints the one-time migration for the coordinator (``shidian citus_sql``), after ``migrate``;
deploy/README.md ("Citus for a national deployment") says when and why.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps


@dataclass(frozen=True)
class Distributed:
    model: str            # app_label.Model
    code_column: str      # the division code the province is taken from ...
    via_case: bool = False  # ... on the row itself, or on its case (case_id)


DISTRIBUTED = (
    Distributed("cases.Case", "division_id"),
    Distributed("cases.CasePerson", "division_code"),
    Distributed("cases.CaseEvent", "division_id", via_case=True),
    Distributed("cases.CaseDocument", "division_id", via_case=True),
    Distributed("cases.Payment", "division_id", via_case=True),
    Distributed("cases.NoticeEntry", "division_id", via_case=True),
    Distributed("indicators.DataValue", "division_id"),
    Distributed("indicators.DataValueHistory", "division_id"),
    Distributed("indicators.CompleteReport", "division_id"),
    Distributed("indicators.AggregateValue", "code"),
    Distributed("indicators.IndicatorValue", "code"),
    Distributed("indicators.PeriodLeaf", "code"),
)
REFERENCE = ("orgs.Division", "orgs.Agency", "orgs.User", "plans.Programme", "plans.Plan",
             "plans.Task", "cases.CaseProgramme", "indicators.DataElement", "indicators.DataSet",
             "indicators.Indicator")
COLOCATE_WITH = "cases_case"


def table(label: str) -> str:
    return apps.get_model(label)._meta.db_table


def _province_expression(spec: Distributed, row: str) -> str:
    if spec.via_case:
        return (f"(SELECT left(c.division_id, 2) FROM {table('cases.Case')} c "
                f"WHERE c.id = {row}.case_id)")
    return f"coalesce(nullif(left({row}.{spec.code_column}, 2), ''), '00')"


def schema_sql() -> str:
    """What plain PostgreSQL can run (and the tests do): a ``province`` column filled on insert,
    primary keys ``(province, id)``, unique indexes led by ``province``, foreign keys between
    distributed tables through ``(province, case_id)``. Foreign keys from other tables into the
    distributed ones are dropped (Citus cannot keep them; the services do)."""
    lines = ["BEGIN;"]
    for spec in DISTRIBUTED:
        name = table(spec.model)
        lines += [
            f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS province char(2);",
            f"UPDATE {name} t SET province = {_province_expression(spec, 't')};",
            f"ALTER TABLE {name} ALTER COLUMN province SET NOT NULL;",
            f"CREATE OR REPLACE FUNCTION {name}_province() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN NEW.province := {_province_expression(spec, 'NEW')}; RETURN NEW; "
            f"END $$;",
            f"CREATE TRIGGER {name}_province BEFORE INSERT ON {name} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}_province();",
        ]
    names = ", ".join(f"'{table(s.model)}'" for s in DISTRIBUTED)
    lines.append(f"""DO $$
DECLARE r record; def text; key_name text; key_def text;
BEGIN
  -- foreign keys into the distributed tables go (recreated below where Citus can keep them)
  FOR r IN SELECT con.conname, con.conrelid::regclass AS tbl FROM pg_constraint con
           WHERE con.contype = 'f' AND con.confrelid::regclass::text IN ({names}) LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
  END LOOP;
  FOR r IN SELECT c.relname FROM pg_class c WHERE c.relname IN ({names}) LOOP
    -- the primary key is led by province: (province, id), or (province, <its columns>) for
    -- a composite key (indicators_periodleaf, indicators_indicatorvalue)
    FOR key_name, key_def IN SELECT con.conname, pg_get_constraintdef(con.oid)
               FROM pg_constraint con
               WHERE con.conrelid = r.relname::regclass AND con.contype = 'p' LOOP
      EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', r.relname, key_name);
      EXECUTE format('ALTER TABLE %I ADD %s', r.relname,
                     replace(key_def, 'PRIMARY KEY (', 'PRIMARY KEY (province, '));
    END LOOP;
    -- every other unique index is led by province
    FOR def IN SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
               WHERE i.indrelid = r.relname::regclass AND i.indisunique AND NOT i.indisprimary
    LOOP
      EXECUTE format('ALTER TABLE %I DROP CONSTRAINT IF EXISTS %s', r.relname,
                     split_part(split_part(def, ' INDEX ', 2), ' ON ', 1));
      EXECUTE format('DROP INDEX IF EXISTS %s', split_part(split_part(def, ' INDEX ', 2), ' ON ', 1));
      EXECUTE replace(def, ' USING btree (', ' USING btree (province, ');
    END LOOP;
  END LOOP;
END $$;""")
    case_table = table("cases.Case")
    for spec in DISTRIBUTED:
        name = table(spec.model)
        if spec.via_case or spec.model == "cases.CasePerson":
            lines.append(f"ALTER TABLE {name} ADD CONSTRAINT {name}_case_fk FOREIGN KEY "
                         f"(province, case_id) REFERENCES {case_table} (province, id);")
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def citus_sql() -> str:
    """The coordinator's one-time migration: the schema changes, then the distribution."""
    lines = ["-- Shidian on Citus: run once on the coordinator after `shidian migrate`.",
             "CREATE EXTENSION IF NOT EXISTS citus;", schema_sql().rstrip("\n")]
    for label in REFERENCE:
        lines.append(f"SELECT create_reference_table('{table(label)}');")
    for spec in DISTRIBUTED:
        name = table(spec.model)
        colocate = "" if name == COLOCATE_WITH else f", colocate_with => '{COLOCATE_WITH}'"
        lines.append(f"SELECT create_distributed_table('{name}', 'province'{colocate});")
    return "\n".join(lines) + "\n"
