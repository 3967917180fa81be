"""Formulas over data elements: ``#{rooms_built} / #{villages}``, ``(#{a} + #{b.poor}) * 2``.

A small recursive-descent parser (no ``eval``): numbers, ``#{element}`` and
``#{element.option}`` references, ``+ - * /``, unary minus and parentheses. A parsed formula
evaluates in Python (forms, validation rules) or turns into a SQL expression (roll-ups), with
the same rules in both: a missing value makes the result missing (unless missing values count
as zero) and a division by zero gives no value, never an error.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Union

from django.utils.translation import gettext as _

from shidian.core.errors import ErrorCode, ShidianError

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?|\.\d+)
  | (?P<ref>\#\{\s*(?P<code>[A-Za-z0-9_-]+)(?:\.(?P<option>[A-Za-z0-9_-]+))?\s*\})
  | (?P<op>[-+*/()])
""", re.VERBOSE)


@dataclass(frozen=True)
class Ref:
    code: str
    option: str = ""

    @property
    def key(self) -> str:
        return f"{self.code}.{self.option}" if self.option else self.code


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node


Node = Union[Num, Ref, Neg, BinOp]
Value = float | None


def _error(message: str, position: int, text: str) -> ShidianError:
    return ShidianError(ErrorCode.INVALID, message, {"position": position, "formula": text})


def _tokens(text: str) -> list[tuple[str, object, int]]:
    found: list[tuple[str, object, int]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise _error(_("Cannot read the formula at character %(position)s: %(rest)s")
                         % {"position": position + 1, "rest": text[position:position + 10]},
                         position, text)
        kind = match.lastgroup
        if kind == "number":
            found.append(("num", float(match["number"]), position))
        elif kind in ("ref", "code", "option"):
            found.append(("ref", Ref(match["code"], match["option"] or ""), position))
        elif kind == "op":
            found.append(("op", match["op"], position))
        position = match.end()
    found.append(("end", None, len(text)))
    return found


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> tuple[str, object, int]:
        return self.tokens[self.index]

    def take(self) -> tuple[str, object, int]:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expression(self) -> Node:
        node = self.term()
        while self.peek()[:2] in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            node = BinOp(str(op), node, self.term())
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.peek()[:2] in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            node = BinOp(str(op), node, self.factor())
        return node

    def factor(self) -> Node:
        kind, value, position = self.take()
        if kind == "op" and value == "-":
            return Neg(self.factor())
        if kind == "op" and value == "+":
            return self.factor()
        if kind == "num":
            return Num(float(value))  # type: ignore[arg-type]
        if kind == "ref":
            return value  # type: ignore[return-value]
        if kind == "op" and value == "(":
            node = self.expression()
            closing = self.take()
            if closing[:2] != ("op", ")"):
                raise _error(_("A bracket is not closed in the formula."), closing[2], self.text)
            return node
        if kind == "end":
            raise _error(_("The formula ends too early."), position, self.text)
        raise _error(_("Unexpected %(token)s at character %(position)s of the formula.")
                     % {"token": value, "position": position + 1}, position, self.text)


@dataclass(frozen=True)
class Formula:
    """A parsed formula; build it with :func:`parse`."""

    text: str
    root: Node

    @property
    def refs(self) -> set[Ref]:
        found: set[Ref] = set()
        stack: list[Node] = [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, Ref):
                found.add(node)
            elif isinstance(node, Neg):
                stack.append(node.operand)
            elif isinstance(node, BinOp):
                stack.extend((node.left, node.right))
        return found

    @property
    def codes(self) -> set[str]:
        return {ref.code for ref in self.refs}

    def evaluate(self, values: Mapping[str, Value], *, missing_as_zero: bool = False) -> Value:
        """The value for ``values`` keyed by ``code`` or ``code.option``; None when missing."""

        def run(node: Node) -> Value:
            if isinstance(node, Num):
                return node.value
            if isinstance(node, Ref):
                found = values.get(node.key)
                if found is None or (isinstance(found, float) and math.isnan(found)):
                    return 0.0 if missing_as_zero else None
                return float(found)
            if isinstance(node, Neg):
                inner = run(node.operand)
                return None if inner is None else -inner
            left, right = run(node.left), run(node.right)
            if left is None or right is None:
                return None
            if node.op == "+":
                return left + right
            if node.op == "-":
                return left - right
            if node.op == "*":
                return left * right
            return None if right == 0 else left / right

        return run(self.root)

    def to_sql(self, column: Callable[[Ref], str], *, missing_as_zero: bool = False) -> str:
        """A SQL expression over the columns ``column(ref)`` names (same rules as evaluate)."""

        def run(node: Node) -> str:
            if isinstance(node, Num):  # typed, so that every engine does float arithmetic
                return f"CAST({float(node.value)!r} AS DOUBLE PRECISION)"
            if isinstance(node, Ref):
                name = column(node)
                return f"COALESCE({name}, 0.0)" if missing_as_zero else name
            if isinstance(node, Neg):
                return f"(-{run(node.operand)})"
            left, right = run(node.left), run(node.right)
            if node.op == "/":
                return f"({left} / NULLIF({right}, 0.0))"
            return f"({left} {node.op} {right})"

        return run(self.root)


def parse(text: str) -> Formula:
    """Parse ``text``; a :class:`ShidianError` (invalid) says where it went wrong."""
    source = (text or "").strip()
    if not source:
        raise _error(_("The formula is empty."), 0, source)
    parser = _Parser(source)
    root = parser.expression()
    kind, value, position = parser.peek()
    if kind != "end":
        raise _error(_("Unexpected %(token)s at character %(position)s of the formula.")
                     % {"token": value if kind != "ref" else "#{…}", "position": position + 1},
                     position, source)
    return Formula(source, root)


ONE = Formula("1", Num(1.0))


def parse_or_one(text: str) -> Formula:
    """An indicator's denominator: empty means 1."""
    return parse(text) if (text or "").strip() else ONE
