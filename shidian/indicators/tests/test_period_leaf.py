"""The stored leaf of the longer periods (``PeriodLeaf``) stays equal to a group-by of the
values after any sequence of entries, edits, clearings and uploads, at villages, townships
and agencies, for monthly, weekly and quarterly data sets and every aggregation rule; and a
rebuild of the year that reads it gives what a rebuild from the values gives."""
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shidian.core.periods import parse_period
from shidian.indicators import rollup, services
from shidian.indicators.models import (AggregateValue, Aggregation, DataElement, DataSet,
                                       DataValue, Indicator, IndicatorValue, PeriodLeaf,
                                       PeriodType)
from shidian.indicators.selectors import data_set_fields
from shidian.orgs.models import Division, User
from shidian.orgs.testing import make_agency

from .conftest import build_tree

VILLAGES = ["510521100001", "510521100002", "510521101001", "510522100001"]
TOWNSHIPS = ["510521100", "510521101", "510522100"]
PERIODS = {PeriodType.MONTH: ["2021M01", "2021M03", "2021M04", "2021M07"],
           # W13 lies in March and Q1; W26 (28 June - 4 July) only in the year.
           PeriodType.WEEK: ["2021W05", "2021W13", "2021W26"],
           PeriodType.QUARTER: ["2021Q1", "2021Q3"]}
RULES = (Aggregation.SUM, Aggregation.AVERAGE, Aggregation.LAST, Aggregation.MAX,
         Aggregation.MIN)
ALL_KINDS = frozenset({"Y", "H", "Q", "M"})


def _setup():
    """Elements of every rule and a disaggregated one; data sets entered by villages
    (monthly, weekly), townships (quarterly) and two agencies of one county (monthly)."""
    build_tree()
    office = User.objects.filter(username="leaf-office").first() or User.objects.create_user(
        "leaf-office", role="office", is_superuser=True)
    if not DataElement.objects.filter(code="l-sum").exists():
        kind = services.disaggregation_create(user=office, name="l-kind",
                                              options=[("a", "A"), ("b", "B")])
        plain = [services.data_element_create(user=office, code=f"l-{rule}", name=rule,
                                              aggregation=rule) for rule in RULES]
        split = services.data_element_create(user=office, code="l-split", name="split",
                                             aggregation=Aggregation.LAST,
                                             disaggregation=kind)
        health = make_agency("泸县卫生健康局", "510521")
        civil = make_agency("泸县民政局", "510521")
        for name, period_type, level, agencies in (
                ("l-month", PeriodType.MONTH, 5, ()), ("l-week", PeriodType.WEEK, 5, ()),
                ("l-quarter", PeriodType.QUARTER, 4, ()),
                ("l-agency", PeriodType.MONTH, None, (health, civil))):
            services.data_set_create(user=office, name=name, period_type=period_type,
                                     elements=[*plain, split], level=level,
                                     division=None if level else Division.objects.get(
                                         code="5105"),
                                     agencies=agencies)
        services.indicator_create(user=office, name="l-mix", numerator="#{l-sum} + #{l-last}",
                                  denominator="#{l-average} + #{l-split}",
                                  missing_as_zero=True)
    return office


def _codes(data_set):
    if data_set.level == 5:
        return VILLAGES
    if data_set.level == 4:
        return TOWNSHIPS
    return list(data_set.agencies.order_by("pk"))


entry = st.tuples(st.sampled_from(["l-month", "l-week", "l-quarter", "l-agency"]),
                  st.integers(0, 3), st.integers(0, 3),
                  st.dictionaries(st.sampled_from([f"l-{r}" for r in RULES]
                                                  + ["l-split.a", "l-split.b"]),
                                  st.one_of(st.none(), st.integers(0, 30)), min_size=1),
                  st.booleans())


def _write(office, name, where, when, values, upload):
    data_set = DataSet.objects.get(name=name)
    places = _codes(data_set)
    place = places[where % len(places)]
    periods = PERIODS[data_set.period_type]
    period = parse_period(periods[when % len(periods)])
    raw = {k: "" if v is None else str(v) for k, v in values.items()}
    today = period.end + timedelta(days=3)
    if not isinstance(place, str):          # an agency's form
        services.values_save(user=office, data_set=data_set, division=place.division,
                             period=period.id, values=raw, agency=place, today=today)
    elif upload:                            # an Excel upload: one form per village
        fields = data_set_fields(data_set)
        forms = [services.form_prepare(data_set=data_set, fields=fields,
                                       division=Division.objects.get(code=code),
                                       period=period, raw=raw, agency=None,
                                       check_outliers=False) for code in places]
        services.forms_save(user=office, data_set=data_set, period=period, forms=forms,
                            source="excel", today=today)
    else:
        services.values_save(user=office, data_set=data_set,
                             division=Division.objects.get(code=place), period=period.id,
                             values=raw, today=today)


