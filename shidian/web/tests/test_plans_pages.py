"""The plans pages as an office, a leader, a liaison and an office of another county use them."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shidian.orgs.models import Agency, AgencyKind, Division, Role
from shidian.orgs.testing import make_agency, make_divisions, make_user
from shidian.plans import services
from shidian.plans.models import Plan, PlanStatus, PlanVersion, Task, TaskUnit, UnitRole

pytestmark = pytest.mark.django_db
SEED_DIR = Path(__file__).resolve().parents[2] / "demo" / "seed_plans"
WUHAN = "4201"


def gold(name):
    return json.loads((SEED_DIR / f"{name}.gold.json").read_text(encoding="utf-8"))


def seed_text(name):
    return (SEED_DIR / f"{name}.txt").read_text(encoding="utf-8")


@pytest.fixture(autouse=True, scope="module")
def _catalogs():
    from shidian.plans.testing import fresh_catalogs

    fresh_catalogs()


@pytest.fixture
def agencies(db):
    make_divisions()
    return {
        "health": make_agency("武汉市卫生健康委员会", WUHAN),
        "politics": make_agency("中共武汉市委政法委员会", WUHAN, kind=AgencyKind.PARTY),
        "education": make_agency("武汉市教育局", WUHAN),
        "civil": make_agency("武汉市民政局", WUHAN),
        "police": make_agency("武汉市公安局", WUHAN),
    }


@pytest.fixture
def office(db):
    return make_user("wh-office", role=Role.OFFICE, division_code=WUHAN)


@pytest.fixture
def plan(office, agencies):
    programme = services.programme_create(user=office, name="社会心理服务体系建设试点",
                                          division=Division.objects.get(code=WUHAN))
    return services.plan_create_from_parsed(
        user=office, programme=programme, division=Division.objects.get(code=WUHAN),
        parsed=gold("12f-wuhan-psych"), source_text=seed_text("12f-wuhan-psych"),
        source_name="12f-wuhan-psych.txt")


def login(client, user):
    client.force_login(user)
    return client


def test_review_page_shows_tasks_source_units_and_findings(client, office, plan):
    page = login(client, office).get(reverse("plans:review", args=[plan.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "组建四级社会心理服务平台" in html
    assert 'id="source-text"' in html and "web/plans.js" in html
    # an unmatched unit is flagged, with the agency suggestions
    assert "各区人民政府" in html and "data-testid=\"unresolved-entry\"" in html
    assert "发布第1版" in html
    assert "<script>" not in html.replace('<script src=', '')


def test_inline_edit_saves_title_deadline_and_units(client, office, plan, agencies):
    task = plan.tasks.get(path="(一)/2")
    login(client, office)
    edit = client.get(reverse("plans:task-row", args=[task.pk]) + "?edit=1")
    assert 'name="leads"' in edit.content.decode()
    response = client.post(reverse("plans:task-edit", args=[task.pk]), {
        "path": "(一)/2", "title": "完善教育系统心理服务平台建设", "leads": "市教育局",
        "units": "市卫生健康委、市公安局", "deadline": "2021-12-31", "deadline_text": "2021年底前",
        "recurrence": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "完善教育系统心理服务平台建设" in response.content.decode()
    task.refresh_from_db()
    assert str(task.deadline) == "2021-12-31"
    units = {(u.role, u.name): u.agency for u in task.units.all()}
    assert units[(UnitRole.RESPONSIBLE, "市公安局")] == agencies["police"]
    assert (UnitRole.RESPONSIBLE, "各区人民政府") not in units


def test_inline_edit_with_a_bad_value_shows_the_error_and_changes_nothing(client, office, plan):
    task = plan.tasks.get(path="(一)/2")
    login(client, office)
    response = client.post(reverse("plans:task-edit", args=[task.pk]), {
        "path": "(一)/2", "title": "", "leads": "市教育局", "units": "市教育局",
        "deadline": "", "deadline_text": "", "recurrence": ""})
    html = response.content.decode()
    assert 'data-testid="row-error"' in html
    assert Task.objects.get(pk=task.pk).title == "完善教育系统心理服务平台"
    response = client.post(reverse("plans:task-edit", args=[task.pk]), {
        "path": "(一)/2", "title": "x", "leads": "", "units": "", "deadline": "2021-02-30",
        "deadline_text": "", "recurrence": ""})
    assert 'data-testid="row-error"' in response.content.decode()
    assert Task.objects.get(pk=task.pk).title == "完善教育系统心理服务平台"


def test_resolving_a_unit_and_creating_an_agency_in_place(client, office, plan):
    login(client, office)
    unit = TaskUnit.objects.filter(task__plan=plan, name="团市委").first()
    league = Agency.objects.create(name="共青团武汉市委员会", division_id=WUHAN)
    client.post(reverse("plans:unit-resolve", args=[unit.pk]), {"agency": league.pk,
                                                                 "same_name": "1"})
    assert not TaskUnit.objects.filter(task__plan=plan, name="团市委", agency=None).exists()
    women = TaskUnit.objects.filter(task__plan=plan, name="市妇联").first()
    response = client.post(reverse("plans:unit-create-agency", args=[women.pk]), {
        "name": "武汉市妇女联合会", "kind": "mass_org", "division": WUHAN}, follow=True)
    assert "武汉市妇女联合会" in response.content.decode()
    assert TaskUnit.objects.get(pk=women.pk).agency.name == "武汉市妇女联合会"


def test_candidate_search_answers_with_agencies(client, office, plan):
    login(client, office)
    unit = TaskUnit.objects.filter(task__plan=plan, name="团市委").first()
    response = client.get(reverse("plans:unit-candidates", args=[plan.pk]),
                          {"unit": unit.pk, "q": "卫健委"})
    assert "武汉市卫生健康委员会" in response.content.decode()


def test_publish_then_double_click_then_edit_shows_versions_and_diff(client, office, plan):
    login(client, office)
    url = reverse("plans:publish", args=[plan.pk])
    first = client.post(url, {"accept_unresolved": "1"}, follow=True)
    assert "第1版已发布" in first.content.decode()
    second = client.post(url, {"accept_unresolved": "1"}, follow=True)
    assert "已经发布" in second.content.decode()
    assert PlanVersion.objects.filter(plan=plan).count() == 1
    task = plan.tasks.get(path="(一)/1")
    client.post(reverse("plans:task-edit", args=[task.pk]), {
        "path": "(一)/1", "title": "组建市区街社区四级社会心理服务平台", "leads": "市委政法委、市卫生健康委",
        "units": "市教育局", "deadline": "", "deadline_text": "", "recurrence": ""})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and plan.version == 1
    page = client.get(reverse("plans:versions", args=[plan.pk]))
    html = page.content.decode()
    assert "组建市区街社区四级社会心理服务平台" in html and "组建四级社会心理服务平台" in html
    version = client.get(reverse("plans:version", args=[plan.pk, 1])).content.decode()
    assert "组建四级社会心理服务平台" in version
    assert "组建市区街社区四级社会心理服务平台" not in version


def test_publish_with_unmatched_lead_units_needs_confirmation(client, office, plan):
    task = plan.tasks.get(path="(一)/2")
    services.task_units_set(user=office, task=task, role=UnitRole.LEAD, names=["市委网信办"])
    login(client, office)
    response = client.post(reverse("plans:publish", args=[plan.pk]), follow=True)
    assert "市委网信办" in response.content.decode()
    assert not PlanVersion.objects.exists()


def test_posting_to_a_published_version_is_refused_and_changes_nothing(client, office, plan):
    login(client, office)
    client.post(reverse("plans:publish", args=[plan.pk]), {"accept_unresolved": "1"})
    version = PlanVersion.objects.get(plan=plan)
    frozen = version.snapshot
    response = client.post(reverse("plans:version", args=[plan.pk, 1]),
                           {"title": "篡改", "tasks": "[]"})
    assert response.status_code == 409
    assert "不能修改" in response.content.decode()
    version.refresh_from_db()
    assert version.snapshot == frozen


def test_import_page_refuses_bad_files_with_a_message(client, office, plan):
    login(client, office)
    before = Plan.objects.count()
    for upload in (SimpleUploadedFile("plan.exe", b"MZ..."),
                   SimpleUploadedFile("plan.pdf", b"not a pdf"),
                   SimpleUploadedFile("plan.txt", "没有任务的文字。".encode())):
        response = client.post(reverse("plans:import"), {
            "programme": plan.programme_id, "division": WUHAN, "file": upload})
        assert response.status_code == 400
        assert 'class="alert alert-danger"' in response.content.decode()
    assert Plan.objects.count() == before


def test_import_page_refuses_an_oversized_file(client, office, plan, settings):
    settings.SHIDIAN_PLAN_FILE_MAX_BYTES = 2048
    login(client, office)
    response = client.post(reverse("plans:import"), {
        "programme": plan.programme_id, "division": WUHAN,
        "file": SimpleUploadedFile("plan.txt", "一、任务\n".encode() * 1000)})
    assert response.status_code == 400
    assert "MB" in response.content.decode()
    assert Plan.objects.count() == 1


def test_county_office_cannot_reach_another_countys_plan_by_editing_ids(client, plan):
    make_divisions()
    county = make_user("hj-office", role=Role.OFFICE, division_code="510522")
    login(client, county)
    task = plan.tasks.first()
    unit = TaskUnit.objects.filter(task__plan=plan).first()
    gets = [reverse("plans:review", args=[plan.pk]), reverse("plans:versions", args=[plan.pk]),
            reverse("plans:cascade", args=[plan.pk]), reverse("plans:coverage", args=[plan.pk]),
            reverse("plans:task", args=[task.pk]), reverse("plans:task-row", args=[task.pk])]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [(reverse("plans:task-edit", args=[task.pk]), {"title": "改"}),
             (reverse("plans:publish", args=[plan.pk]), {"accept_unresolved": "1"}),
             (reverse("plans:task-delete", args=[task.pk]), {}),
             (reverse("plans:unit-resolve", args=[unit.pk]), {"agency": 1})]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert Task.objects.get(pk=task.pk).title == task.title
    assert not PlanVersion.objects.exists()
    listing = client.get(reverse("plans:list")).content.decode()
    assert plan.title not in listing


def test_leader_reads_without_edit_controls_and_cannot_post(client, plan):
    leader = make_user("wh-leader", role=Role.LEADER, division_code=WUHAN)
    login(client, leader)
    html = client.get(reverse("plans:review", args=[plan.pk])).content.decode()
    assert "组建四级社会心理服务平台" in html and 'data-testid="edit-task"' not in html
    task = plan.tasks.first()
    assert client.post(reverse("plans:task-edit", args=[task.pk]),
                       {"title": "改"}).status_code == 403
    assert client.get(reverse("plans:import")).status_code == 403


def test_liaison_sees_a_summary_with_only_the_units_tasks(client, office, plan, agencies):
    services.plan_publish(user=office, plan=plan, accept_unresolved=True)
    liaison = make_user("wh-police", agencies=(agencies["police"],))
    login(client, liaison)
    html = client.get(reverse("plans:review", args=[plan.pk])).content.decode()
    own = set(Task.objects.filter(plan=plan, units__agency=agencies["police"])
              .values_list("title", flat=True))
    assert own and all(title in html for title in own)
    assert "完善教育系统心理服务平台" not in html  # 市公安局 takes no part in it
    assert 'id="source-text"' not in html
    other = plan.tasks.exclude(units__agency=agencies["police"]).first()
    assert client.get(reverse("plans:task", args=[other.pk])).status_code == 404
    assert client.get(reverse("plans:versions", args=[plan.pk])).status_code == 404


def test_task_page_shows_the_audit_history_with_who_when_where(client, office, plan):
    login(client, office)
    task = plan.tasks.get(path="(一)/2")
    client.post(reverse("plans:task-edit", args=[task.pk]), {
        "path": "(一)/2", "title": "完善教育系统心理服务平台", "leads": "市教育局",
        "units": "市卫生健康委", "deadline": "2021-06-30", "deadline_text": "",
        "recurrence": ""}, REMOTE_ADDR="10.1.2.3")
    html = client.get(reverse("plans:task", args=[task.pk])).content.decode()
    assert "10.1.2.3" in html and "wh-office" in html
    assert "2021-06-30" in html
    # the removed responsible unit shows in the history too
    assert "各区人民政府" in html


def test_programme_page_lists_and_creates(client, office, plan):
    login(client, office)
    html = client.get(reverse("plans:programmes")).content.decode()
    assert "社会心理服务体系建设试点" in html
    client.post(reverse("plans:programmes"), {"name": "安宁疗护试点", "division": WUHAN})
    assert "安宁疗护试点" in client.get(reverse("plans:programmes")).content.decode()


def test_cascade_page_links_maps_and_coverage_page_shows_what_is_not_taken_up(client, office,
                                                                               plan):
    from shidian.plans.testing import make_plan

    make_divisions()
    city_task_titles = list(plan.tasks.order_by("order").values_list("title", flat=True))
    district = make_plan("江岸区社会心理服务体系建设试点工作方案", "420102", published=False, tasks=[
        {"title": city_task_titles[1]}, {"title": "开展江岸区心理健康宣传"}])
    login(client, office)
    page = client.get(reverse("plans:cascade", args=[district.pk])).content.decode()
    assert plan.title in page
    client.post(reverse("plans:cascade", args=[district.pk]), {"action": "link",
                                                              "parent": plan.pk})
    district.refresh_from_db()
    assert district.parent == plan
    page = client.get(reverse("plans:cascade", args=[district.pk])).content.decode()
    first = district.tasks.get(title=city_task_titles[1])
    target = plan.tasks.get(title=city_task_titles[1])
    # the same title is suggested (preselected)
    assert re.search(rf'name="task-{first.pk}".*?<option value="{target.pk}" selected',
                     page, re.S)
    client.post(reverse("plans:cascade", args=[district.pk]), {
        "action": "map", f"task-{first.pk}": target.pk,
        f"task-{district.tasks.exclude(pk=first.pk).get().pk}": ""})
    first.refresh_from_db()
    assert first.parent_task == target
    coverage = client.get(reverse("plans:coverage", args=[plan.pk])).content.decode()
    assert coverage.count('data-testid="uncovered"') == plan.tasks.count() - 1
    assert "江岸区" in coverage


@pytest.mark.browser
def test_browser_office_imports_a_seed_plan_fixes_a_unit_and_publishes(page, live_server,
                                                                       transactional_db):
    """泸县's office imports seed 05 (泸县安宁疗护), sees a task's paragraph in the source, matches
    the unit 卫生健康部门 to 泸县卫生健康局 by searching, edits a deadline and publishes."""
    from shidian.orgs.testing import PASSWORD

    make_divisions()
    for name in ("泸县卫生健康局", "泸县民政局", "泸县医疗保障局", "泸县人力资源和社会保障局"):
        make_agency(name, "510521")
    make_agency("中共泸县县委宣传部", "510521", kind=AgencyKind.PARTY)
    office = make_user("lx-office", role=Role.OFFICE, division_code="510521")
    city = make_user("lz-office", role=Role.OFFICE, division_code="5105")
    programme = services.programme_create(user=city, name="安宁疗护试点",
                                          division=Division.objects.get(code="5105"))
    shots = page.artifacts

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", office.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")

    page.click("[data-testid=nav-plan-import]")
    page.select_option("#id_programme", str(programme.pk))
    page.select_option("#id_division", "510521")
    page.set_input_files("#id_file", str(SEED_DIR / "05-luxian-hospice.txt"))
    page.screenshot(path=str(shots / "1-import.png"), full_page=True)
    page.click("[data-testid=import-form] button[type=submit]")
    page.wait_for_selector("[data-testid=task-table]")
    assert "已从 05-luxian-hospice.txt 导入" in page.inner_text("main")
    plan = Plan.objects.get()
    assert page.locator("[data-testid=task-row]").count() == plan.tasks.count() > 5

    # clicking a task highlights its paragraph in the source text
    page.click("[data-testid=task-row] >> text=开展基线调查")
    highlight = page.locator("[data-testid=source-highlight]")
    assert highlight.inner_text().startswith("开展基线调查") or \
        "开展基线调查" in highlight.inner_text()
    page.screenshot(path=str(shots / "2-review-highlight.png"), full_page=True)

    # match 卫生健康部门 (written loosely in the plan) to 泸县卫生健康局 through the search box
    entry = page.locator("[data-testid=unresolved-entry]", has_text="卫生健康部门")
    entry.locator("input[type=search]").fill("县卫生健康局")
    entry.locator("[data-testid=candidate]", has_text="泸县卫生健康局").first.click()
    page.wait_for_selector("[data-testid=task-table]")
    assert "已匹配为泸县卫生健康局" in page.inner_text("main")
    assert page.locator("[data-testid=unresolved-entry]", has_text="卫生健康部门").count() == 0
    unit = TaskUnit.objects.get(task__plan=plan, name="卫生健康部门")
    assert unit.agency.name == "泸县卫生健康局"
    page.screenshot(path=str(shots / "3-unit-matched.png"), full_page=True)

    # inline edit of a deadline (HTMX)
    row = page.locator("[data-testid=task-row]", has_text="开展基线调查")
    row.locator("[data-testid=edit-task]").click()
    edit = page.locator("[data-testid=task-edit-row]")
    edit.locator("input[name=deadline]").fill("2021-09-30")
    edit.locator("[data-testid=save-task]").click()
    page.wait_for_selector("[data-testid=task-row] >> text=2021年9月30日")
    assert str(plan.tasks.get(title="开展基线调查").deadline) == "2021-09-30"

    # publish (confirming any lead unit still unmatched), then the status says version 1
    confirm = page.locator("input[name=accept_unresolved]")
    if confirm.count():
        confirm.check()
    page.click("[data-testid=publish]")
    page.wait_for_selector("[data-testid=plan-status]")
    assert "已发布 · 第1版" in page.inner_text("[data-testid=plan-status]")
    assert PlanVersion.objects.filter(plan=plan, number=1).exists()
    page.screenshot(path=str(shots / "4-published.png"), full_page=True)

    # an edit after publishing starts version 2 as a draft; the versions page shows the change
    row = page.locator("[data-testid=task-row]", has_text="开展基线调查")
    row.locator("[data-testid=edit-task]").click()
    page.locator("[data-testid=task-edit-row] input[name=title]").fill("开展安宁疗护基线调查")
    page.locator("[data-testid=save-task]").click()
    page.wait_for_selector("[data-testid=task-row] >> text=开展安宁疗护基线调查")
    page.click("[data-testid=tab-versions]")
    page.wait_for_selector("[data-testid=diff-changed]")
    changed = page.inner_text("[data-testid=diff-changed]")
    assert "开展基线调查" in changed and "开展安宁疗护基线调查" in changed
    assert "第2版草稿" in page.inner_text("[data-testid=plan-status]")
    page.screenshot(path=str(shots / "5-versions-diff.png"), full_page=True)
    task = plan.tasks.get(title="开展安宁疗护基线调查")
    page.goto(f"{live_server.url}{reverse('plans:task', args=[task.pk])}")
    history = page.inner_text("[data-testid=history]")
    assert "lx-office" in history and "127.0.0.1" in history and "开展基线调查" in history
    page.screenshot(path=str(shots / "6-task-history.png"), full_page=True)


def test_plan_list_and_review_pages_do_not_query_per_row(client, office, plan,
                                                         django_assert_max_num_queries):
    from shidian.plans.testing import make_plan

    for n in range(5):
        make_plan(f"武汉市第{n}号方案", WUHAN, tasks=[{"title": f"任务{i}"} for i in range(6)])
    login(client, office)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("plans:list"))
    assert page.content.decode().count("武汉市第") == 5
    unresolved = TaskUnit.objects.filter(task__plan=plan, agency__isnull=True) \
        .values("name").distinct().count()
    # the rows cost a fixed number of queries; each unmatched name asks for its candidates
    with django_assert_max_num_queries(25 + 3 * unresolved):
        client.get(reverse("plans:review", args=[plan.pk]))
