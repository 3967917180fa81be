"""Data entry: validation that blocks or warns, history of every change, locks by date."""
from datetime import date

import pytest

from shidian.core.errors import ErrorCode, ShidianError
from shidian.indicators import services
from shidian.indicators.models import CompleteReport, DataValue, DataValueHistory
from shidian.orgs.models import Division

YUCHAN = "510521100"


def save(world, period="2021M03", today=date(2021, 4, 2), code=YUCHAN, user=None, **values):
    return services.values_save(user=user or world.clerk, data_set=world.data_set,
                                division=Division.objects.get(code=code), period=period,
                                values=values, today=today)


def test_a_clerk_saves_a_form_and_it_counts_as_reported_on_time(world):
    result = save(world, rooms="3", villages="10")
    assert result.changed == 2
    report = CompleteReport.objects.get(division_id=YUCHAN, period="2021M03")
    assert report.on_time and report.submitted_by == world.clerk


def test_a_late_form_is_reported_but_not_on_time(world):
    save(world, today=date(2021, 4, 20), rooms="3", villages="10")   # due 5 April
    assert not CompleteReport.objects.get(division_id=YUCHAN).on_time


def test_a_blocking_rule_saves_nothing(world):
    save(world, rooms="3", villages="10")
    with pytest.raises(ShidianError) as caught:
        save(world, rooms="12", villages="10")
    assert caught.value.code == ErrorCode.INVALID
    assert "建成数不能超过村（社区）总数" in caught.value.message
    assert DataValue.objects.get(element=world.rooms).value == 3


def test_each_bad_value_is_named_and_nothing_is_saved(world):
    with pytest.raises(ShidianError) as caught:
        save(world, rooms="三", villages="10.5")
    fields = {e["field"] for e in caught.value.extra["errors"]}
    assert fields == {"rooms", "villages"}
    assert not DataValue.objects.exists()


def test_a_percentage_must_lie_between_0_and_100(world):
    element = services.data_element_create(user=world.office, code="aware", name="知晓率",
                                           value_type="percentage")
    data_set = services.data_set_create(user=world.office, name="知晓率", period_type="Y",
                                        elements=[element], division=None, level=4)
    with pytest.raises(ShidianError):
        services.values_save(user=world.clerk, data_set=data_set,
                             division=Division.objects.get(code=YUCHAN), period="2021",
                             values={"aware": "120"}, today=date(2021, 12, 1))
    services.values_save(user=world.clerk, data_set=data_set,
                         division=Division.objects.get(code=YUCHAN), period="2021",
                         values={"aware": "85%"}, today=date(2021, 12, 1))
    assert DataValue.objects.get(element=element).value == 85


def test_a_warning_rule_saves_and_warns(world):
    services.validation_rule_create(user=world.office, data_set=world.data_set,
                                    left="#{villages}", operator="<=", right="50",
                                    message="村（社区）总数异常", severity="warn")
    result = save(world, rooms="3", villages="60")
    assert any("村（社区）总数异常" in w for w in result.warnings)
    assert DataValue.objects.get(element=world.villages).value == 60


def test_a_value_far_from_the_divisions_history_is_flagged(world):
    for month, today in (("2021M01", date(2021, 2, 2)), ("2021M02", date(2021, 3, 2)),
                         ("2021M03", date(2021, 4, 2))):
        assert not save(world, period=month, today=today, rooms="3", villages="10").warnings
    result = save(world, period="2021M04", today=date(2021, 5, 2), rooms="3", villages="100")
    assert any("村（社区）总数" in w for w in result.warnings)


def test_every_change_keeps_who_when_old_and_new(world):
    save(world, rooms="3", villages="10")
    save(world, user=world.county, rooms="4", villages="10")
    history = list(DataValueHistory.objects.filter(element_id=world.rooms.pk)
                   .order_by("changed_at", "id"))
    assert [(h.old_value, h.new_value, h.changed_by) for h in history] == [
        (None, 3, world.clerk), (3, 4, world.county)]
    assert DataValueHistory.objects.filter(element_id=world.villages.pk).count() == 1


def test_entry_locks_after_expiry(world):
    with pytest.raises(ShidianError) as caught:
        save(world, today=date(2021, 6, 1), rooms="3", villages="10")   # 60 days after March
    assert caught.value.code == ErrorCode.LOCKED
    assert "2021年5月30日" in caught.value.message


def test_a_period_not_yet_begun_cannot_be_entered(world):
    with pytest.raises(ShidianError) as caught:
        save(world, period="2021M05", today=date(2021, 4, 2), rooms="1", villages="10")
    assert caught.value.code == ErrorCode.PERIOD_CLOSED


def test_a_division_closed_before_the_period_cannot_report(world):
    Division.objects.filter(code=YUCHAN).update(closed_on=date(2021, 2, 28))
    with pytest.raises(ShidianError):
        save(world, user=world.county, rooms="1", villages="10")
