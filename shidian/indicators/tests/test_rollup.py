"""Roll-up over the division tree: prefix GROUP BYs, every aggregation rule, every level."""
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shidian.core.periods import parse_period
from shidian.indicators import services
from shidian.indicators.models import (AggregateValue, Aggregation, DataValue, Indicator,
                                       IndicatorValue, PeriodLeaf, PeriodType, ValueType)
from shidian.orgs.models import Division

from .conftest import build_tree

APRIL = date(2021, 4, 3)


def save(world, code, period, today=None, user=None, **values):
    today = today or parse_period(period).end + timedelta(days=3)
    return services.values_save(user=user or world.office, data_set=world.data_set,
                                division=Division.objects.get(code=code), period=period,
                                values={k: str(v) for k, v in values.items()}, today=today)


def value(indicator, code, period):
    row = IndicatorValue.objects.filter(indicator_id=indicator.pk, code=code,
                                        period=period).first()
    return None if row is None or row.value is None else round(row.value, indicator.decimals)


def test_a_county_value_is_the_sum_of_its_townships(world):
    save(world, "510521100", "2021M03", rooms=3, villages=10)
    save(world, "510521101", "2021M03", rooms=1, villages=10)
    save(world, "510522100", "2021M03", rooms=9, villages=10)
    assert value(world.rate, "510521100", "2021M03") == 30.0
    assert value(world.rate, "510521", "2021M03") == 20.0        # 4 / 20 in 泸县
    assert value(world.rate, "510522", "2021M03") == 90.0        # 合江县
    assert value(world.rate, "5105", "2021M03") == pytest.approx(43.3)  # 13 / 30 in 泸州市
    assert value(world.rate, "51", "2021M03") == pytest.approx(43.3)
    assert value(world.rate, "", "2021M03") == pytest.approx(43.3)  # the country


def test_a_stock_takes_the_last_month_in_the_quarter_and_year(world):
    """Rooms built is a stock (last value): the quarter shows March, not Jan+Feb+Mar."""
    save(world, "510521100", "2021M01", rooms=1, villages=10)
    save(world, "510521100", "2021M02", rooms=2, villages=10)
    save(world, "510521100", "2021M03", rooms=4, villages=10)
    assert value(world.rate, "510521100", "2021Q1") == 40.0
    assert value(world.rate, "510521", "2021") == 40.0
    assert value(world.rate, "510521", "2021M02") == 20.0


def test_changing_a_value_changes_every_level_above_it(world):
    save(world, "510521100", "2021M03", rooms=3, villages=10)
    assert value(world.rate, "5105", "2021Q1") == 30.0
    save(world, "510521100", "2021M03", rooms=8, villages=10)
    assert value(world.rate, "5105", "2021Q1") == 80.0
    save(world, "510521100", "2021M03", rooms="", villages="")   # cleared
    assert value(world.rate, "5105", "2021Q1") is None
    assert not AggregateValue.objects.filter(code="5105", period="2021Q1").exists()


@pytest.mark.parametrize("rule,expected", [
    (Aggregation.SUM, 3 + 5 + 7),
    (Aggregation.AVERAGE, (3 + 5 + 7) / 3),
    (Aggregation.MAX, 7),
    (Aggregation.MIN, 3),
    (Aggregation.LAST, 7),
])
def test_each_aggregation_rule_over_months_at_one_township(world, rule, expected):
    element = services.data_element_create(user=world.office, code=f"x-{rule}", name=rule,
                                           aggregation=rule)
    data_set = services.data_set_create(user=world.office, name=rule, period_type="M",
                                        elements=[element], division=None, level=4)
    indicator = services.indicator_create(user=world.office, name=rule,
                                          numerator=f"#{{x-{rule}}}", decimals=3)
    for month, number in (("2021M01", 3), ("2021M02", 5), ("2021M03", 7)):
        services.values_save(user=world.office, data_set=data_set,
                             division=Division.objects.get(code="510521100"), period=month,
                             values={element.code: str(number)},
                             today=parse_period(month).end)
    assert value(indicator, "510521100", "2021Q1") == pytest.approx(expected, abs=1e-3)
    assert value(indicator, "510521", "2021Q1") == pytest.approx(expected, abs=1e-3)


