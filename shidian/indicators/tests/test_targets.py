"""Targets: from the plan's parsed indicators, series over time, projections, allocation."""
import json
from datetime import date

import pytest

from shidian.core.errors import ShidianError
from shidian.indicators import selectors, services
from shidian.indicators.models import Indicator, Target, TargetStatus
from shidian.orgs.models import Division
from shidian.plans.testing import make_plan

MONTHS = ["2021M01", "2021M02", "2021M03", "2021M04"]


def enter(world, code, month, rooms, villages=10):
    from shidian.core.periods import parse_period
    services.values_save(user=world.office, data_set=world.data_set,
                         division=Division.objects.get(code=code), period=month,
                         values={"rooms": str(rooms), "villages": str(villages)},
                         today=parse_period(month).end)


def test_plan_indicators_become_drafts_the_office_confirms(world, seed_dir):
    """Seed plan 11 (和林格尔县): its parsed indicators turn into draft targets."""
    gold = json.loads((seed_dir / "11-helinger-psych.gold.json").read_text(encoding="utf-8"))
    plan = make_plan("和林格尔县社会心理服务体系建设试点工作实施方案", "5105")
    plan.parsed = {"indicators": gold["indicators"]}
    plan.save()
    drafts = services.targets_from_plan(user=world.office, plan=plan)
    with_target = [i for i in gold["indicators"] if i["target"] is not None]
    assert len(drafts) == len(with_target)
    first = drafts[0]
    assert first.status == TargetStatus.DRAFT and first.indicator.status == "draft"
    assert first.value == with_target[0]["target"]
    assert first.deadline == date(2021, 12, 31)          # "2021-12" → end of month
    assert first.indicator.factor == 100                  # a percentage
    assert services.targets_from_plan(user=world.office, plan=plan) == []   # idempotent
    services.target_confirm(user=world.office, target=first, numerator="#{rooms}",
                            denominator="#{villages}", factor=100, decimals=1,
                            comparator=">=", value=80, deadline=date(2021, 12, 31), level=3,
                            cumulative=False)
    first.refresh_from_db()
    assert first.status == TargetStatus.CONFIRMED and first.indicator.status == "active"


def test_confirming_with_an_unknown_element_is_refused_and_changes_nothing(world):
    plan = make_plan("方案", "5105")
    plan.parsed = {"indicators": [{"name": "建成率", "comparator": ">=", "target": 80,
                                   "unit": "%", "deadline": "2021-12", "text": "建成率达80%"}]}
    plan.save()
    draft = services.targets_from_plan(user=world.office, plan=plan)[0]
    with pytest.raises(ShidianError):
        services.target_confirm(user=world.office, target=draft, numerator="#{nothing}",
                                denominator="", factor=100, decimals=1, comparator=">=",
                                value=80, deadline=date(2021, 12, 31), level=None,
                                cumulative=False)
    draft.refresh_from_db()
    assert draft.status == TargetStatus.DRAFT
    assert Indicator.objects.get(pk=draft.indicator_id).numerator == ""


def test_a_series_of_targets_over_time(world):
    """50% by the end of 2020 and 80% by the end of 2021 (seed 11 / 12f)."""
    first = services.target_create(user=world.office, indicator=world.rate, value=50,
                                   deadline=date(2020, 12, 31),
                                   division=Division.objects.get(code="5105"), level=3)
    second = services.target_create(user=world.office, indicator=world.rate, value=80,
                                    deadline=date(2021, 12, 31),
                                    division=Division.objects.get(code="5105"), level=3)
    assert selectors.target_series(target=second) == [first, second]


def _target(world, value=80, comparator=">="):
    return services.target_create(user=world.office, indicator=world.rate, value=value,
                                  comparator=comparator, deadline=date(2021, 12, 31),
                                  start=date(2021, 1, 1),
                                  division=Division.objects.get(code="5105"), level=3)