def _stored():
    return sorted(PeriodLeaf.objects.values_list("period", "code", "element_id", "option",
                                                  "v"))


def _from_values(periods):
    """The leaf of each period as a group-by of the values (``rollup.leaf_select``)."""
    specs = services.element_specs(DataElement.objects.all())
    found = []
    with connection.cursor() as cursor:
        for period in periods:
            cursor.execute(f"SELECT '{period.id}', code, element_id, opt, v FROM ("
                           + rollup.leaf_select(specs, period.start, period.end,
                                                dialect=connection.vendor) + ") l")
            found += cursor.fetchall()
    return sorted(found)


def _same(mine, theirs):
    assert [row[:-1] for row in mine] == [row[:-1] for row in theirs]
    assert [row[-1] for row in mine] == pytest.approx([row[-1] for row in theirs], rel=1e-12)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(entry, min_size=1, max_size=12))
@pytest.mark.django_db
def test_the_stored_leaf_equals_a_group_by_of_the_values_after_any_writes(entries):
    DataValue.objects.all().delete()
    PeriodLeaf.objects.all().delete()   # the examples share one database: start empty
    office = _setup()
    # Every calendar kind kept, so that months, quarters and halves are checked as well as
    # the year (the rule is the same for every kind; only the year is kept in production).
    with mock.patch.object(rollup, "LEAF_KINDS", ALL_KINDS):
        for name, where, when, values, upload in entries:
            _write(office, name, where, when, values, upload)
        periods = {p.id: p for v in DataValue.objects.values_list("period", flat=True)
                   for p in rollup.leaf_periods(parse_period(v))}
        stored = _stored()
        assert {row[0] for row in stored} <= set(periods)
        _same(stored, _from_values(periods.values()))
        # The bulk fill (a load, the migration) computes the same rows.
        services.period_leaf_fill()
        _same(_stored(), stored)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(entry, min_size=1, max_size=10))
@pytest.mark.django_db
def test_a_rebuild_of_the_year_from_the_stored_leaf_equals_one_from_the_values(entries):
    DataValue.objects.all().delete()
    PeriodLeaf.objects.all().delete()
    office = _setup()
    for name, where, when, values, upload in entries:
        _write(office, name, where, when, values, upload)
    elements = list(DataElement.objects.filter(code__startswith="l-"))
    indicator = Indicator.objects.get(name="l-mix")
    year = parse_period("2021")

    def snapshot():
        return (sorted(AggregateValue.objects.filter(period="2021").values_list(
                    "element_id", "option", "code", "parent", "level", "total", "n", "vmin",
                    "vmax")),
                sorted(IndicatorValue.objects.filter(period="2021",
                                                     indicator_id=indicator.pk).values_list(
                    "code", "parent", "level", "numerator", "denominator", "value")))

    services.aggregates_refresh(elements=elements, period=year)      # reads the stored leaf
    stored = snapshot()
    specs = services.element_specs(elements)
    spec = services.indicator_spec(indicator)
    services._execute(rollup.rebuild_statements(
        specs, [spec], {s.code: s for s in specs}, year.id, year.start, year.end,
        dialect=connection.vendor, stored=False))                   # reads the values
    from_values = snapshot()
    for mine, theirs, keys in zip(stored, from_values, (5, 3)):
        assert [row[:keys] for row in mine] == [row[:keys] for row in theirs]
        for a, b in zip(mine, theirs):
            for x, y in zip(a[keys:], b[keys:]):
                assert (x is None and y is None) or x == pytest.approx(y, rel=1e-12)


def test_clearing_the_last_value_removes_the_stored_row(world):
    division = Division.objects.get(code="510521100")
    for period, rooms in (("2021M02", "3"), ("2021M05", "4")):
        services.values_save(user=world.office, data_set=world.data_set, division=division,
                             period=period, values={"rooms": rooms, "villages": "9"},
                             today=parse_period(period).end + timedelta(days=3))
    assert PeriodLeaf.objects.get(period="2021", code="510521100",
                                  element_id=world.rooms.pk).v == 4.0   # last value: May
    services.values_save(user=world.office, data_set=world.data_set, division=division,
                         period="2021M05", values={"rooms": ""},
                         today=parse_period("2021M05").end + timedelta(days=3))
    assert PeriodLeaf.objects.get(period="2021", code="510521100",
                                  element_id=world.rooms.pk).v == 3.0   # back to February
    services.values_save(user=world.office, data_set=world.data_set, division=division,
                         period="2021M02", values={"rooms": ""},
                         today=parse_period("2021M02").end + timedelta(days=3))
    assert not PeriodLeaf.objects.filter(element_id=world.rooms.pk).exists()
    assert PeriodLeaf.objects.filter(element_id=world.villages.pk).count() == 1