def test_average_over_divisions_weighs_each_reporting_division_once(world):
    element = services.data_element_create(user=world.office, code="score", name="满意度",
                                           value_type=ValueType.PERCENTAGE,
                                           aggregation=Aggregation.AVERAGE)
    data_set = services.data_set_create(user=world.office, name="满意度", period_type="Q",
                                        elements=[element], division=None, level=4)
    indicator = services.indicator_create(user=world.office, name="满意度",
                                          numerator="#{score}")
    for code, number in (("510521100", 90), ("510521101", 70), ("510522100", 50)):
        services.values_save(user=world.office, data_set=data_set,
                             division=Division.objects.get(code=code), period="2021Q1",
                             values={"score": str(number)}, today=APRIL)
    assert value(indicator, "510521", "2021Q1") == 80.0
    assert value(indicator, "5105", "2021Q1") == 70.0


def test_elements_of_different_period_types_in_one_indicator(world):
    """Households renovated are reported monthly, the year's quota once a year: the year's
    rate uses both; a quarter has no quota (a yearly value does not lie inside it)."""
    done = services.data_element_create(user=world.office, code="done", name="完成改造户数")
    quota = services.data_element_create(user=world.office, code="quota", name="年度任务户数")
    monthly = services.data_set_create(user=world.office, name="改造月报", period_type="M",
                                       elements=[done], division=None, level=3)
    yearly = services.data_set_create(user=world.office, name="年度任务", period_type="Y",
                                      elements=[quota], division=None, level=3)
    rate = services.indicator_create(user=world.office, name="改造完成率", numerator="#{done}",
                                     denominator="#{quota}", factor=100)
    county = Division.objects.get(code="510521")
    services.values_save(user=world.office, data_set=yearly, division=county, period="2021",
                         values={"quota": "200"}, today=date(2021, 1, 5))
    for month in ("2021M01", "2021M02", "2021M03"):
        services.values_save(user=world.office, data_set=monthly, division=county,
                             period=month, values={"done": "20"}, today=APRIL)
    assert value(rate, "510521", "2021") == 30.0
    assert value(rate, "510521", "2021Q1") is None


def test_disaggregated_values_add_up_to_the_total(world):
    kind = services.disaggregation_create(user=world.office, name="贫困类型",
                                          options=[("poor", "建档立卡户"), ("other", "其他")])
    houses = services.data_element_create(user=world.office, code="houses", name="改造户数",
                                          disaggregation=kind)
    data_set = services.data_set_create(user=world.office, name="危房改造", period_type="M",
                                        elements=[houses], division=None, level=4)
    share = services.indicator_create(user=world.office, name="建档立卡户占比",
                                      numerator="#{houses.poor}", denominator="#{houses}",
                                      factor=100)
    services.values_save(user=world.office, data_set=data_set,
                         division=Division.objects.get(code="510521100"), period="2021M03",
                         values={"houses.poor": "3", "houses.other": "1"}, today=APRIL)
    assert value(share, "510521", "2021M03") == 75.0


@settings(max_examples=15, deadline=None)
@given(entries=st.lists(st.tuples(
    st.sampled_from(["510521100", "510521101", "510522100"]),
    st.sampled_from(["2021M01", "2021M02", "2021M03"]),
    st.integers(0, 10), st.integers(10, 20)), min_size=1, max_size=8))
