"""Case services: scope, encryption at rest, masking, audit, notices in working days."""
import datetime as dt
import io

import pytest
from auditlog.models import LogEntry
from django.db import connection

from shidian.cases import definitions, selectors, services
from shidian.cases.models import Case, CaseEvent, CasePerson, CaseProgramme, EventKind
from shidian.cases.testing import (
    OTHER_VILLAGE,
    PNG,
    VILLAGE,
    household,
    make_programme,
    make_worker,
    make_workers,
)
from shidian.core import crypto
from shidian.core.errors import ShidianError
from shidian.orgs.models import Division, Role

from .packs import write_pack

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def workers():
    return make_workers()


@pytest.fixture
def programme():
    return make_programme()


def register(workers, programme, **overrides):
    return services.case_create(user=workers["village"], programme=programme,
                                values=household(**overrides), today=D(2025, 6, 2))


def test_each_level_sees_its_own_subtree_and_nothing_else(workers, programme):
    here = register(workers, programme)
    neighbour_clerk = make_worker("gebi2", division_code=OTHER_VILLAGE)
    there = services.case_create(user=neighbour_clerk, programme=programme,
                                 values=household(village=OTHER_VILLAGE), today=D(2025, 6, 2))
    hubei = make_worker("hubei", role=Role.OFFICE, division_code="420102")

    def seen(user):
        return set(selectors.case_list(user=user).values_list("pk", flat=True))

    assert seen(workers["village"]) == {here.pk}
    assert seen(workers["township"]) == {here.pk}
    assert seen(workers["county"]) == {here.pk}
    assert seen(workers["neighbour"]) == {there.pk}
    assert seen(workers["liaison"]) == set()
    assert seen(hubei) == set()
    province = make_worker("sheng", role=Role.OFFICE, division_code="51")
    assert seen(province) == {here.pk, there.pk}


def test_a_clerk_cannot_register_a_household_of_another_village(workers, programme):
    with pytest.raises(ShidianError) as caught:
        services.case_create(user=workers["village"], programme=programme,
                             values=household(village=OTHER_VILLAGE))
    assert caught.value.extra["reason"] == services.REASON_FORBIDDEN
    assert not Case.objects.exists()


def test_unknown_and_out_of_programme_villages_are_refused(workers, programme):
    with pytest.raises(ShidianError) as caught:
        register(workers, programme, village="510521100099")
    assert caught.value.extra["reason"] in (services.REASON_DIVISION, services.REASON_FORBIDDEN)
    hubei_programme = make_programme(name="湖北", division="42")
    with pytest.raises(ShidianError) as caught:
        register(workers, hubei_programme)
    assert caught.value.extra["reason"] == services.REASON_DIVISION


def test_id_numbers_and_accounts_are_encrypted_at_rest_and_found_by_keyed_hash(workers,
                                                                              programme):
    values = household()
    case = services.case_create(user=workers["village"], programme=programme, values=values)
    head, spouse = values["head_id_number"], values["members"][0]["id_number"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cases_case")
        case_rows = repr(cursor.fetchall())
        cursor.execute("SELECT * FROM cases_caseperson")
        person_rows = repr(cursor.fetchall())
    for secret in (head, spouse, values["bank_account"]):
        assert secret not in case_rows and secret not in person_rows
    assert case.subject_id_masked == head[:3] + "*" * 11 + head[-4:]
    assert case.data["bank_account"] == crypto.mask_account(values["bank_account"])
    # A member's number finds the household, through the hash only.
    found = selectors.case_list(user=workers["county"], query=spouse)
    assert list(found) == [case]
    assert list(selectors.case_list(user=workers["county"], query="王德明")) == [case]


def test_full_numbers_only_for_allowed_roles_and_every_view_is_logged(workers, programme):
    values = household()
    case = services.case_create(user=workers["village"], programme=programme, values=values)
    with pytest.raises(ShidianError):
        services.case_reveal(user=workers["village"], case_id=case.pk, field_key="head_id_number")
    assert services.case_reveal(user=workers["county"], case_id=case.pk,
                                field_key="head_id_number") == values["head_id_number"]
    son = values["members"][1]["id_number"]
    assert services.case_reveal(user=workers["township"], case_id=case.pk,
                                field_key="members", position=2) == son
    views = CaseEvent.objects.filter(case=case, kind=EventKind.PII_VIEW)
    assert [e.actor.username for e in views] == ["xian", "zhen"]
    assert LogEntry.objects.filter(object_pk=str(case.pk),
                                   action=LogEntry.Action.ACCESS).count() == 2


def test_a_refused_transition_changes_nothing(workers, programme):
    case = register(workers, programme, poverty_categories=[])
    before = (CaseEvent.objects.count(), LogEntry.objects.count())
    with pytest.raises(ShidianError) as caught:
        services.case_transition(user=workers["village"], case_id=case.pk, transition="accept")
    assert caught.value.extra["reason"] == services.REASON_BLOCKED
    case.refresh_from_db()
    assert case.stage == "registered"
    assert (CaseEvent.objects.count(), LogEntry.objects.count()) == before


def test_a_transition_is_audited_with_its_actor_and_old_and_new_stage(workers, programme):
    case = register(workers, programme)
    services.case_transition(user=workers["village"], case_id=case.pk, transition="accept",
                             today=D(2025, 6, 2))
    entry = LogEntry.objects.filter(object_pk=str(case.pk), action=LogEntry.Action.UPDATE).latest(
        "timestamp")
    assert entry.changes["stage"] == ["registered", "application"]
    event = CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION).get()
    assert (event.actor, event.from_stage, event.to_stage) == (workers["village"], "registered",
                                                                "application")


