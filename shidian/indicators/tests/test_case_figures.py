"""Households registered in the case engine become data values without being typed again."""
from django.utils import timezone

from shidian.cases import services as case_services
from shidian.cases.testing import household, make_programme, make_worker
from shidian.core.periods import PeriodKind, period_containing
from shidian.indicators import services
from shidian.indicators.models import DataValue, DataValueHistory
from shidian.orgs.models import Division


def test_registered_households_fill_the_townships_monthly_figure(world):
    programme = make_programme(year=timezone.localdate().year)
    clerk = make_worker("cun")
    for _n in range(2):
        case_services.case_create(user=clerk, programme=programme, values=household())
    registered = services.data_element_create(user=world.office, code="hh_registered",
                                              name="纳入改造的农户数", unit="户")
    data_set = services.data_set_create(user=world.office, name="危房改造进度月报",
                                        period_type="M", elements=[registered],
                                        division=Division.objects.get(code="5105"), level=4)
    month = period_containing(timezone.localdate(), PeriodKind.MONTH)
    changed = services.case_figures_pull(user=world.county, data_set=data_set,
                                         programme=programme, period=month.id,
                                         figures={"hh_registered": "registered"})
    assert changed == 1
    value = DataValue.objects.get(element=registered)
    assert (value.division_id, value.value) == ("510521100", 2)
    assert DataValueHistory.objects.get(element_id=registered.pk).source == "cases"
