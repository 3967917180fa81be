"""Fixtures of the psych pack's tests."""
import datetime as dt

import pytest

from shidian.cases import needtoknow
from shidian.cases import services as case_services
from shidian.packs.psych.testing import make_world, patient_values

REGISTERED = dt.date(2020, 6, 3)


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def patient(world):
    """A patient registered by the grid worker on 3 June 2020, the doctor on the team."""
    case = case_services.case_create(user=world.grid, programme=world.patients,
                                     today=REGISTERED,
                                     values=patient_values(registered_on="2020-06-03"))
    needtoknow.member_add(user=world.grid, case=case, member=world.doctor,
                          duty="psych_doctor", initial=True)
    return case
