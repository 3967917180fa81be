"""Creating a programme from a pack: everything the pack gives, in one go, and only once."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from shidian.catalogue import services
from shidian.catalogue.models import PackInstall
from shidian.catalogue.packs import packs_available
from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Role
from shidian.orgs.testing import make_user

pytestmark = pytest.mark.django_db

LUXIAN = "510521"


def _office():
    return make_user("county-office", role=Role.OFFICE, division_code=LUXIAN)


def _create(user, pack, **kwargs):
    args = {"name": f"泸县{pack}试点", "division_code": LUXIAN, "year": 2027,
            "token": uuid.uuid4().hex}
    args.update(kwargs)
    return services.programme_create_from_pack(user=user, pack_key=pack, **args)


@pytest.mark.parametrize("pack", sorted(packs_available()))
def test_every_pack_creates_a_programme_with_its_plan_and_sections(pack):
    """Each pack on disk gives a programme whose starting plan is a draft parsed from the
    pack's text, with the pack's case programmes, indicators, cycles, rule and lists."""
    from shidian.cases.models import CaseProgramme
    from shidian.indicators.models import Indicator, Target
    from shidian.plans.models import PlanStatus

    spec = packs_available()[pack]
    from shidian.plans.models import Plan

    install = _create(_office(), pack)
    plan = Plan.objects.get(pk=install.plan_id)
    assert plan.status == PlanStatus.DRAFT and plan.division_id == LUXIAN
    assert plan.tasks.exists() or plan.phases.exists()
    assert plan.source_name == spec.plans[0].path.name
    assert CaseProgramme.objects.filter(
        name__startswith=install.programme.name).count() == len(spec.case_types)
    start = spec.plans[0].key
    wanted = {i.name for i in spec.indicators if not i.plans or start in i.plans}
    assert wanted <= set(Indicator.objects.filter(plan=plan).values_list("name", flat=True))
    points = sum(len(m.series) for m in spec.milestones if not m.plans or start in m.plans)
    targets = sum(len(i.targets) for i in spec.indicators if not i.plans or start in i.plans)
    assert Target.objects.filter(plan=plan).count() == points + targets
    cycles = [c for c in spec.reporting if not c.plans or start in c.plans]
    assert install.cycles.count() == len(cycles)
    if cycles:
        assert plan.cycle.kind == install.cycles.get(is_plan_cycle=True).kind
    if spec.oversight:
        assert (plan.oversight_rule.min_onsite_inspections
                == spec.oversight.min_onsite_inspections)
    lists = [x for x in spec.lists if not x.plans or start in x.plans]
    assert install.lists.count() == len(lists)


def test_a_second_submit_of_the_same_form_returns_the_first_programme():
    user = _office()
    token = uuid.uuid4().hex
    first = _create(user, "housing", token=token)
    again = _create(user, "housing", token=token)
    assert again.pk == first.pk
    assert PackInstall.objects.count() == 1


def test_nothing_is_saved_when_a_piece_fails():
    """The case programme's name is taken: the whole programme is refused, plan included."""
    from shidian.plans.models import Plan, Programme

    user = _office()
    _create(user, "housing", name="泸县危改")
    with pytest.raises(ShidianError) as err:
        _create(user, "housing", name="泸县危改")
    assert err.value.code == ErrorCode.DUPLICATE
    assert Programme.objects.count() == 1 and Plan.objects.count() == 1


def test_dates_move_to_the_programme_year():
    """Shandong's plan is for 2016: a 2027 programme has its targets eleven years later."""
    from shidian.indicators.models import Target

    install = _create(_office(), "housing", year=2027)
    deadlines = sorted(Target.objects.filter(plan=install.plan).values_list("deadline",
                                                                            flat=True))
    assert deadlines == [dt.date(2027, 12, 31), dt.date(2028, 6, 30)]
