"""Completeness and timeliness: expected reports count only divisions open in the period."""
from datetime import date

from shidian.core.periods import parse_period
from shidian.indicators import selectors, services
from shidian.orgs.models import Division

MARCH = parse_period("2021M03")
APRIL = parse_period("2021M04")


def report(world, code, period, today):
    services.values_save(user=world.office, data_set=world.data_set,
                         division=Division.objects.get(code=code), period=period.id,
                         values={"rooms": "1", "villages": "5"}, today=today)


def grid(world, area="5105", periods=(MARCH, APRIL)):
    return selectors.completeness(data_set=world.data_set, periods=list(periods),
                                  area_code=area)


def test_expected_actual_and_on_time_by_county(world):
    report(world, "510521100", MARCH, date(2021, 4, 2))      # on time (due 5 April)
    report(world, "510521101", MARCH, date(2021, 4, 9))      # late
    result = grid(world)
    by_code = {row.code: row.cells[0] for row in result.rows}
    assert (by_code["510521"].expected, by_code["510521"].actual,
            by_code["510521"].on_time) == (2, 2, 1)
    assert (by_code["510522"].expected, by_code["510522"].actual) == (1, 0)
    total = result.total.cells[0]
    assert (total.expected, total.actual, total.on_time) == (3, 2, 1)
    assert round(total.rate) == 67 and round(total.timely_rate) == 33


def test_a_township_closed_during_the_period_counts_in_that_period_only(world):
    """福集镇 merges away on 15 March: it owes March's report, not April's."""
    Division.objects.filter(code="510521101").update(closed_on=date(2021, 3, 15))
    report(world, "510521101", MARCH, date(2021, 3, 20))
    result = grid(world, area="510521")
    march, april = result.total.cells
    assert (march.expected, march.actual) == (2, 1)
    assert (april.expected, april.actual) == (1, 0)


def test_a_report_of_a_division_not_open_never_raises_the_rate_above_100(world):
    """A township opened on 10 April is expected from April on; a March report entered for it
    before its opening was known counts in neither numerator nor denominator."""
    report(world, "510521100", MARCH, date(2021, 4, 2))
    report(world, "510521101", MARCH, date(2021, 4, 2))
    Division.objects.filter(code="510521101").update(opened_on=date(2021, 4, 10))
    march, april = grid(world, area="510521").total.cells
    assert (march.expected, march.actual) == (1, 1)
    assert march.rate == 100.0
    assert april.expected == 2


def test_a_township_sees_only_itself(world):
    report(world, "510521100", MARCH, date(2021, 4, 2))
    result = grid(world, area="510521100", periods=(MARCH,))
    assert [(r.code, r.cells[0].expected, r.cells[0].actual) for r in result.rows] == [
        ("510521100", 1, 1)]
