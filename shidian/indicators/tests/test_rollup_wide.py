"""The full rebuild's pivoted villages (one row per village, a column per element) give
what the entry-by-entry refresh gives, for every rule, with disaggregated elements and
values entered above the villages in the same rebuild."""
import random
from datetime import timedelta

import pytest

from shidian.core.periods import parse_period
from shidian.indicators import rollup, services
from shidian.indicators.models import (AggregateValue, Aggregation, IndicatorValue,
                                       PeriodType)
from shidian.orgs.models import Division

VILLAGES = ["510521100001", "510521100002", "510521101001", "510521101002", "510522100001"]
TOWNSHIPS = ["510521100", "510522100"]
MONTHS = ["2021M01", "2021M02", "2021M03", "2021M04"]
PERIODS = [*MONTHS, "2021Q1", "2021Q2", "2021H1", "2021"]


def enter(world, data_set, code, period, values):
    services.values_save(user=world.office, data_set=data_set,
                         division=Division.objects.get(code=code), period=period,
                         values=values, today=parse_period(period).end + timedelta(days=3))


@pytest.mark.parametrize("seed", [3, 11])
def test_a_rebuild_through_pivoted_villages_equals_the_refresh_after_each_entry(world, seed):
    rng = random.Random(seed)
    kind = services.disaggregation_create(user=world.office, name="贫困类型",
                                          options=[("poor", "建档立卡户"), ("other", "其他")])
    plain = {rule: services.data_element_create(user=world.office, code=f"w-{rule}", name=rule,
                                                aggregation=rule)
             for rule in (Aggregation.SUM, Aggregation.AVERAGE, Aggregation.LAST,
                          Aggregation.MAX, Aggregation.MIN)}
    split = services.data_element_create(user=world.office, code="w-split", name="分类户数",
                                         disaggregation=kind)
    elements = [*plain.values(), split]
    villages = services.data_set_create(user=world.office, name="村月报",
                                        period_type=PeriodType.MONTH, elements=elements,
                                        division=None, level=5)
    townships = services.data_set_create(user=world.office, name="乡镇月报",
                                         period_type=PeriodType.MONTH,
                                         elements=[plain[Aggregation.SUM]], division=None,
                                         level=4)
    spread = services.indicator_create(user=world.office, name="极差率",
                                       numerator="#{w-max} - #{w-min}",
                                       denominator="#{w-sum} + #{w-last}", factor=100,
                                       decimals=4)
    mixed = services.indicator_create(user=world.office, name="混合",
                                      numerator="#{w-split.poor} + #{w-average}",
                                      denominator="#{w-split}", missing_as_zero=True,
                                      decimals=4)
    keys = [f"w-{rule}" for rule in plain] + ["w-split.poor", "w-split.other"]
    for _entry in range(40):
        code, month = rng.choice(VILLAGES), rng.choice(MONTHS)
        chosen = rng.sample(keys, rng.randint(1, len(keys)))
        enter(world, villages, code, month,
              {k: "" if rng.random() < 0.15 else str(rng.randint(0, 30)) for k in chosen})
    for code in TOWNSHIPS:
        enter(world, townships, code, rng.choice(MONTHS), {"w-sum": str(rng.randint(1, 9))})

    def snapshot():
        ids = [e.pk for e in elements]
        return (sorted(AggregateValue.objects.filter(element_id__in=ids).values_list(
                    "element_id", "option", "code", "parent", "level", "period", "total", "n",
                    "vmin", "vmax")),
                sorted(IndicatorValue.objects.filter(indicator_id__in=[spread.pk, mixed.pk])
                       .values_list("indicator_id", "code", "parent", "level", "period",
                                    "numerator", "denominator", "value")))

    incremental = snapshot()
    assert any(row[3] == 5 for row in incremental[1])   # villages have indicator values
    AggregateValue.objects.all().delete()
    IndicatorValue.objects.all().delete()
    for period in PERIODS:
        services.aggregates_refresh(elements=elements, period=parse_period(period))
    rebuilt = snapshot()
    assert rebuilt[0] == incremental[0]
    assert len(rebuilt[1]) == len(incremental[1])
    for mine, theirs in zip(rebuilt[1], incremental[1]):
        assert mine[:5] == theirs[:5]
        for a, b in zip(mine[5:], theirs[5:]):
            assert (a is None and b is None) or a == pytest.approx(b, rel=1e-12)


def test_the_plain_elements_take_the_pivoted_path_and_the_disaggregated_the_rows():
    from datetime import date

    from shidian.indicators.formula import parse

    plain = rollup.ElementSpec(1, "a", "sum")
    split = rollup.ElementSpec(2, "b", "sum", disaggregated=True)
    unread = rollup.ElementSpec(3, "c", "max")     # no indicator reads it: stays rows
    only_plain = rollup.IndicatorSpec(7, parse("#{a}"), parse("1"), 1.0)
    with_option = rollup.IndicatorSpec(8, parse("#{b.x}"), parse("#{a}"), 1.0)
    statements = rollup.rebuild_statements(
        [plain, split, unread], [only_plain, with_option],
        {"a": plain, "b": split, "c": unread}, "2021", date(2021, 1, 1), date(2021, 12, 31))
    wide = next(s for s in statements if s.startswith(f"CREATE TEMPORARY TABLE {rollup.WIDE} "))
    assert "MAX(CASE WHEN element_id = 1 THEN v END) AS e1 " in wide and "= 3 " not in wide
    townships = next(s for s in statements
                     if s.startswith(f"CREATE TEMPORARY TABLE {rollup.CASCADE} "))
    assert "opt > '' OR element_id IN (2, 3)" in townships
    villages = [s for s in statements if s.startswith(f"INSERT INTO {rollup.IV}")
                and "5 AS level" in s]
    assert len(villages) == 2
    assert f"FROM {rollup.WIDE} " in villages[0] and "GROUP BY code" not in villages[0]
    assert f"FROM {rollup.LEAF} " in villages[1] and "GROUP BY code" in villages[1]