def test_a_member_editing_is_checked_and_the_persons_follow(workers, programme):
    case = register(workers, programme)
    services.case_transition(user=workers["village"], case_id=case.pk, transition="accept")
    new_member = {"name": "王小红", "relation": "child",
                  "id_number": crypto.id_number_make("51052120100101002")}
    with pytest.raises(ShidianError) as caught:
        services.case_update(user=workers["village"], case_id=case.pk, values={
            "members": [{"name": "王小红", "relation": "child", "id_number": "510521201001010021"}]})
    assert "members" in caught.value.extra["errors"]
    services.case_update(user=workers["village"], case_id=case.pk,
                         values={"members": [new_member]})
    persons = list(CasePerson.objects.filter(case=case).values_list("name", "position"))
    assert persons == [("王德明", 0), ("王小红", 1)]
    assert services.case_secrets(Case.objects.get(pk=case.pk))["members"] == [
        new_member["id_number"]]


def test_bulk_transition_moves_the_passing_cases_and_counts_the_others(workers, programme):
    ok = [register(workers, programme) for _ in range(3)]
    poor_not = register(workers, programme, poverty_categories=[])
    result = services.cases_transition_bulk(user=workers["village"],
                                            case_ids=[c.pk for c in [*ok, poor_not]],
                                            transition="accept")
    assert result.moved == 3 and result.blocked == {"poorest": 1}
    assert set(Case.objects.filter(stage="application").values_list("pk", flat=True)) == {
        c.pk for c in ok}
    assert CaseEvent.objects.filter(kind=EventKind.TRANSITION).count() == 3
    assert LogEntry.objects.filter(action=LogEntry.Action.UPDATE,
                                   changes__stage=["registered", "application"]).count() == 3


@pytest.fixture
def allowance(settings, tmp_path):
    """A second pack added by configuration only: the engine is not touched."""
    settings.SHIDIAN_PACK_DIRS = [str(write_pack(tmp_path / "allowance"))]
    definitions.reload_packs()
    yield definitions.case_type_get("allowance")
    settings.SHIDIAN_PACK_DIRS = []
    definitions.reload_packs()


def test_a_working_day_notice_runs_across_national_day_and_the_adjusted_saturday(workers,
                                                                                allowance):
    programme = CaseProgramme.objects.create(name="高龄补贴", case_type="allowance",
                                             division_id="51", year=2025, table="flat")
    clerk = workers["village"]
    case = services.case_create(user=clerk, programme=programme, today=D(2025, 9, 26), values={
        "name": "张桂兰", "id_number": crypto.id_number_make("51052119450301002"),
        "village": VILLAGE, "age": 80})
    # 5 working days after Friday 26 September: 28 (Sun, worked), 29, 30, 9 and 10 October.
    assert case.due_on == D(2025, 10, 10)
    services.document_add(user=clerk, case_id=case.pk, kind="form", name="form.pdf",
                          content=b"%PDF-1.4 form")
    services.case_transition(user=clerk, case_id=case.pk, transition="post",
                             today=D(2025, 9, 30))
    notice = services.notice_publish(user=clerk, programme=programme, stage="notice",
                                     case_ids=[case.pk], starts_on=D(2025, 9, 30),
                                     today=D(2025, 9, 30))
    # 5 working days from Tuesday 30 September: 30, 9, 10, Saturday 11 (调休) and 13 October.
    assert notice.last_day == D(2025, 10, 13)
    for day in (D(2025, 10, 8), D(2025, 10, 13)):
        with pytest.raises(ShidianError) as caught:
            services.case_transition(user=clerk, case_id=case.pk, transition="grant", today=day)
        assert caught.value.extra["reason"] == services.REASON_BLOCKED
    services.case_transition(user=clerk, case_id=case.pk, transition="grant",
                             today=D(2025, 10, 14))
    case.refresh_from_db()
    assert (case.stage, case.entitlement) == ("granted", 300)


