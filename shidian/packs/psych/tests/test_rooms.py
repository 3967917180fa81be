"""The room registry feeds the 建成率 per village, rolled up by the indicators engine, and its
dated targets (seed 12f: 50% by the end of 2020, 80% by the end of 2021) are judged on it."""
import datetime as dt

import pytest

from shidian.cases import services as case_services
from shidian.cases.models import Case
from shidian.core.errors import ShidianError
from shidian.indicators.models import IndicatorValue, Target
from shidian.indicators.selectors import target_board
from shidian.packs.psych import figures, services
from shidian.packs.psych.testing import VILLAGES

# Rooms built (建成日期) in four of the five villages: two in 2020, two in 2021.
BUILT = {VILLAGES[0]: "2020-05-20", VILLAGES[1]: "2020-11-30", VILLAGES[2]: "2021-03-15",
         VILLAGES[3]: "2021-12-01"}


def _build(world, case, built_on):
    case_services.case_update(user=world.township, case_id=case.pk, values={
        "built_on": built_on, "staff": "2", "standard": {
            "place": {"ok": True}, "sign": {"ok": True}, "process": {"ok": True},
            "staffed": {"ok": True}}})
    case_services.case_transition(user=world.township, case_id=case.pk, transition="complete")


@pytest.mark.django_db
def test_every_village_is_on_the_registry_once(world):
    assert services.rooms_register_villages(user=world.office, programme=world.rooms,
                                            today=dt.date(2020, 1, 6)) == 5
    assert services.rooms_register_villages(user=world.office, programme=world.rooms,
                                            today=dt.date(2020, 1, 6)) == 0
    with pytest.raises(ShidianError):
        services.rooms_register_villages(user=world.grid, programme=world.rooms)


@pytest.mark.django_db
def test_a_room_is_built_only_with_its_date_staff_and_fittings(world):
    services.rooms_register_villages(user=world.office, programme=world.rooms)
    case = Case.objects.filter(programme=world.rooms).first()
    with pytest.raises(ShidianError) as err:
        case_services.case_transition(user=world.township, case_id=case.pk,
                                       transition="complete")
    assert "建成日期" in str(err.value.extra) or "建成日期" in err.value.message


@pytest.mark.django_db
def test_the_rooms_feed_the_completion_rate_and_its_targets(world):
    services.rooms_register_villages(user=world.office, programme=world.rooms)
    rooms = {c.division_id: c for c in Case.objects.filter(programme=world.rooms)}
    for code, day in BUILT.items():
        _build(world, rooms[code], day)
    # A school's room does not count for the villages' rate.
    case_services.case_create(user=world.office, programme=world.rooms, values={
        "room_name": "玉蟾小学心理辅导室", "village": VILLAGES[4], "room_kind": "school"})
    data_set = figures.indicators_setup(user=world.office, division=world.rooms.division)
    for period in ("2020M06", "2020M12", "2021M06", "2021M12"):
        figures.figures_push(user=world.office, data_set=data_set, period=period,
                             rooms=world.rooms)
    assert figures.figures_push(user=world.office, data_set=data_set, period="2020M12",
                                rooms=world.rooms) == 0  # again: nothing moves
    rate = figures.indicator_by_key("room_rate")
    values = dict(IndicatorValue.objects.filter(indicator_id=rate.pk, code="510521")
                  .values_list("period", "value"))
    assert {p: v for p, v in values.items() if "M" in p} == {
        "2020M06": 20.0, "2020M12": 40.0, "2021M06": 60.0, "2021M12": 80.0}
    # A year is its last month's figure (a count of rooms, not a flow).
    assert (values["2020"], values["2021"]) == (40.0, 80.0)
    township = IndicatorValue.objects.get(indicator_id=rate.pk, code="510521100",
                                          period="2021M12")
    assert township.value == 80.0
    village = IndicatorValue.objects.get(indicator_id=rate.pk, code=VILLAGES[4],
                                         period="2021M12")
    assert village.value == 0.0

    targets = {t.deadline: t for t in Target.objects.filter(indicator=rate)}
    assert sorted((d.isoformat(), t.value) for d, t in targets.items()) == [
        ("2020-12-31", 50.0), ("2021-12-31", 80.0)]
    late = target_board(target=targets[dt.date(2020, 12, 31)], today=dt.date(2021, 1, 15))
    assert [(r.code, r.current, r.standing) for r in late.rows] == [
        ("510521", 40.0, "missed")]
    met = target_board(target=targets[dt.date(2021, 12, 31)], today=dt.date(2022, 1, 10))
    assert [(r.code, r.current, r.standing) for r in met.rows] == [("510521", 80.0, "attained")]
    shown = {r["target"].value: r["state"] for r in figures.room_targets(
        programme=world.rooms, day=dt.date(2022, 1, 10))}
    assert shown == {50.0: "missed", 80.0: "met"}
