"""JSONPath-mode Choice rules compiled into immutable, callable conditions.

SPEC §Choice Rules: a rule is either a Boolean expression (``And``/``Or`` over a
non-empty array of rules, ``Not`` over one rule) or a data-test expression: a
``Variable`` path plus exactly one comparison operator (SPEC.md A.7). This module turns a
rule into a :class:`Condition` once, when the machine is loaded; evaluating it reads
the paths and compares, and never parses text.

Facts from AWS that shape the code (conformance operator tables, recorded on AWS):

- a value of the wrong type makes a comparison false, never an error; booleans are not
  numbers; ``0`` equals ``0.0``;
- a ``Variable`` or ``...Path`` operand that selects nothing fails the execution with
  ``States.Runtime`` and the cause ``Invalid path '<path>': The choice state's condition
  path references an invalid value.``, except for ``IsPresent``, which is then false;
- ``Is*`` operators take a boolean: ``"IsString": false`` means "is not a string".
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from asl.errors import ExpressionSyntaxError, StatesError
from asl.paths import Path, PathNotFound, compile_path
from asl.timestamps import is_timestamp, timestamp_key

__all__ = ["OPERATORS", "Condition", "compile_choice_rule", "compile_glob", "invalid_path_cause"]

#: Keys a rule may carry that play no part in its truth value.
_IGNORED_KEYS = frozenset({"Next", "Assign", "Comment"})
_BOOLEAN_KEYS = ("And", "Or", "Not")

Predicate = Callable[[Any], bool]
Relation = Callable[[Any, Any], bool]
Coerce = Callable[[Any], Any]


def invalid_path_cause(path: str) -> str:
    """AWS's cause when a Choice rule's path selects nothing (runtime adds the state prefix)."""
    return f"Invalid path '{path}': The choice state's condition path references an invalid value."


# --------------------------------------------------------------------------- conditions


class Condition:
    """A compiled Choice rule; ``evaluate`` says whether it holds for the given values."""

    __slots__ = ()

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> bool:
        """Return the rule's truth value for ``data`` (``$``), ``context`` (``$$``), variables."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Operand:
    """A compiled ``Variable`` or ``...Path`` value with its source text for error causes."""

    text: str
    path: Path

    def resolve(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        """Return the selected value; a path selecting nothing is a ``States.Runtime`` failure."""
        try:
            return self.path.get(data, context, variables)
        except PathNotFound:
            raise StatesError("States.Runtime", invalid_path_cause(self.text)) from None


@dataclass(frozen=True, slots=True)
class AllOf(Condition):
    """``And``: true when every rule holds; stops at the first false one."""

    rules: tuple[Condition, ...]

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> bool:
        return all(rule.evaluate(data, context, variables) for rule in self.rules)


@dataclass(frozen=True, slots=True)
class AnyOf(Condition):
    """``Or``: true when some rule holds; stops at the first true one."""

    rules: tuple[Condition, ...]

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> bool:
        return any(rule.evaluate(data, context, variables) for rule in self.rules)


@dataclass(frozen=True, slots=True)
class Negation(Condition):
    """``Not``: true when the rule does not hold."""

    rule: Condition

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> bool:
        return not self.rule.evaluate(data, context, variables)


@dataclass(frozen=True, slots=True)
class Presence(Condition):
    """``IsPresent``: whether ``Variable`` selects something, compared with ``expected``."""

    variable: _Operand
    expected: bool

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> bool:
        return self.variable.path.exists(data, context, variables) is self.expected


@dataclass(frozen=True, slots=True)
class TypeTest(Condition):
    """``IsNull``/``IsNumeric``/``IsString``/``IsBoolean``/``IsTimestamp`` with its boolean."""

    variable: _Operand
    test: Predicate
    expected: bool

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> bool:
        return self.test(self.variable.resolve(data, context, variables)) is self.expected


@dataclass(frozen=True, slots=True)
class LiteralComparison(Condition):
    """``Variable`` compared with a literal: both sides coerced to one family's keys."""

    variable: _Operand
    coerce: Coerce
    relation: Relation
    literal: Any

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> bool:
        key = self.coerce(self.variable.resolve(data, context, variables))
        return key is not None and self.relation(key, self.literal)


@dataclass(frozen=True, slots=True)
class PathComparison(Condition):
    """``Variable`` compared with the value another path selects (``...Path`` operators)."""

    variable: _Operand
    operand: _Operand
    coerce: Coerce
    relation: Relation

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> bool:
        left = self.coerce(self.variable.resolve(data, context, variables))
        right = self.coerce(self.operand.resolve(data, context, variables))
        return left is not None and right is not None and self.relation(left, right)


@dataclass(frozen=True, slots=True)
class Glob:
    """A ``StringMatches`` pattern: literal pieces around unescaped ``*`` wildcards.

    Matching is linear: the first and last pieces anchor the ends, and each middle
    piece is found left-most after the previous one. Left-most is always right for a
    pattern whose only wildcard is ``*``, so there is no backtracking.
    """

    pieces: tuple[str, ...]

    def matches(self, text: str) -> bool:
        """True when ``text`` matches the whole pattern."""
        pieces = self.pieces
        if len(pieces) == 1:
            return text == pieces[0]
        head, tail = pieces[0], pieces[-1]
        end = len(text) - len(tail)
        if end < len(head) or not text.startswith(head) or not text.endswith(tail):
            return False
        position = len(head)
        for piece in pieces[1:-1]:
            found = text.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True


@dataclass(frozen=True, slots=True)
class PatternMatch(Condition):
    """``StringMatches``: a string ``Variable`` matched against a compiled glob."""

    variable: _Operand
    glob: Glob

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> bool:
        value = self.variable.resolve(data, context, variables)
        return isinstance(value, str) and self.glob.matches(value)


def compile_glob(pattern: str) -> Glob:
    """Compile a ``StringMatches`` pattern; raise ExpressionSyntaxError on a dangling ``\\``.

    SPEC §Choice Rules: ``*`` matches any run of characters; ``\\*`` is a literal star and
    ``\\\\`` a literal backslash. No other character is special; a backslash takes the
    next character literally whatever it is.
    """
    pieces: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            if index + 1 == len(pattern):
                raise ExpressionSyntaxError("Dangling escape character '\\'", pattern, index)
            current.append(pattern[index + 1])
            index += 2
            continue
        if char == "*":
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    pieces.append("".join(current))
    return Glob(tuple(pieces))


# ------------------------------------------------------------------ operator families


def _as_string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _as_number(value: Any) -> int | float | None:
    kind = type(value)
    if kind is int or kind is float:
        return value  # type: ignore[no-any-return]
    # bool is a subclass of int in Python; JSON true is not a number (conformance
    # numeric_equals: true vs 1 is false).
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def _as_boolean(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _as_instant(value: Any) -> int | None:
    return timestamp_key(value) if isinstance(value, str) else None


def _string_order(left: str, right: str) -> int:
    """Compare as Java's ``String.compareTo`` does: by UTF-16 code unit, not code point.

    The two orders differ only where a character above U+FFFF (a surrogate pair in
    UTF-16, units D800-DFFF) meets one in U+E000-U+FFFF; if either string is ASCII
    that cannot happen and Python's own comparison is used.
    """
    if left == right:
        return 0
    if left.isascii() or right.isascii():
        return -1 if left < right else 1
    left_units = left.encode("utf-16-be", "surrogatepass")
    right_units = right.encode("utf-16-be", "surrogatepass")
    return -1 if left_units < right_units else 1


_ORDERED_RELATIONS: dict[str, Relation] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}

_STRING_RELATIONS: dict[str, Relation] = {
    "Equals": operator.eq,
    "LessThan": lambda a, b: _string_order(a, b) < 0,
    "GreaterThan": lambda a, b: _string_order(a, b) > 0,
    "LessThanEquals": lambda a, b: _string_order(a, b) <= 0,
    "GreaterThanEquals": lambda a, b: _string_order(a, b) >= 0,
}


@dataclass(frozen=True, slots=True)
class _Family:
    """One comparison family: how values become comparable keys, and its relations."""

    kind: str
    coerce: Coerce
    relations: Mapping[str, Relation]


_FAMILIES: tuple[tuple[str, _Family], ...] = (
    ("String", _Family("a string", _as_string, _STRING_RELATIONS)),
    ("Numeric", _Family("a number", _as_number, _ORDERED_RELATIONS)),
    ("Timestamp", _Family("a timestamp string", _as_instant, _ORDERED_RELATIONS)),
    ("Boolean", _Family("a boolean", _as_boolean, {"Equals": operator.eq})),
)

_TYPE_TESTS: dict[str, Predicate] = {
    "IsNull": lambda value: value is None,
    "IsNumeric": lambda value: _as_number(value) is not None,
    "IsString": lambda value: isinstance(value, str),
    "IsBoolean": lambda value: isinstance(value, bool),
    "IsTimestamp": is_timestamp,
}


# -------------------------------------------------------------------------- compiling

_Builder = Callable[[_Operand, Any, str], Condition]


def _literal_builder(family: _Family, relation: Relation) -> _Builder:
    def build(variable: _Operand, operand: Any, name: str) -> Condition:
        literal = family.coerce(operand)
        if literal is None:
            raise _rule_error(f"'{name}' must be {family.kind}", operand)
        return LiteralComparison(variable, family.coerce, relation, literal)

    return build


def _path_builder(family: _Family, relation: Relation) -> _Builder:
    def build(variable: _Operand, operand: Any, name: str) -> Condition:
        return PathComparison(variable, _compile_operand(operand, name), family.coerce, relation)

    return build


def _type_builder(test: Predicate) -> _Builder:
    def build(variable: _Operand, operand: Any, name: str) -> Condition:
        return TypeTest(variable, test, _boolean_operand(operand, name))

    return build


def _build_presence(variable: _Operand, operand: Any, name: str) -> Condition:
    return Presence(variable, _boolean_operand(operand, name))


def _build_matches(variable: _Operand, operand: Any, name: str) -> Condition:
    if not isinstance(operand, str):
        raise _rule_error(f"'{name}' must be a string", operand)
    return PatternMatch(variable, compile_glob(operand))


def _builders() -> dict[str, _Builder]:
    """The dispatch table: every comparison operator name and how to compile it."""
    table: dict[str, _Builder] = {
        "IsPresent": _build_presence,
        "StringMatches": _build_matches,
    }
    for prefix, family in _FAMILIES:
        for suffix, relation in family.relations.items():
            table[prefix + suffix] = _literal_builder(family, relation)
            table[prefix + suffix + "Path"] = _path_builder(family, relation)
    for name, test in _TYPE_TESTS.items():
        table[name] = _type_builder(test)
    return table


_BUILDERS = _builders()

#: Every comparison operator name: literal, ``...Path`` variant and ``Is*`` tests.
OPERATORS: frozenset[str] = frozenset(_BUILDERS)


def compile_choice_rule(rule: Mapping[str, Any]) -> Condition:
    """Compile one JSONPath-mode Choice rule (its ``Next``/``Assign``/``Comment`` ignored).

    Raises ExpressionSyntaxError when the rule is malformed: no or several operators,
    an empty ``And``/``Or``, an operand of the wrong type, or a path that does not parse.
    """
    if not isinstance(rule, Mapping):
        raise _rule_error("A Choice rule must be an object", rule)
    keys = [key for key in rule if key not in _IGNORED_KEYS]
    boolean = [key for key in keys if key in _BOOLEAN_KEYS]
    if boolean:
        if len(keys) != 1:
            raise _rule_error(f"'{boolean[0]}' must be the only condition in its rule", rule)
        return _compile_boolean(boolean[0], rule[boolean[0]])
    return _compile_data_test(rule, keys)


def _compile_boolean(name: str, operand: Any) -> Condition:
    """Compile ``And``/``Or`` (a non-empty array of rules) or ``Not`` (one rule)."""
    if name == "Not":
        return Negation(compile_choice_rule(operand))
    if not isinstance(operand, list) or not operand:
        raise _rule_error(f"'{name}' must be a non-empty array of rules", operand)
    rules = tuple(compile_choice_rule(item) for item in operand)
    return AllOf(rules) if name == "And" else AnyOf(rules)


def _compile_data_test(rule: Mapping[str, Any], keys: list[str]) -> Condition:
    """Compile ``Variable`` plus exactly one comparison operator."""
    if "Variable" not in rule:
        raise _rule_error("A Choice rule needs 'Variable' or one of And/Or/Not", rule)
    operators = [key for key in keys if key != "Variable"]
    unknown = [key for key in operators if key not in _BUILDERS]
    if unknown:
        raise _rule_error(f"Unknown field '{unknown[0]}' in a Choice rule", rule)
    if len(operators) != 1:
        raise _rule_error("A Choice rule needs exactly one comparison operator", rule)
    name = operators[0]
    variable = _compile_operand(rule["Variable"], "Variable")
    return _BUILDERS[name](variable, rule[name], name)


def _compile_operand(text: Any, field: str) -> _Operand:
    """Compile a ``Variable``/``...Path`` value; path syntax errors propagate unchanged."""
    if not isinstance(text, str):
        raise _rule_error(f"'{field}' must be a path string", text)
    return _Operand(text, compile_path(text))


def _boolean_operand(operand: Any, name: str) -> bool:
    if not isinstance(operand, bool):
        raise _rule_error(f"'{name}' must be a boolean", operand)
    return operand


def _rule_error(message: str, value: Any) -> ExpressionSyntaxError:
    """An ExpressionSyntaxError showing the offending JSON value."""
    try:
        text = json.dumps(value, sort_keys=False)
    except (TypeError, ValueError):
        text = repr(value)
    return ExpressionSyntaxError(message, text, 0)
