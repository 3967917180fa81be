"""Formulas as the office writes them: #{element} references, arithmetic, and no eval."""
import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from shidian.core.errors import ErrorCode, ShidianError
from shidian.indicators.formula import parse, parse_or_one


def test_precedence_and_brackets():
    assert parse("1 + 2 * 3").evaluate({}) == 7
    assert parse("(1 + 2) * 3").evaluate({}) == 9
    assert parse("-#{a} + 10").evaluate({"a": 4}) == 6
    assert parse("#{a} / #{b} * 100").evaluate({"a": 1, "b": 4}) == 25


def test_references_name_elements_and_options():
    formula = parse("#{households.poor} + #{households.other} - #{done}")
    assert formula.codes == {"households", "done"}
    assert {r.key for r in formula.refs} == {"households.poor", "households.other", "done"}
    assert formula.evaluate({"households.poor": 3, "households.other": 4, "done": 2}) == 5


def test_division_by_zero_gives_no_value_not_an_error():
    assert parse("#{rooms} / #{villages}").evaluate({"rooms": 3, "villages": 0}) is None


def test_a_missing_value_makes_the_result_missing_unless_counted_as_zero():
    formula = parse("#{a} + #{b}")
    assert formula.evaluate({"a": 2}) is None
    assert formula.evaluate({"a": 2}, missing_as_zero=True) == 2


def test_empty_denominator_means_one():
    assert parse_or_one("").evaluate({}) == 1


@pytest.mark.parametrize("text", ["#{a} +", "(#{a} + 1", "#{a} #{b}", "import os",
                                  "__import__('os')", "#{a} ** 2", ""])
def test_bad_formulas_are_refused_with_a_reason(text):
    with pytest.raises(ShidianError) as caught:
        parse(text)
    assert caught.value.code == ErrorCode.INVALID
    assert caught.value.message


def _expressions():
    leaf = st.one_of(st.integers(0, 9).map(str), st.sampled_from(["#{a}", "#{b}", "#{c}"]))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from("+-*/"), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda e: f"-{e}")), max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(text=_expressions(), a=st.one_of(st.none(), st.integers(-5, 5)),
       b=st.one_of(st.none(), st.integers(-5, 5)), c=st.integers(-5, 5),
       zero=st.booleans())
@pytest.mark.django_db
def test_sql_translation_agrees_with_python_evaluation(text, a, b, c, zero):
    """The roll-up computes indicators in SQL; forms check rules in Python: same answers."""
    formula = parse(text)
    values = {"a": a, "b": b, "c": c}
    expected = formula.evaluate(values, missing_as_zero=zero)

    def literal(ref):
        value = values[ref.code]
        return f"CAST({'NULL' if value is None else float(value)} AS DOUBLE PRECISION)"

    with connection.cursor() as cursor:
        cursor.execute("SELECT " + formula.to_sql(literal, missing_as_zero=zero))
        got = cursor.fetchone()[0]
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
