"""Dedup finds exactly the pairs its rules describe, on a generated crowd of households.

A brute-force reading of the rules (every person against every other) is the oracle: the fast
``dedup_run`` must find the same pairs, with the same kind, score and reasons — whatever blocking,
sorting or SQL it uses to avoid comparing everyone with everyone.
"""
import datetime as dt
import json
import random

import pytest
from rapidfuzz import fuzz

from shidian.cases import dedup
from shidian.cases.models import (
    Case,
    CasePerson,
    DuplicatePair,
    Outcome,
    PairKind,
    PairStatus,
)
from shidian.cases.names import name_pinyin
from shidian.cases.testing import OTHER_VILLAGE, VILLAGE, make_programme

pytestmark = pytest.mark.django_db

# Homophones and near-spellings, so names meet by characters, by pinyin and by similarity.
NAMES = ("张三", "章三", "张山", "张叁", "王德明", "汪德明", "王得明", "李秀英", "黎秀英",
         "李秀", "刘小军", "柳小军", "陈国庆", "晨国庆", "赵一鸣", "周海燕", "州海燕", "吴建国")
OUTCOMES = (Outcome.OPEN,) * 6 + (Outcome.COMPLETED, Outcome.WITHDRAWN, Outcome.REJECTED,
                                  Outcome.MERGED)


def crowd(seed: int):
    """Cases of this year's programme, of an earlier year, and of a later one, in two villages
    (and a third village code on persons only); ID hashes from a small pool so that heads and
    members collide, birth dates within two years so that many are close."""
    rng = random.Random(seed)
    programme = make_programme()
    earlier = make_programme(name="2018年农村危房改造", year=2018)
    later = make_programme(name="2027年农村危房改造", year=2027)
    programmes = [programme] * 6 + [earlier] * 3 + [later]
    pool = [f"{n:032x}" for n in range(260)]
    start = dt.date(1960, 1, 1)
    cases = []
    for i in range(320):
        village = rng.choice((VILLAGE, VILLAGE, OTHER_VILLAGE))
        cases.append(Case(programme=rng.choice(programmes), case_type="housing",
                          division_id=village, stage="registered", outcome=rng.choice(OUTCOMES),
                          subject_name=f"户{i}", subject_id_masked="x", subject_id_hash="y",
                          data={}, pii=""))
    Case.objects.bulk_create(cases)
    persons = []
    for case in cases:
        hashes = rng.sample(pool, rng.choice((1, 1, 2, 3, 4)))
        for position, id_hash in enumerate(hashes):
            name = rng.choice(NAMES)
            born = (None if rng.random() < 0.05
                    else start + dt.timedelta(days=rng.randrange(0, 730)))
            code = case.division_id if rng.random() < 0.95 else "510521100002"
            persons.append(CasePerson(case=case, position=position, name=name,
                                      name_pinyin=name_pinyin(name), id_hash=id_hash,
                                      id_masked=f"m{id_hash[-4:]}", birth_date=born,
                                      division_code=code))
    CasePerson.objects.bulk_create(persons)
    return programme


def expected_pairs(programme):
    """The rules, read literally: every person against every other."""
    earlier = {p.pk for p in type(programme).objects.filter(case_type=programme.case_type,
                                                             year__lt=programme.year)}
    compared = {}
    for case in Case.objects.all():
        if (case.programme_id == programme.pk and case.outcome not in dedup.CLOSED) or (
                case.programme_id in earlier and case.outcome == Outcome.COMPLETED):
            compared[case.pk] = case.programme_id
    persons = [p for p in CasePerson.objects.all() if p.case_id in compared]
    found = {}
    for p in persons:
        for q in persons:
            if p.case_id >= q.case_id or programme.pk not in (compared[p.case_id],
                                                              compared[q.case_id]):
                continue
            key = (p.case_id, q.case_id)
            if p.id_hash == q.id_hash:
                kind, score, reasons = found.get(key, (PairKind.EXACT, 1.0, []))
                if kind != PairKind.EXACT:
                    kind, score, reasons = PairKind.EXACT, 1.0, []
                reasons.append({"why": "id", "a": p.position, "b": q.position,
                                "masked": p.id_masked})
                found[key] = (kind, score, reasons)
                continue
            if (p.division_code != q.division_code or p.birth_date is None
                    or q.birth_date is None):
                continue
            days = abs((p.birth_date - q.birth_date).days)
            if days > dedup.FUZZY_DAYS or found.get(key, (None,))[0] == PairKind.EXACT:
                continue
            if p.name == q.name:
                raw, why = 100.0, "name"
            elif p.name_pinyin == q.name_pinyin:
                raw, why = 95.0, "pinyin"
            else:
                raw, why = fuzz.ratio(p.name_pinyin, q.name_pinyin), "similar"
                if raw < dedup.FUZZY_NAME_SCORE:
                    continue
            score = round(raw / 100 * (1 - days / (2 * dedup.FUZZY_DAYS + 2)), 3)
            kind, best, reasons = found.get(key, (PairKind.FUZZY, 0.0, []))
            reasons.append({"why": why, "a": p.position, "b": q.position,
                            "names": [p.name, q.name], "days": days})
            found[key] = (kind, max(best, score), reasons)
    return found


def stored_pairs(programme):
    return {(p.case_a_id, p.case_b_id): (p.kind, p.score, p.reasons)
            for p in DuplicatePair.objects.filter(programme=programme)}


def canonical(pairs):
    return {key: (kind, round(score, 3), sorted(json.dumps(r, sort_keys=True, ensure_ascii=False)
                                                for r in reasons))
            for key, (kind, score, reasons) in pairs.items()}


@pytest.mark.parametrize("seed", [1, 2])
def test_dedup_finds_the_same_pairs_as_comparing_everyone_with_everyone(seed):
    programme = crowd(seed)
    expected = expected_pairs(programme)
    assert sum(k == PairKind.EXACT for k, _s, _r in expected.values()) > 20  # a real test
    assert sum(k == PairKind.FUZZY for k, _s, _r in expected.values()) > 50
    result = dedup.dedup_run(programme=programme)
    stored = stored_pairs(programme)
    assert {key: kind for key, (kind, _s, _r) in stored.items()} == {
        key: kind for key, (kind, _s, _r) in expected.items()}
    assert canonical(stored) == canonical(expected)  # every reason, and the best score
    assert (result.exact, result.fuzzy) == (
        sum(k == PairKind.EXACT for k, _s, _r in expected.values()),
        sum(k == PairKind.FUZZY for k, _s, _r in expected.values()))


def test_a_second_run_adds_nothing_and_keeps_the_decisions(seed=3):
    programme = crowd(seed)
    dedup.dedup_run(programme=programme)
    decided = DuplicatePair.objects.order_by("pk").first()
    DuplicatePair.objects.filter(pk=decided.pk).update(status=PairStatus.DISMISSED)
    before = canonical(stored_pairs(programme))
    again = dedup.dedup_run(programme=programme)
    assert (again.exact, again.fuzzy) == (0, 0)
    assert canonical(stored_pairs(programme)) == before
    assert DuplicatePair.objects.get(pk=decided.pk).status == PairStatus.DISMISSED