@pytest.mark.django_db
def test_refresh_after_each_entry_equals_a_full_rebuild(entries):
    """The cheap per-entry refresh (one chain of ancestors) leaves exactly what a full
    rebuild from raw values computes."""
    from shidian.indicators.models import DataElement, DataSet
    from shidian.orgs.models import User

    build_tree()
    DataValue.objects.all().delete()
    PeriodLeaf.objects.all().delete()   # the examples share one database: start empty
    AggregateValue.objects.all().delete()
    office = User.objects.filter(username="prop-office").first() or User.objects.create_user(
        "prop-office", role="office", is_superuser=True)
    rooms = DataElement.objects.filter(code="p-rooms").first() or services.data_element_create(
        user=office, code="p-rooms", name="r", aggregation=Aggregation.LAST)
    villages = DataElement.objects.filter(code="p-vill").first() or \
        services.data_element_create(user=office, code="p-vill", name="v")
    data_set = DataSet.objects.filter(name="p").first() or services.data_set_create(
        user=office, name="p", period_type=PeriodType.MONTH, elements=[rooms, villages],
        division=None, level=4)
    for code, period, built, total in entries:
        services.values_save(user=office, data_set=data_set,
                             division=Division.objects.get(code=code), period=period,
                             values={"p-rooms": str(built), "p-vill": str(total)},
                             today=APRIL)

    def snapshot():
        return sorted(AggregateValue.objects.filter(element_id__in=[rooms.pk, villages.pk])
                      .values_list("element_id", "code", "parent", "level", "period", "total",
                                   "n", "vmin", "vmax"))

    incremental = snapshot()
    assert incremental
    for period in ("2021M01", "2021M02", "2021M03", "2021Q1", "2021H1", "2021"):
        services.aggregates_refresh(elements=[rooms, villages], period=parse_period(period))
    assert snapshot() == incremental


# -- villages: no stored aggregate, their figures read from their entries --------------------------
VILLAGES = ["510521100001", "510521100002", "510521101001", "510521101002", "510522100001"]


def village_data_set(world, code="households", **element):
    households = services.data_element_create(user=world.office, code=code, name="改造户数",
                                              **element)
    data_set = services.data_set_create(user=world.office, name=f"{code}月报",
                                        period_type=PeriodType.MONTH, elements=[households],
                                        division=None, level=5)
    return households, data_set


def enter(world, data_set, code, period, **values):
    services.values_save(user=world.office, data_set=data_set,
                         division=Division.objects.get(code=code), period=period,
                         values={k: str(v) for k, v in values.items()},
                         today=parse_period(period).end + timedelta(days=3))


def test_a_township_adds_up_its_villages_and_no_village_aggregate_is_stored(world):
    households, data_set = village_data_set(world)
    count = services.indicator_create(user=world.office, name="改造户数", numerator="#{households}")
    enter(world, data_set, "510521100001", "2021M03", households=3)
    enter(world, data_set, "510521100002", "2021M03", households=4)
    enter(world, data_set, "510521101001", "2021M03", households=5)
    enter(world, data_set, "510521100001", "2021M04", households=2)
    assert value(count, "510521100001", "2021M03") == 3.0           # a village: its entry
    assert value(count, "510521100001", "2021") == 5.0              # March + April
    assert value(count, "510521100", "2021M03") == 7.0              # 玉蟾街道: two villages
    assert value(count, "510521", "2021Q1") == 12.0                 # 泸县
    assert value(count, "510521", "2021") == 14.0
    stored = AggregateValue.objects.filter(element_id=households.pk)
    assert stored.filter(code="510521100", period="2021M03").get().n == 2
    assert not stored.filter(level=5).exists()
    enter(world, data_set, "510521100002", "2021M03", households="")   # cleared
    assert value(count, "510521100002", "2021M03") is None
    assert value(count, "510521100", "2021M03") == 3.0
    assert value(count, "5105", "2021") == 10.0


