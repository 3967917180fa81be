"""Duplicate households: same ID (head or member, this year or a renovated earlier year), or a
similar name and birth date in the same village; reviewed side by side, merged or dismissed."""
import datetime as dt

import pytest
from auditlog.models import LogEntry

from shidian.cases import dedup, services
from shidian.cases.models import (
    Case,
    CaseDocument,
    CaseEvent,
    DuplicatePair,
    EventKind,
    Outcome,
    PairKind,
    PairStatus,
)
from shidian.cases.testing import (
    OTHER_VILLAGE,
    PNG,
    household,
    id_number,
    make_programme,
    make_worker,
    make_workers,
)
from shidian.core.errors import ShidianError

pytestmark = pytest.mark.django_db


@pytest.fixture
def workers():
    return make_workers()


@pytest.fixture
def programme():
    return make_programme()


def register(user, programme, **values):
    return services.case_create(user=user, programme=programme, values=household(**values))


def test_a_member_registered_again_as_the_head_of_another_household_is_an_exact_pair(
        workers, programme):
    first = register(workers["village"], programme)
    son = services.case_secrets(first)["members"][1]
    second = register(workers["village"], programme, head_name="王小军", head_id_number=son,
                      members=[])
    result = dedup.dedup_run(programme=programme)
    assert result.exact == 1
    pair = DuplicatePair.objects.get()
    assert (pair.case_a, pair.case_b, pair.kind) == (first, second, PairKind.EXACT)
    assert pair.reasons == [{"why": "id", "a": 2, "b": 0, "masked": second.subject_id_masked}]
    assert dedup.dedup_run(programme=programme).exact == 0  # found once, kept once
    assert DuplicatePair.objects.count() == 1


def test_a_household_renovated_in_an_earlier_year_is_found_even_when_entered_later(
        workers, programme):
    current = register(workers["village"], programme)
    earlier = make_programme(name="2018年农村危房改造", year=2018)
    # The 2018 archive is entered after this year's registration (old paper files typed in):
    # registration could not refuse it, the dedup run finds it.
    old = Case.objects.create(
        programme=earlier, case_type="housing", division=current.division, stage="completed",
        outcome=Outcome.COMPLETED, subject_name="王德明", subject_id_masked="x",
        subject_id_hash="y", data={}, pii="")
    person = current.persons.get(position=0)
    old.persons.create(position=0, name="王德明", name_pinyin=person.name_pinyin,
                       id_hash=person.id_hash, id_masked=person.id_masked,
                       birth_date=person.birth_date, division_code=current.division_id)
    assert dedup.dedup_run(programme=programme).exact == 1
    pair = DuplicatePair.objects.get()
    assert {pair.case_a_id, pair.case_b_id} == {current.pk, old.pk}


def test_same_sounding_names_with_close_birth_dates_in_one_village_are_a_fuzzy_pair(
        workers, programme):
    born = dt.date(1958, 3, 12)
    a = register(workers["village"], programme, head_name="张三",
                 head_id_number=id_number(born=born), members=[])
    b = register(workers["village"], programme, head_name="章三",
                 head_id_number=id_number(born=born + dt.timedelta(days=10)), members=[])
    register(workers["village"], programme, head_name="张山",
             head_id_number=id_number(born=born + dt.timedelta(days=200)), members=[])
    neighbour = make_worker("gebi3", division_code=OTHER_VILLAGE)
    register(neighbour, programme, head_name="张三", village=OTHER_VILLAGE,
             head_id_number=id_number(born=born), members=[])
    result = dedup.dedup_run(programme=programme)
    assert (result.exact, result.fuzzy) == (0, 1)
    pair = DuplicatePair.objects.get()
    assert (pair.case_a, pair.case_b, pair.kind) == (a, b, PairKind.FUZZY)
    assert pair.reasons[0]["why"] == "pinyin" and pair.reasons[0]["days"] == 10


def test_merging_keeps_one_archive_and_is_audited_on_both_cases(workers, programme):
    first = register(workers["village"], programme)
    son = services.case_secrets(first)["members"][1]
    second = register(workers["village"], programme, head_name="王小军", head_id_number=son,
                      members=[])
    services.document_add(user=workers["village"], case_id=second.pk, kind="application",
                          name="申请书.png", content=PNG)
    dedup.dedup_run(programme=programme)
    pair = DuplicatePair.objects.get()
    with pytest.raises(ShidianError):  # village clerks do not review duplicates
        dedup.pair_decide(user=workers["village"], pair_id=pair.pk, decision="dismiss")
    dedup.pair_decide(user=workers["county"], pair_id=pair.pk, decision="merge", keep="a",
                      note="王小军已随父登记，重复申请")
    second.refresh_from_db()
    assert (second.outcome, second.merged_into) == (Outcome.MERGED, first)
    assert CaseDocument.objects.get().case == first
    assert CaseEvent.objects.filter(kind=EventKind.MERGED).count() == 2
    entry = LogEntry.objects.filter(object_pk=str(pair.pk), action=LogEntry.Action.UPDATE).get()
    assert entry.changes["status"] == [PairStatus.PENDING, PairStatus.MERGED]
    assert entry.actor == workers["county"]
    with pytest.raises(ShidianError) as caught:
        dedup.pair_decide(user=workers["county"], pair_id=pair.pk, decision="dismiss")
    assert caught.value.extra["reason"] == dedup.REASON_DECIDED
    # A merged case is out of the next run, and out of "already registered" checks.
    assert dedup.dedup_run(programme=programme).exact == 0


def test_dismissing_keeps_both_cases_open(workers, programme):
    born = dt.date(1970, 1, 1)
    register(workers["village"], programme, head_name="李明",
             head_id_number=id_number(born=born), members=[])
    register(workers["village"], programme, head_name="李明",
             head_id_number=id_number(born=born), members=[])
    dedup.dedup_run(programme=programme)
    pair = DuplicatePair.objects.get()
    dedup.pair_decide(user=workers["office"], pair_id=pair.pk, decision="dismiss",
                      note="同村同名，出生日期相同，但身份证号不同，经核实为两户")
    assert not Case.objects.exclude(outcome=Outcome.OPEN).exists()
    pair.refresh_from_db()
    assert pair.status == PairStatus.DISMISSED and pair.decided_by == workers["office"]


def test_close_birth_dates_pair_neighbours_not_the_ends_of_a_chain(workers, programme):
    """Three namesakes born 20 days apart: each is paired with the next (20 days), not the
    first with the last (40 days); a withdrawn case born in between is left out."""
    born = dt.date(1962, 5, 1)
    a, b, c = (register(workers["village"], programme, head_name=name, members=[],
                        head_id_number=id_number(born=born + dt.timedelta(days=days)))
               for name, days in (("张三", 0), ("章三", 20), ("张叁", 40)))
    gone = register(workers["village"], programme, head_name="张三", members=[],
                    head_id_number=id_number(born=born + dt.timedelta(days=10)))
    Case.objects.filter(pk=gone.pk).update(outcome=Outcome.WITHDRAWN)
    result = dedup.dedup_run(programme=programme)
    assert (result.exact, result.fuzzy) == (0, 2)
    assert {(p.case_a_id, p.case_b_id) for p in DuplicatePair.objects.all()} == {
        (a.pk, b.pk), (b.pk, c.pk)}
    assert {p.reasons[0]["days"] for p in DuplicatePair.objects.all()} == {20}
