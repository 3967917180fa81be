"""A small, safe expression language for eligibility, entitlement and guard rules.

Rules are written by programme staff in pack YAML, so they are parsed here, never ``eval``-ed:
the parser builds a tree of a few node types and evaluation walks it with a dictionary of
values. Nothing else is reachable (no attributes, no imports, no Python builtins).

Grammar (lowest precedence first)::

    expr     := or ('if' or 'else' expr)?
    or       := and ('or' and)*
    and      := not ('and' not)*
    not      := 'not' not | compare
    compare  := sum (('=='|'!='|'<'|'<='|'>'|'>='|'in'|'not' 'in') sum)?
    sum      := product (('+'|'-') product)*
    product  := unary (('*'|'/') unary)*
    unary    := '-' unary | atom
    atom     := NUMBER | STRING | 'true' | 'false' | 'null' | NAME | NAME '(' args ')'
              | '[' args ']' | '(' expr ')'

Numbers are ``Decimal`` (money and floor areas must not pick up binary fractions). A missing
value (``null``) may be compared with ``==``/``!=`` and tested with ``in``; using it in arithmetic
or an ordering comparison raises ``MissingValue`` naming the field, so a guard can tell the user
which field to fill in rather than silently failing.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any


class ExpressionError(ValueError):
    """The text is not a valid expression (raised at load time, by the pack checks)."""


class EvaluationError(ValueError):
    """The expression is valid but cannot be computed with these values (e.g. 1 / 0)."""


class MissingValue(EvaluationError):
    def __init__(self, names: Iterable[str]):
        self.names = tuple(sorted(set(names)))
        super().__init__("missing value: " + ", ".join(self.names))


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    return value


def _len(value: Any) -> Decimal:
    return Decimal(len(value or ()))


def _any_of(values: Any, options: Any) -> bool:
    return bool(set(values or ()) & set(options or ()))


def _all_of(values: Any, options: Any) -> bool:
    return set(options or ()) <= set(values or ())


def _round(value: Any, places: Any = Decimal(0)) -> Decimal:
    return Decimal(value).quantize(Decimal(1).scaleb(-int(places)))


def _all_passed(checklist: Any) -> bool:
    """A checklist value ``{item: {"ok": bool, ...}}`` with every item passed."""
    return bool(checklist) and all(bool((v or {}).get("ok")) for v in checklist.values())


def _done(checklist: Any, item: Any) -> bool:
    return bool(((checklist or {}).get(item) or {}).get("ok"))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": _len,
    "min": lambda *a: min(a[0]) if len(a) == 1 else min(a),
    "max": lambda *a: max(a[0]) if len(a) == 1 else max(a),
    "abs": lambda a: abs(a),
    "round": _round,
    "any_of": _any_of,
    "all_of": _all_of,
    "all_passed": _all_passed,
    "done": _done,
}


# --- tree -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    def evaluate(self, env: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def names(self) -> set[str]:
        return set()

    def calls(self) -> set[str]:
        return set()


@dataclass(frozen=True)
class Const(Node):
    value: Any

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        return self.value


@dataclass(frozen=True)
class Name(Node):
    name: str

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        if self.name not in env:
            raise EvaluationError(f"unknown name {self.name}")
        return _number(env[self.name])

    def names(self) -> set[str]:
        return {self.name}


@dataclass(frozen=True)
class ListNode(Node):
    items: tuple[Node, ...]

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        return [item.evaluate(env) for item in self.items]

    def names(self) -> set[str]:
        return set().union(*(i.names() for i in self.items)) if self.items else set()

    def calls(self) -> set[str]:
        return set().union(*(i.calls() for i in self.items)) if self.items else set()


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        functions = env.get("__functions__") or FUNCTIONS
        func = functions.get(self.function) or FUNCTIONS.get(self.function)
        if func is None:
            raise EvaluationError(f"unknown function {self.function}")
        values = [a.evaluate(env) for a in self.args]
        try:
            return _number(func(*values))
        except MissingValue:
            raise
        except (TypeError, ValueError, ArithmeticError, InvalidOperation) as exc:
            if any(v is None for v in values):
                raise MissingValue(_null_names(self.args, values)) from exc
            raise EvaluationError(f"{self.function}: {exc}") from exc

    def names(self) -> set[str]:
        return set().union(*(a.names() for a in self.args)) if self.args else set()

    def calls(self) -> set[str]:
        inner = set().union(*(a.calls() for a in self.args)) if self.args else set()
        return {self.function} | inner


def _null_names(nodes: Iterable[Node], values: Iterable[Any]) -> set[str]:
    missing: set[str] = set()
    for node, value in zip(nodes, values, strict=False):
        if value is None:
            missing |= node.names() or {"null"}
    return missing


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        value = self.operand.evaluate(env)
        if self.op == "not":
            return not _truth(value, self.operand)
        if value is None:
            raise MissingValue(self.operand.names())
        return -value

    def names(self) -> set[str]:
        return self.operand.names()

    def calls(self) -> set[str]:
        return self.operand.calls()


def _truth(value: Any, node: Node) -> bool:
    if value is None:
        raise MissingValue(node.names() or {"null"})
    return bool(value)


_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        if self.op == "and":
            return _truth(self.left.evaluate(env), self.left) and _truth(
                self.right.evaluate(env), self.right)
        if self.op == "or":
            return _truth(self.left.evaluate(env), self.left) or _truth(
                self.right.evaluate(env), self.right)
        a, b = self.left.evaluate(env), self.right.evaluate(env)
        if self.op == "==":
            return a == b
        if self.op == "!=":
            return a != b
        if self.op in ("in", "not in"):
            if b is None:
                raise MissingValue(self.right.names() or {"null"})
            try:
                found = a in b
            except TypeError as exc:
                raise EvaluationError(f"cannot test membership in {type(b).__name__}") from exc
            return found if self.op == "in" else not found
        if a is None or b is None:
            raise MissingValue(_null_names((self.left, self.right), (a, b)))
        try:
            if self.op in _ARITH:
                return _ARITH[self.op](a, b)
            return _ORDER[self.op](a, b)
        except (TypeError, ArithmeticError, InvalidOperation) as exc:
            raise EvaluationError(f"{self.op}: {exc}") from exc

    def names(self) -> set[str]:
        return self.left.names() | self.right.names()

    def calls(self) -> set[str]:
        return self.left.calls() | self.right.calls()


@dataclass(frozen=True)
class Conditional(Node):
    then: Node
    condition: Node
    otherwise: Node

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        if _truth(self.condition.evaluate(env), self.condition):
            return self.then.evaluate(env)
        return self.otherwise.evaluate(env)

    def names(self) -> set[str]:
        return self.then.names() | self.condition.names() | self.otherwise.names()

    def calls(self) -> set[str]:
        return self.then.calls() | self.condition.calls() | self.otherwise.calls()


# --- tokens and parser ------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|[<>+\-*/(),\[\]])
""", re.VERBOSE)
KEYWORDS = {"and", "or", "not", "in", "if", "else", "true", "false", "null"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    at: int


def _tokens(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ExpressionError(f"unexpected character {text[pos]!r} at {pos + 1}")
        kind = match.lastgroup or ""
        if kind != "space":
            value = match.group()
            if kind == "name" and value in KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, value, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token.kind in ("op", "keyword") and token.text == text:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            token = self.peek()
            raise ExpressionError(f"expected {text!r} at {token.at + 1}, found "
                                  f"{token.text or 'the end'!r}")

    def parse(self) -> Node:
        node = self.expr()
        if self.peek().kind != "end":
            token = self.peek()
            raise ExpressionError(f"unexpected {token.text!r} at {token.at + 1}")
        return node

    def expr(self) -> Node:
        node = self.or_()
        if self.accept("if"):
            condition = self.or_()
            self.expect("else")
            return Conditional(node, condition, self.expr())
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.accept("or"):
            node = Binary("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.accept("and"):
            node = Binary("and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.accept("not"):
            return Unary("not", self.not_())
        return self.compare()

    def compare(self) -> Node:
        node = self.sum()
        token = self.peek()
        if token.kind == "op" and token.text in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            return Binary(token.text, node, self.sum())
        if self.accept("in"):
            return Binary("in", node, self.sum())
        if token.kind == "keyword" and token.text == "not" and self.peek(1).text == "in":
            self.i += 2
            return Binary("not in", node, self.sum())
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            node = Binary(self.take().text, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("*", "/"):
            node = Binary(self.take().text, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.accept("-"):
            return Unary("-", self.unary())
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Const(Decimal(token.text))
        if token.kind == "string":
            return Const(re.sub(r"\\(.)", r"\1", token.text[1:-1]))
        if token.kind == "keyword" and token.text in ("true", "false", "null"):
            return Const({"true": True, "false": False, "null": None}[token.text])
        if token.kind == "name":
            if self.accept("("):
                return Call(token.text, self.arguments(")"))
            return Name(token.text)
        if token.kind == "op" and token.text == "[":
            return ListNode(self.arguments("]"))
        if token.kind == "op" and token.text == "(":
            node = self.expr()
            self.expect(")")
            return node
        raise ExpressionError(f"unexpected {token.text or 'end of rule'!r} at {token.at + 1}")

    def arguments(self, closing: str) -> tuple[Node, ...]:
        items: list[Node] = []
        if self.accept(closing):
            return ()
        while True:
            items.append(self.expr())
            if self.accept(closing):
                return tuple(items)
            self.expect(",")


@lru_cache(maxsize=4096)
def parse(text: str) -> Node:
    """The tree of ``text``; raises ``ExpressionError`` with the position of the problem."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("empty rule")
    return _Parser(text).parse()


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    return parse(text).evaluate(env)


def unknown_names(text: str, known: Iterable[str],
                  functions: Iterable[str] = ()) -> tuple[set[str], set[str]]:
    """Names and functions the rule uses that the case type does not define (load-time check)."""
    tree = parse(text)
    return (tree.names() - set(known),
            tree.calls() - set(FUNCTIONS) - set(functions))


def to_value(value: Any) -> Any:
    """A field value as rules see it: numbers as Decimal, dates kept, the rest unchanged."""
    if isinstance(value, dt.date | str | bool | list | dict) or value is None:
        return value
    return _number(value)
