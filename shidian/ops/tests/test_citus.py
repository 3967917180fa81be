"""Citus by province: the distribution plan matches the models, the schema change runs on
PostgreSQL, and the busy queries of one county stay inside its province."""
from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shidian.cases import access as case_access
from shidian.cases import selectors as case_selectors
from shidian.cases import services as case_services
from shidian.cases.testing import household, make_programme, make_workers
from shidian.core.periods import parse_period
from shidian.indicators import selectors as indicator_selectors
from shidian.indicators import services as indicator_services
from shidian.indicators.testing import make_world
from shidian.ops.citus import DISTRIBUTED, REFERENCE, citus_sql, schema_sql, table
from shidian.orgs.models import Division

DISTRIBUTED_TABLES = {table(s.model) for s in DISTRIBUTED}


def test_every_distributed_table_has_the_column_its_province_comes_from():
    for spec in DISTRIBUTED:
        model = apps.get_model(spec.model)
        columns = {f.column for f in model._meta.concrete_fields}
        assert (("case_id" in columns) if spec.via_case else (spec.code_column in columns)), spec
    for label in REFERENCE:
        apps.get_model(label)
    sql = citus_sql()
    assert sql.count("create_distributed_table(") == len(DISTRIBUTED)
    assert "create_distributed_table('cases_case', 'province')" in sql
    assert "colocate_with => 'cases_case'" in sql


def _local_to(province: str, queries: list[dict[str, str]]) -> tuple[int, list[str]]:
    """How many queries touch distributed tables, and those that do not pin a division code
    of ``province`` (a code literal or range bound starting with its two digits)."""
    touching, strays = 0, []
    for query in queries:
        sql = query["sql"]
        if not any(re.search(rf'\b"?{t}"?\b', sql) for t in DISTRIBUTED_TABLES):
            continue
        touching += 1
        # a literal ('510521', the range bound '510521~') or an array element ({510521100,...}
        # of PostgreSQL's bulk insert)
        if not re.search(rf"['{{,]{province}\d*~?['}},]", sql):
            strays.append(sql)
    return touching, strays


def test_a_query_over_every_province_is_told_apart():
    assert _local_to("51", [{"sql": 'SELECT COUNT(*) FROM "cases_case"'}]) == (
        1, ['SELECT COUNT(*) FROM "cases_case"'])
    assert _local_to("51", [{"sql": """SELECT * FROM "cases_case" WHERE "cases_case"."division_id" >= '510521' AND "cases_case"."division_id" < '510521~'"""}])[1] == []


@pytest.mark.django_db
def test_a_county_case_workers_busy_queries_stay_in_the_province():
    workers, programme = make_workers(), make_programme()
    created = [case_services.case_create(user=workers["village"], programme=programme,
                                         values=household()) for _ in range(2)]
    county = workers["county"]
    with CaptureQueriesContext(connection) as captured:
        listed = list(case_selectors.case_list(user=county, programme=programme))
        case_access.access_case_by_id(user=county, case_id=created[0].pk)
        case_selectors.stage_counts(user=county, programme=programme)
    assert len(listed) == 2
    touching, strays = _local_to(county.division_id[:2], captured.captured_queries)
    assert touching >= 3 and strays == []


@pytest.mark.django_db
def test_a_township_entry_form_reads_and_writes_inside_its_province_but_the_national_row():
    world = make_world()
    township = Division.objects.get(code="510521100")
    period = parse_period("2026M10")
    with CaptureQueriesContext(connection) as captured:
        indicator_selectors.entry_form(data_set=world.data_set, division=township,
                                       period=period)
        indicator_services.values_save(user=world.clerk, data_set=world.data_set,
                                       division=township, period=period.id,
                                       values={"rooms": "3", "villages": "5"},
                                       today=period.end)
    touching, strays = _local_to("51", captured.captured_queries)
    # Everything stays in 四川 (51) except the chain's last step: the national row, summed
    # from the 31 province rows (parent = ''), which fans out to every node under Citus
    # (deploy/README.md: a periodic job there, not a step of each entry).
    national = [s for s in strays if "code = ''" in s or "parent = ''" in s]
    assert touching >= 10 and strays == national


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL DDL")
@pytest.mark.django_db
def test_the_schema_change_runs_and_fills_the_province_on_insert():
    """Everything of the Citus migration that plain PostgreSQL can run (not the extension)."""
    with connection.cursor() as cursor:
        body = schema_sql().removeprefix("BEGIN;\n").removesuffix("COMMIT;\n")
        cursor.execute(body)
    workers, programme = make_workers(), make_programme()
    case = case_services.case_create(user=workers["village"], programme=programme,
                                     values=household())
    with connection.cursor() as cursor:
        cursor.execute("SELECT province FROM cases_case WHERE id = %s", [case.pk])
        assert cursor.fetchone()[0] == "51"
        cursor.execute("SELECT DISTINCT province FROM cases_caseperson WHERE case_id = %s",
                       [case.pk])
        assert cursor.fetchall() == [("51",)]
    # A township's entry writes its values and its stored leaf of the year, in 四川.
    world = make_world()
    township = Division.objects.get(code="510521100")
    indicator_services.values_save(user=world.clerk, data_set=world.data_set,
                                   division=township, period="2026M10",
                                   values={"rooms": "3", "villages": "5"},
                                   today=parse_period("2026M10").end)
    with connection.cursor() as cursor:
        for name in ("indicators_datavalue", "indicators_periodleaf"):
            cursor.execute(f"SELECT DISTINCT province FROM {name} WHERE "  # noqa: S608
                           f"{'division_id' if name.endswith('datavalue') else 'code'} = %s",
                           [township.code])
            assert cursor.fetchall() == [("51",)], name
        for name in DISTRIBUTED_TABLES:
            # every table keeps its primary key, led by province (a composite key too)
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                "%s::regclass AND contype = 'p'", [name])
            keys = [definition for (definition,) in cursor.fetchall()]
            assert len(keys) == 1 and keys[0].startswith("PRIMARY KEY (province, "), (name, keys)
            cursor.execute(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass "
                "AND indisunique", [name])
            for (definition,) in cursor.fetchall():
                assert "(province" in definition, definition