def test_a_full_rebuild_of_villages_gives_what_entry_by_entry_refresh_gave(world):
    kind = services.disaggregation_create(user=world.office, name="贫困类型",
                                          options=[("poor", "建档立卡户"), ("other", "其他")])
    households, data_set = village_data_set(world, disaggregation=kind)
    share = services.indicator_create(user=world.office, name="建档立卡户占比",
                                      numerator="#{households.poor}",
                                      denominator="#{households}", factor=100, decimals=2)
    for i, code in enumerate(VILLAGES):
        enter(world, data_set, code, "2021M02", **{"households.poor": i, "households.other": 2})
    enter(world, data_set, VILLAGES[0], "2021M03", **{"households.poor": 4})

    def figures():
        return sorted(IndicatorValue.objects.filter(indicator_id=share.pk).values_list(
            "code", "parent", "level", "period", "numerator", "denominator", "value"))

    incremental = figures()
    assert ("510521100001", "510521100", 5, "2021Q1", 4.0, 6.0, pytest.approx(66.67, 0.01)) \
        in incremental
    assert value(share, "510521100", "2021M02") == 20.0          # 1 of 5 in two villages
    IndicatorValue.objects.all().delete()
    for period in ("2021M02", "2021M03", "2021Q1", "2021H1", "2021"):
        services.aggregates_refresh(elements=[households], period=parse_period(period))
    assert figures() == incremental


def test_a_village_rate_over_a_yearly_quota_counts_the_quota_on_a_rebuild_of_the_months(world):
    """The rebuild of the monthly element reads the quota (another data set) at each village
    from the values: it is not in the rebuild's leaf table."""
    done, monthly = village_data_set(world, code="done")
    quota = services.data_element_create(user=world.office, code="quota", name="年度任务户数")
    yearly = services.data_set_create(user=world.office, name="年度任务", period_type="Y",
                                      elements=[quota], division=None, level=5)
    rate = services.indicator_create(user=world.office, name="改造完成率", numerator="#{done}",
                                     denominator="#{quota}", factor=100)
    for code in VILLAGES[:2]:
        services.values_save(user=world.office, data_set=yearly,
                             division=Division.objects.get(code=code), period="2021",
                             values={"quota": "40"}, today=date(2021, 1, 5))
        for month in ("2021M01", "2021M02", "2021M03"):
            enter(world, monthly, code, month, done=4)
    assert value(rate, VILLAGES[0], "2021") == 30.0
    IndicatorValue.objects.all().delete()
    services.aggregates_refresh(elements=[done], period=parse_period("2021"))
    assert value(rate, VILLAGES[0], "2021") == 30.0
    assert value(rate, VILLAGES[1], "2021") == 30.0
    assert value(rate, "510521100", "2021") == 30.0


def test_an_indicator_defined_after_the_entries_has_village_figures(world):
    households, data_set = village_data_set(world)
    enter(world, data_set, "510521100001", "2021M03", households=6)
    enter(world, data_set, "510521101001", "2021M03", households=2)
    doubled = services.indicator_create(user=world.office, name="两倍",
                                        numerator="#{households} * 2")
    assert value(doubled, "510521100001", "2021M03") == 12.0
    assert value(doubled, "510521101001", "2021Q1") == 4.0
    assert value(doubled, "510521", "2021M03") == 16.0


@pytest.mark.django_db
def test_a_rebuild_leaves_the_sqlite_session_settings_as_it_found_them(world):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite session settings")
    households, data_set = village_data_set(world)
    enter(world, data_set, "510521100001", "2021M03", households=6)

    def settings_now():
        with connection.cursor() as cursor:
            found = []
            for name in ("cache_size", "temp.cache_size", "mmap_size"):
                cursor.execute(f"PRAGMA {name}")
                found.append(cursor.fetchone())
            return found

    before = settings_now()
    services.aggregates_refresh(elements=[households], period=parse_period("2021"))
    assert settings_now() == before
    assert value(services.indicator_create(user=world.office, name="户数",
                                           numerator="#{households}"), "5105", "2021") == 6.0