def test_projection_on_track_at_risk_off_track_and_attained(world):
    """泸县 climbs 10 points a month from 30%: 120% projected by December, on track.
    合江县 stays at 20%: off track. Ranking puts 泸县 first."""
    for index, month in enumerate(MONTHS):
        enter(world, "510521100", month, 3 + index)
        enter(world, "510521101", month, 3 + index)
        enter(world, "510522100", month, 2)
    board = selectors.target_board(target=_target(world), today=date(2021, 5, 2))
    rows = {r.code: r for r in board.rows}
    assert rows["510521"].standing == selectors.Standing.ON_TRACK
    assert rows["510521"].current == 60.0
    assert rows["510521"].projected == pytest.approx(140.0)
    assert rows["510522"].standing == selectors.Standing.OFF_TRACK
    assert rows["510521"].rank == 1 and rows["510522"].rank == 2
    assert board.furthest_behind()[0].code == "510522"


def test_a_projection_just_short_is_at_risk_and_a_met_target_is_attained(world):
    for index, month in enumerate(MONTHS):
        enter(world, "510521100", month, 7)          # flat 70%: 10 short of 80 → at risk
        enter(world, "510522100", month, 9)          # 90%: attained already
    board = selectors.target_board(target=_target(world, value=75), today=date(2021, 5, 2))
    rows = {r.code: r for r in board.rows}
    assert rows["510521"].standing == selectors.Standing.AT_RISK
    assert rows["510522"].standing == selectors.Standing.ATTAINED


def test_a_target_missed_at_its_deadline(world):
    enter(world, "510522100", "2021M03", 2)
    target = _target(world)
    board = selectors.target_board(target=target, today=date(2022, 1, 10))
    assert {r.code: r.standing for r in board.rows}["510522"] == selectors.Standing.MISSED


def test_a_cumulative_count_target_adds_months_up(world):
    """5万户 style: households renovated per month add up towards the year's number."""
    done = services.data_element_create(user=world.office, code="done", name="完成改造户数")
    data_set = services.data_set_create(user=world.office, name="改造月报", period_type="M",
                                        elements=[done], division=None, level=3)
    households = services.indicator_create(user=world.office, name="完成改造户数",
                                           numerator="#{done}", decimals=0, unit="户")
    for month in MONTHS:
        from shidian.core.periods import parse_period
        services.values_save(user=world.office, data_set=data_set,
                             division=Division.objects.get(code="510521"), period=month,
                             values={"done": "100"}, today=parse_period(month).end)
    target = services.target_create(user=world.office, indicator=households, value=1000,
                                    deadline=date(2021, 12, 31), start=date(2021, 1, 1),
                                    division=Division.objects.get(code="510521"),
                                    cumulative=True)
    row = selectors.target_board(target=target, today=date(2021, 5, 2)).rows[0]
    assert row.current == 400
    assert row.projected == 1200          # 100 a month for 12 months
    assert row.standing == selectors.Standing.ON_TRACK


def test_a_province_target_is_split_among_cities_by_an_allocation_table(world):
    from shidian.orgs.testing import make_user
    province = make_user("sichuan-office", role="office", division_code="51")
    households = services.indicator_create(user=province, name="改造户数",
                                           numerator="#{rooms}", decimals=0)
    with pytest.raises(ShidianError):                 # a city office cannot set the province's
        services.target_create(user=world.office, indicator=households, value=50000,
                               deadline=date(2021, 12, 31),
                               division=Division.objects.get(code="51"))
    whole = services.target_create(user=province, indicator=households, value=50000,
                                   deadline=date(2021, 12, 31),
                                   division=Division.objects.get(code="51"), cumulative=True)
    shares, warnings = services.target_allocate(user=province, target=whole,
                                                shares={"5105": 30000})
    assert shares[0].parent == whole and shares[0].division_id == "5105"
    assert warnings                                   # 30000 of 50000 allocated
    with pytest.raises(ShidianError):
        services.target_allocate(user=province, target=whole, shares={"510521": 10})
    assert Target.objects.filter(parent=whole).count() == 1
