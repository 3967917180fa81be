"""Who sees which plans and tasks: the division subtree for offices, own agencies for units."""
import pytest

from shidian.core.errors import ErrorCode, ShidianError
from shidian.orgs.models import Role
from shidian.orgs.testing import make_agency, make_user
from shidian.plans.access import (
    access_plan_by_id, access_task_by_id, plans_visible_to, programmes_visible_to,
    tasks_visible_to,
)
from shidian.plans.testing import make_plan, make_programme

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    health = make_agency("泸县卫生健康局", "510521")
    civil = make_agency("泸县民政局", "510521")
    hejiang = make_agency("合江县卫生健康局", "510522")
    luxian = make_plan("泸县安宁疗护试点实施方案", "510521", tasks=[
        {"title": "加强宣传教育", "leads": (health,), "units": (civil,)},
        {"title": "开展基线调查", "leads": (health,)},
    ])
    hejiang_plan = make_plan("合江县安宁疗护试点实施方案", "510522", tasks=[
        {"title": "建立工作机制", "leads": (hejiang,)},
    ])
    city = make_plan("泸州市安宁疗护试点实施方案", "5105", tasks=[{"title": "统筹推进"}])
    draft = make_plan("泸县草稿方案", "510521", published=False, tasks=[
        {"title": "草稿任务", "leads": (health,)},
    ])
    return {"health": health, "civil": civil, "hejiang": hejiang, "luxian": luxian,
            "hejiang_plan": hejiang_plan, "city": city, "draft": draft}


def titles(qs):
    return sorted(qs.values_list("title", flat=True))


def test_county_office_sees_only_its_county_plans_drafts_included(world):
    office = make_user("lx-office", role=Role.OFFICE, division_code="510521")
    assert titles(plans_visible_to(user=office)) == ["泸县安宁疗护试点实施方案", "泸县草稿方案"]


def test_county_office_cannot_open_another_countys_plan_or_task_by_id(world):
    office = make_user("lx-office", role=Role.OFFICE, division_code="510521")
    other_task = world["hejiang_plan"].tasks.get()
    for call in (lambda: access_plan_by_id(user=office, plan_id=world["hejiang_plan"].pk),
                 lambda: access_task_by_id(user=office, task_id=other_task.pk),
                 lambda: access_plan_by_id(user=office, plan_id=world["city"].pk)):
        with pytest.raises(ShidianError) as err:
            call()
        assert err.value.code == ErrorCode.NOT_FOUND


def test_missing_and_forbidden_plans_answer_alike(world):
    office = make_user("lx-office", role=Role.OFFICE, division_code="510521")
    answers = []
    for plan_id in (world["hejiang_plan"].pk, 999999, "abc"):
        with pytest.raises(ShidianError) as err:
            access_plan_by_id(user=office, plan_id=plan_id)
        answers.append((err.value.code, err.value.message))
    assert len(set(answers)) == 1


def test_city_office_sees_every_county_below_it(world):
    office = make_user("lz-office", role=Role.OFFICE, division_code="5105")
    assert len(plans_visible_to(user=office)) == 4
    assert tasks_visible_to(user=office).count() == 5


def test_leader_reads_but_cannot_write(world):
    leader = make_user("lz-leader", role=Role.LEADER, division_code="5105")
    assert access_plan_by_id(user=leader, plan_id=world["luxian"].pk) == world["luxian"]
    with pytest.raises(ShidianError) as err:
        access_plan_by_id(user=leader, plan_id=world["luxian"].pk, for_write=True)
    assert err.value.code == ErrorCode.NOT_FOUND


def test_liaison_sees_published_tasks_of_own_agency_only(world):
    liaison = make_user("lx-civil", agencies=(world["civil"],))
    assert titles(tasks_visible_to(user=liaison)) == ["加强宣传教育"]
    assert titles(plans_visible_to(user=liaison)) == ["泸县安宁疗护试点实施方案"]
    lead = make_user("lx-health", agencies=(world["health"],))
    # the draft plan's task is not visible before it is published
    assert titles(tasks_visible_to(user=lead)) == ["加强宣传教育", "开展基线调查"]


def test_liaison_cannot_open_other_agency_task_nor_write(world):
    liaison = make_user("lx-civil", agencies=(world["civil"],))
    baseline = world["luxian"].tasks.get(title="开展基线调查")
    with pytest.raises(ShidianError):
        access_task_by_id(user=liaison, task_id=baseline.pk)
    with pytest.raises(ShidianError):
        access_plan_by_id(user=liaison, plan_id=world["luxian"].pk, for_write=True)
    own = world["luxian"].tasks.get(title="加强宣传教育")
    assert access_task_by_id(user=liaison, task_id=own.pk) == own


def test_unpublished_task_added_to_a_published_plan_stays_hidden_from_units(world):
    liaison = make_user("lx-health", agencies=(world["health"],))
    plan = world["luxian"]
    plan.tasks.create(title="新增任务", order=9).units.create(
        role="lead", name="泸县卫生健康局", agency=world["health"])
    assert "新增任务" not in titles(tasks_visible_to(user=liaison))


def test_roles_without_plan_access_see_nothing(world):
    worker = make_user("worker", role=Role.CASE_WORKER, division_code="510521",
                       agencies=(world["health"],))
    inactive = make_user("gone", role=Role.OFFICE, division_code="510521")
    inactive.is_active = False
    assert not plans_visible_to(user=worker).exists()
    assert not tasks_visible_to(user=worker).exists()
    assert not plans_visible_to(user=inactive).exists()


def test_programmes_of_higher_divisions_are_visible_to_a_county_office(world):
    make_programme("湖北试点", "42")
    office = make_user("lx-office", role=Role.OFFICE, division_code="510521")
    names = set(programmes_visible_to(user=office).values_list("name", flat=True))
    assert "安宁疗护试点" in names and "湖北试点" not in names


def test_superuser_sees_everything(world):
    root = make_user("root", role=Role.ADMIN, division_code="510521", superuser=True)
    assert plans_visible_to(user=root).count() == 4
    assert programmes_visible_to(user=root).count() == 1
