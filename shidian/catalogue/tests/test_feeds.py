"""Registries fed to indicators: the housing pack's monthly figures come from the register."""
from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from shidian.catalogue.services import feeds_pull, programme_create_from_pack
from shidian.core.periods import period_containing

pytestmark = pytest.mark.django_db


def test_pulling_the_housing_feeds_counts_households_and_grade_d_houses_per_county():
    from shidian.cases.models import CaseProgramme
    from shidian.cases.services import case_create
    from shidian.cases.testing import household, make_workers
    from shidian.indicators.models import DataValue

    workers = make_workers()
    install = programme_create_from_pack(
        user=workers["office"], pack_key="housing", name="泸县危改", division_code="510521",
        year=timezone.localdate().year, token=uuid.uuid4().hex)
    programme = CaseProgramme.objects.get(name__startswith="泸县危改")
    for grade in ("D", "D", "C"):
        case_create(user=workers["village"], programme=programme,
                    values=household(appraisal_grade=grade))
    period = period_containing(timezone.localdate(), "M").id
    changed = feeds_pull(user=workers["office"], install=install, period=period)
    values = dict(DataValue.objects.filter(division_id="510521", period=period)
                  .values_list("element__code", "value"))
    assert values["hs_registered"] == 3
    assert values["hs_grade_d"] == 2
    assert changed >= 2
    again = feeds_pull(user=workers["office"], install=install, period=period)
    assert again == 0  # the same figures: nothing changes


def test_the_office_pulls_the_figures_from_the_pack_page_and_outsiders_cannot(client):
    from shidian.cases.models import CaseProgramme
    from shidian.cases.services import case_create
    from shidian.cases.testing import household, make_workers
    from shidian.indicators.models import DataValue
    from shidian.orgs.models import Role
    from shidian.orgs.testing import make_user

    workers = make_workers()
    install = programme_create_from_pack(
        user=workers["office"], pack_key="housing", name="泸县危改", division_code="510521",
        year=timezone.localdate().year, token=uuid.uuid4().hex)
    case_create(user=workers["village"], programme=CaseProgramme.objects.get(
        name__startswith="泸县危改"), values=household(appraisal_grade="D"))
    period = period_containing(timezone.localdate(), "M").id
    url = f"/catalogue/programmes/{install.programme_id}/feeds/"
    client.force_login(make_user("hejiang", role=Role.OFFICE, division_code="510522"))
    assert client.post(url, {"period": period}).status_code == 404
    client.force_login(workers["liaison"])
    assert client.post(url, {"period": period}).status_code == 404
    assert not DataValue.objects.exists()
    client.force_login(workers["office"])
    assert client.post(url, {"period": period}).status_code == 302
    assert DataValue.objects.get(element__code="hs_grade_d", period=period).value == 1
