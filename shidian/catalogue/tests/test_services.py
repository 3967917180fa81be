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


def test_zhuhai_programme_gets_the_four_dated_fund_milestones():
    """Seed 15c: 20/50/75/100% of the land-loss pension funds by 2015-09, 2015-12, 2016-03,
    2016-06 (a programme for 2015 keeps the plan's own dates)."""
    from shidian.indicators.models import Target

    install = _create(_office(), "governance", start_plan="zhuhai", year=2015)
    series = list(Target.objects.filter(plan=install.plan, indicator__name__contains="资金分配")
                  .order_by("deadline").values_list("value", "deadline"))
    assert series == [(20, dt.date(2015, 9, 30)), (50, dt.date(2015, 12, 31)),
                      (75, dt.date(2016, 3, 31)), (100, dt.date(2016, 6, 30))]
    assert not install.cycles.exists() and not install.lists.exists()  # Huxi's, not Zhuhai's


def test_huxi_programme_reports_monthly_by_its_8x_list_and_weekly():
    from shidian.plans.models import Plan

    install = _create(_office(), "governance", start_plan="huxi")
    cycles = {c.key: (c.kind, c.is_plan_cycle, c.list_key) for c in install.cycles.all()}
    assert cycles == {"monthly_8x": ("monthly", True, "eight_plus_x"),
                      "weekly": ("weekly", False, "")}
    assert Plan.objects.get(pk=install.plan_id).cycle.kind == "monthly"
    assert install.lists.get().key == "eight_plus_x"


def test_youth_league_requires_two_inspections_per_site_and_quarterly_reports():
    from shidian.plans.models import Plan

    install = _create(_office(), "youthleague", year=2009)
    plan = Plan.objects.get(pk=install.plan_id)
    assert plan.oversight_rule.min_onsite_inspections == 2
    assert plan.cycle.kind == "quarterly"
    assert [i.owner for i in install.lists.get().items.all()] == [
        "各省级团委", "试点单位所在市级或县级团委", "团中央"]


def test_medical_community_targets_90_percent_and_baseline_shares_await_review():
    """县域就诊率 >= 90% is confirmed; +5 points needs the 2018 baseline, which no one has
    entered yet, so those targets wait for the office's review."""
    from shidian.indicators.models import Target, TargetStatus

    install = _create(_office(), "medcommunity", year=2019)
    rows = {(t.indicator.name, t.value, t.status) for t in
            Target.objects.filter(plan=install.plan).select_related("indicator")}
    assert rows == {("县域就诊率", 90, TargetStatus.CONFIRMED),
                    ("基层门急诊人次占比", 5, TargetStatus.DRAFT),
                    ("基层住院人次占比", 5, TargetStatus.DRAFT)}
    assert install.lists.count() == 3


def test_outsiders_and_liaisons_cannot_create_programmes():
    from shidian.plans.models import Programme

    liaison = make_user("liaison", role=Role.LIAISON, division_code=LUXIAN)
    with pytest.raises(ShidianError) as err:
        _create(liaison, "housing")
    assert err.value.code == ErrorCode.FORBIDDEN
    wuhan = make_user("wuhan-office", role=Role.OFFICE, division_code="4201")
    with pytest.raises(ShidianError) as err:
        _create(wuhan, "housing")  # 泸县 is not in 武汉市
    assert err.value.code == ErrorCode.NOT_FOUND
    assert not Programme.objects.exists()


def test_the_install_is_in_the_audit_trail_under_the_user():
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    user = _office()
    install = _create(user, "youthleague", year=2009)
    for model, pk in ((PackInstall, install.pk), (type(install.programme), install.programme_id)):
        actors = set(LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_pk=str(pk)).values_list("actor_id", flat=True))
        assert actors == {user.pk}


@pytest.mark.django_db(transaction=True)
def test_two_submits_of_one_form_at_the_same_moment_make_one_programme():
    """Threads on PostgreSQL: the token's unique constraint keeps the first install; the
    second request rolls its own work back and answers with the first programme."""
    import threading

    from django.db import connection, connections

    from shidian.plans.models import Plan, Programme

    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database cannot hold two writers")
    user = _office()
    token = uuid.uuid4().hex
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        try:
            results.append(_create(user, "youthleague", year=2009, token=token).pk)
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(results)) == 1 and len(results) == 2
    assert Programme.objects.count() == 1 and Plan.objects.count() == 1