def test_the_fill_command_repairs_a_leaf_behind_values_written_past_the_services(world):
    from io import StringIO

    from django.core.management import call_command

    division = Division.objects.get(code="510521100")
    services.values_save(user=world.office, data_set=world.data_set, division=division,
                         period="2021M02", values={"rooms": "3", "villages": "9"},
                         today=parse_period("2021M02").end + timedelta(days=3))
    DataValue.objects.filter(element=world.rooms).update(value=5)   # past the services
    assert PeriodLeaf.objects.get(element_id=world.rooms.pk).v == 3.0
    out = StringIO()
    call_command("indicators_leaf_fill", stdout=out)
    assert "2021" in out.getvalue()
    assert PeriodLeaf.objects.get(element_id=world.rooms.pk).v == 5.0


def test_the_migration_fills_the_leaf_of_values_entered_before_it(world):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module("shidian.indicators.migrations.0008_period_leaf")
    division = Division.objects.get(code="510521100")
    for period, rooms in (("2021M02", "3"), ("2021M05", "4"), ("2022M01", "1")):
        services.values_save(user=world.office, data_set=world.data_set, division=division,
                             period=period, values={"rooms": rooms, "villages": "9"},
                             today=parse_period(period).end + timedelta(days=3))
    kept = _stored()
    PeriodLeaf.objects.all().delete()                     # as before the migration
    with connection.cursor() as cursor:
        migration.fill(apps, SimpleNamespace(connection=connection, execute=cursor.execute))
    assert _stored() == kept
    assert {row[0] for row in kept} == {"2021", "2022"}


def _saved_at_once(step: str, first, second) -> list[Exception]:
    """Run two saves in two threads, as two clerks pressing 保存 together: the second
    starts once the first has passed ``services.<step>`` and while the first is still
    inside its transaction (it waits there a second). Returns what either raised."""
    import threading
    import time

    from django.db import connections

    original = getattr(services, step)
    passed = threading.Event()
    errors = []

    def slow_step(**kwargs):
        original(**kwargs)
        if threading.current_thread().name == "first":
            passed.set()
            time.sleep(1.0)

    def run(save):
        try:
            if threading.current_thread().name == "second":
                passed.wait(10)
            save()
        except Exception as error:  # noqa: BLE001 - returned to the test
            errors.append(error)
        finally:
            connections.close_all()

    with mock.patch.object(services, step, slow_step):
        threads = [threading.Thread(target=run, args=(first,), name="first"),
                   threading.Thread(target=run, args=(second,), name="second")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_agencies_forms_of_one_division_written_at_once_leave_the_leaf_right():
    """PostgreSQL: the second form's refresh waits for the first to commit, then counts
    both agencies' values (without the division's lock it would collide on the key)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    office = _setup()
    data_set = DataSet.objects.get(name="l-agency")
    first, second = data_set.agencies.order_by("pk")

    def enter(agency, number):
        return lambda: services.values_save(
            user=office, data_set=data_set, division=agency.division, period="2021M03",
            values={"l-sum": str(number)}, agency=agency, today=parse_period("2021M03").end)

    assert _saved_at_once("period_leaf_refresh", enter(first, 4), enter(second, 5)) == []
    element = DataElement.objects.get(code="l-sum")
    assert PeriodLeaf.objects.get(period="2021", code=first.division_id,
                                  element_id=element.pk).v == 9.0


@pytest.mark.django_db(transaction=True)
def test_two_villages_of_one_township_saved_at_once_both_count_in_every_roll_up():
    """PostgreSQL: two clerks of one township's villages press 保存 at the same moment. Each
    form recomputes the township, county, city, province and country; the second waits for
    the first to commit and then counts both villages (without the roll-up lock the later
    write won and the township lost the other village until the next rebuild)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    office = _setup()
    data_set = DataSet.objects.get(name="l-month")

    def enter(code, number):   # VILLAGES[0] and [1] are both in township 510521100
        return lambda: services.values_save(
            user=office, data_set=data_set, division=Division.objects.get(code=code),
            period="2021M03", values={"l-sum": str(number), "l-last": "1"},
            today=parse_period("2021M03").end)

    assert _saved_at_once("aggregates_refresh_chain", enter(VILLAGES[0], 4),
                          enter(VILLAGES[1], 5)) == []
    element = DataElement.objects.get(code="l-sum")
    for code in ("510521100", "510521", "5105", "51", ""):
        for period in ("2021M03", "2021Q1", "2021"):
            row = AggregateValue.objects.get(period=period, code=code, element_id=element.pk,
                                             option="")
            assert (row.total, row.n) == (9.0, 2), (code, period)
    # The indicator counts both villages too: (l-sum + l-last) / (l-average + l-split),
    # missing counted as zero: (9 + 2) / 0 is no value, so compare with a rebuild.
    stored = {(v.code, v.period): v.value for v in IndicatorValue.objects.all()}
    for period in ("2021M03", "2021Q1", "2021"):
        services.aggregates_refresh(elements=list(DataElement.objects.all()),
                                    period=parse_period(period))
    assert stored == {(v.code, v.period): v.value for v in IndicatorValue.objects.all()}
