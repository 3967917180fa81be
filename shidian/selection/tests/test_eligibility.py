"""Eligibility rules: seed 09's "参加专业合作组织的青年人数在30人以上" checked from the figure the
applicant gives, with the case engine's safe expression language."""
from decimal import Decimal as D

from shidian.selection.eligibility import judge_computed, judge_declared, rule_problem

RULE = "youth_members >= 30"


def test_thirty_or_more_young_members_pass():
    assert judge_computed(condition_id=1, rule=RULE, field_name="youth_members",
                          value=D(36)).passed is True
    assert judge_computed(condition_id=1, rule=RULE, field_name="youth_members",
                          value=D(30)).passed is True


def test_fewer_than_thirty_fail_on_the_rule():
    verdict = judge_computed(condition_id=1, rule=RULE, field_name="youth_members", value=D(25))
    assert (verdict.passed, verdict.reason) == (False, "rule")


def test_a_figure_not_given_is_not_yet_judged():
    verdict = judge_computed(condition_id=1, rule=RULE, field_name="youth_members", value=None)
    assert (verdict.passed, verdict.reason) == (None, "missing")


def test_rules_are_parsed_never_evaluated_as_python():
    assert rule_problem("__import__('os').system('x')", "youth_members") is not None
    assert rule_problem("youth_members >= 30 and other > 1", "youth_members") == "names"
    assert rule_problem("youth_members >=", "youth_members") == "syntax"
    assert rule_problem(RULE, "youth members") == "field"
    assert rule_problem(RULE, "youth_members") is None


def test_a_declaration_needing_a_document_fails_without_one():
    assert judge_declared(condition_id=2, declared=True, needs_document=True,
                          has_document=False).reason == "document"
    assert judge_declared(condition_id=2, declared=True, needs_document=True,
                          has_document=True).passed is True
    assert judge_declared(condition_id=2, declared=False, needs_document=False,
                          has_document=False).passed is None
