"""A county plan takes up the tasks of its city's plan; coverage shows what nobody takes up."""
import pytest

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Role
from shidian.orgs.testing import make_agency, make_user
from shidian.plans import services
from shidian.plans.selectors import mapping_suggestions, plan_coverage, plan_parent_choices
from shidian.plans.testing import make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans():
    health = make_agency("泸县卫生健康局", "510521")
    city = make_plan("泸州市安宁疗护试点实施方案", "5105", tasks=[
        {"title": "加强安宁疗护宣传教育"}, {"title": "建立安宁疗护工作机制"},
        {"title": "加强安宁疗护队伍建设"}])
    luxian = make_plan("泸县安宁疗护试点实施方案", "510521", published=False, tasks=[
        {"title": "加强宣传教育", "leads": (health,)}, {"title": "建立工作机制"},
        {"title": "开展基线调查"}])
    hejiang = make_plan("合江县安宁疗护试点实施方案", "510522", published=False, tasks=[
        {"title": "加强队伍建设"}])
    return city, luxian, hejiang


@pytest.fixture
def city_office():
    return make_user("lz-office", role=Role.OFFICE, division_code="5105")


def test_only_a_plan_of_the_same_or_a_higher_division_can_be_the_parent(plans, city_office):
    city, luxian, hejiang = plans
    assert list(plan_parent_choices(user=city_office, plan=luxian)) == [city]
    for parent in (hejiang, luxian):
        with pytest.raises(ShidianError) as err:
            services.plan_link_parent(user=city_office, plan=luxian, parent=parent)
        assert err.value.code == ErrorCode.INVALID
    with pytest.raises(ShidianError):
        services.plan_link_parent(user=city_office, plan=city, parent=luxian)
    luxian.refresh_from_db()
    assert luxian.parent is None


def test_plans_of_one_division_link_without_loops(city_office):
    """A pilot hospital's plan sits under its county's plan, both of 泸县; the county plan
    cannot then be put under the hospital's."""
    county = make_plan("泸县安宁疗护试点实施方案", "510521")
    hospital = make_plan("泸县人民医院安宁疗护试点工作方案", "510521")
    services.plan_link_parent(user=city_office, plan=hospital, parent=county)
    assert county not in plan_parent_choices(user=city_office, plan=county)
    assert list(plan_parent_choices(user=city_office, plan=county)) == []
    with pytest.raises(ShidianError):
        services.plan_link_parent(user=city_office, plan=county, parent=hospital)
    county.refresh_from_db()
    assert county.parent is None


def test_mapping_suggestions_follow_the_titles_and_coverage_lists_what_is_not_taken_up(
        plans, city_office):
    city, luxian, hejiang = plans
    services.plan_link_parent(user=city_office, plan=luxian, parent=city)
    services.plan_link_parent(user=city_office, plan=hejiang, parent=city)
    suggested = {task.title: parent.title for task, (parent, _score) in (
        (luxian.tasks.get(pk=pk), pair) for pk, pair in mapping_suggestions(plan=luxian).items())}
    assert suggested["加强宣传教育"] == "加强安宁疗护宣传教育"
    assert suggested["建立工作机制"] == "建立安宁疗护工作机制"
    publicity = luxian.tasks.get(title="加强宣传教育")
    changed = services.plan_tasks_map(user=city_office, plan=luxian, mapping={
        publicity.pk: city.tasks.get(title="加强安宁疗护宣传教育").pk})
    assert changed == 1
    children, rows = plan_coverage(user=city_office, plan=city)
    assert set(children) == {luxian, hejiang}
    uncovered = [r.task.title for r in rows if not r.taken_up_by]
    assert uncovered == ["建立安宁疗护工作机制", "加强安宁疗护队伍建设"]
    taken = {r.task.title: [t.title for t in r.taken_up_by] for r in rows}
    assert taken["加强安宁疗护宣传教育"] == ["加强宣传教育"]


def test_mapping_to_a_task_outside_the_parent_plan_is_refused_whole(plans, city_office):
    city, luxian, hejiang = plans
    services.plan_link_parent(user=city_office, plan=luxian, parent=city)
    good = luxian.tasks.get(title="加强宣传教育")
    bad = luxian.tasks.get(title="建立工作机制")
    with pytest.raises(ShidianError):
        services.plan_tasks_map(user=city_office, plan=luxian, mapping={
            good.pk: city.tasks.first().pk, bad.pk: hejiang.tasks.first().pk})
    assert not luxian.tasks.filter(parent_task__isnull=False).exists()


def test_a_new_parent_drops_mappings_to_the_old_one(plans, city_office):
    city, luxian, _ = plans
    services.plan_link_parent(user=city_office, plan=luxian, parent=city)
    task = luxian.tasks.first()
    services.plan_tasks_map(user=city_office, plan=luxian,
                            mapping={task.pk: city.tasks.first().pk})
    services.plan_link_parent(user=city_office, plan=luxian, parent=None)
    task.refresh_from_db()
    assert task.parent_task is None


def test_a_county_office_sees_coverage_of_its_own_plans_only(plans, city_office):
    city, luxian, hejiang = plans
    services.plan_link_parent(user=city_office, plan=luxian, parent=city)
    services.plan_link_parent(user=city_office, plan=hejiang, parent=city)
    county = make_user("lx-office", role=Role.OFFICE, division_code="510521")
    children, _rows = plan_coverage(user=county, plan=city)
    assert children == [luxian]