@settings(max_examples=15, deadline=None)
@given(entries=st.lists(st.tuples(
    st.sampled_from(VILLAGES), st.sampled_from(["2021M01", "2021M02", "2021M03"]),
    st.sampled_from([Aggregation.SUM, Aggregation.LAST, Aggregation.AVERAGE]),
    st.one_of(st.none(), st.integers(0, 10))), min_size=1, max_size=10))
@pytest.mark.django_db
def test_village_entries_refreshed_one_by_one_equal_a_full_rebuild(entries):
    """Aggregates and indicator values at every level, villages included, after entry by
    entry refreshes (clearing some) equal those of full rebuilds, for three rules."""
    from shidian.indicators.models import DataElement, DataSet
    from shidian.orgs.models import User

    build_tree()
    DataValue.objects.all().delete()
    PeriodLeaf.objects.all().delete()   # the examples share one database: start empty
    AggregateValue.objects.all().delete()
    IndicatorValue.objects.all().delete()
    office = User.objects.filter(username="prop-office").first() or User.objects.create_user(
        "prop-office", role="office", is_superuser=True)
    elements = {}
    for rule in (Aggregation.SUM, Aggregation.LAST, Aggregation.AVERAGE):
        elements[rule] = DataElement.objects.filter(code=f"v-{rule}").first() or \
            services.data_element_create(user=office, code=f"v-{rule}", name=rule,
                                         aggregation=rule)
    data_set = DataSet.objects.filter(name="v").first() or services.data_set_create(
        user=office, name="v", period_type=PeriodType.MONTH, elements=list(elements.values()),
        division=None, level=5)
    if not Indicator.objects.filter(name="v-mix").exists():
        services.indicator_create(user=office, name="v-mix",
                                  numerator="#{v-sum} + #{v-last}",
                                  denominator="#{v-average}", missing_as_zero=True)
    for code, period, rule, number in entries:
        services.values_save(user=office, data_set=data_set,
                             division=Division.objects.get(code=code), period=period,
                             values={f"v-{rule}": "" if number is None else str(number)},
                             today=APRIL)

    def snapshot():
        ids = [e.pk for e in elements.values()]
        return (sorted(AggregateValue.objects.filter(element_id__in=ids).values_list(
                    "element_id", "option", "code", "parent", "level", "period", "total", "n",
                    "vmin", "vmax")),
                sorted(IndicatorValue.objects.values_list(
                    "indicator_id", "code", "parent", "level", "period", "numerator",
                    "denominator", "value")))

    incremental = snapshot()
    for period in ("2021M01", "2021M02", "2021M03", "2021Q1", "2021H1", "2021"):
        services.aggregates_refresh(elements=list(elements.values()),
                                    period=parse_period(period))
    assert snapshot() == incremental


def test_the_drilldown_and_the_series_read_every_level_through_the_key(world):
    from shidian.indicators import selectors

    households, data_set = village_data_set(world)
    count = services.indicator_create(user=world.office, name="改造户数", numerator="#{households}")
    for month, number in (("2021M01", 1), ("2021M02", 2), ("2021M03", 4)):
        enter(world, data_set, "510521100001", month, households=number)
    enter(world, data_set, "510522100001", "2021M03", households=10)
    march = parse_period("2021M03")

    own, children = selectors.indicator_drilldown(indicator=count, period=march, code="")
    assert own.value == 14.0
    assert {c.code: c.value for c in children} == {"51": 14.0, "42": None}
    own, children = selectors.indicator_drilldown(indicator=count, period=march,
                                                  code="510521100")
    assert own.value == 4.0
    assert {c.code: (c.value, c.has_children) for c in children} == {
        "510521100001": (4.0, False), "510521100002": (None, False)}
    assert selectors.indicator_series(
        indicator=count, code="510521100001",
        periods=[parse_period(p) for p in ("2021M01", "2021M02", "2021M03", "2021M04")],
    ) == [1.0, 2.0, 4.0, None]
    assert selectors.indicator_series(indicator=count, code="",
                                      periods=[parse_period("2021Q1")]) == [17.0]