def test_a_stage_deadline_past_the_holiday_calendar_is_left_open_with_the_reason(workers,
                                                                                programme):
    last = 2026  # chinesecalendar 1.11 covers up to 2026
    case = services.case_create(user=workers["village"], programme=programme,
                                values=household(), today=D(last, 12, 30))
    services.case_transition(user=workers["village"], case_id=case.pk, transition="accept",
                             today=D(last, 12, 30))
    case.refresh_from_db()
    assert case.due_on is None
    event = CaseEvent.objects.get(case=case, kind=EventKind.TRANSITION)
    assert str(last) in event.data["due_unknown"]


def test_programmes_need_the_figures_their_standard_leaves_open(workers):
    office = make_worker("sheng2", role=Role.OFFICE, division_code="51")
    Division.objects.get_or_create(code="51", defaults={"name": "四川省", "level": 1})
    with pytest.raises(ShidianError) as caught:
        services.programme_create(user=office, name="宁德标准", case_type="housing",
                                  division_code="51", year=2025, table="ningde-2012")
    assert caught.value.extra["missing"] == ["family_planning_addon", "ethnic_minority_addon",
                                             "disabled_addon"]
    programme = services.programme_create(
        user=office, name="宁德标准", case_type="housing", division_code="51", year=2025,
        table="ningde-2012", params={"family_planning_addon": 1000, "ethnic_minority_addon": 2000,
                                     "disabled_addon": 3000})
    assert programme.params["disabled_addon"] == "3000"
    with pytest.raises(ShidianError):
        services.programme_create(user=workers["village"], name="村里的", case_type="housing",
                                  division_code=VILLAGE, year=2025, table="shandong-2016")


def test_documents_must_be_of_an_accepted_type(workers, programme):
    case = register(workers, programme)
    with pytest.raises(ShidianError) as caught:
        services.document_add(user=workers["village"], case_id=case.pk, kind="application",
                              name="run.exe", content=b"MZ")
    assert caught.value.extra["reason"] == services.REASON_FILE
    doc = services.document_add(user=workers["village"], case_id=case.pk, kind="application",
                                name="申请书.png", content=PNG)
    assert doc.name == "申请书.png" and doc.size == len(PNG)


def test_rotating_the_field_key_reencrypts_every_case_and_keeps_search(workers, programme,
                                                                      monkeypatch, settings,
                                                                      tmp_path):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(crypto.ENV_KEYS, old)
    monkeypatch.setenv(crypto.ENV_HASH_KEY, "a-hash-key-of-enough-length")
    crypto.reset_keys()
    values = household()
    case = services.case_create(user=workers["village"], programme=programme, values=values)
    monkeypatch.setenv(crypto.ENV_KEYS, f"{new},{old}")
    crypto.reset_keys()
    call_command("cases_rotate_keys", stdout=io.StringIO())
    monkeypatch.setenv(crypto.ENV_KEYS, new)  # the old key is gone
    crypto.reset_keys()
    case.refresh_from_db()
    assert services.case_secrets(case)["head_id_number"] == values["head_id_number"]
    found = selectors.case_list(user=workers["county"], query=values["head_id_number"])
    assert list(found) == [case]
    crypto.reset_keys()


def test_a_document_whose_content_is_not_what_its_name_says_is_refused(workers, programme):
    """A renamed executable or a PDF named .png is judged by its content (core.uploads)."""
    case = register(workers, programme)
    for name, content in (("申请书.pdf", b"MZ\x90\x00" + b"\x00" * 64),
                          ("照片.png", b"%PDF-1.4 not an image")):
        with pytest.raises(ShidianError) as caught:
            services.document_add(user=workers["village"], case_id=case.pk,
                                  kind="application", name=name, content=content)
        assert caught.value.extra["reason"] == services.REASON_FILE
    assert not case.documents.exists()
