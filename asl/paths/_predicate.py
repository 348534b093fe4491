"""Filter predicates (``[?(...)]``): compiled nodes and Jayway's operator semantics.

The nodes are built once by :mod:`asl.paths._predicate_syntax`; :meth:`test` runs per array
element. Operators are one table keyed by their Jayway name (:data:`OPERATORS`), each a small
function of the two operand values. Facts from Jayway's README ("Filter Operators") and its
``EvaluatorFactory``:

- ``==`` compares numbers by value, strings, booleans, ``null`` and JSON values structurally;
  the README notes "1 is not equal to '1'", so values of different types are never equal;
- ``<``, ``<=``, ``>``, ``>=`` compare two numbers or two strings, anything else is false;
- ``=~`` matches the whole string (Java ``Matcher.matches``) against ``/regex/flags``;
- ``in``, ``nin``, ``subsetof``, ``anyof``, ``noneof`` need JSON arrays (``nin`` is ``not in``);
- ``size`` is the length of a string or array; ``empty`` asks whether it is zero;
- an operand path that selects nothing is *undefined*: equal to nothing, so ``!=`` holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from asl.paths._evaluate import Miss, Plan, evaluate

__all__ = [
    "OPERATORS",
    "UNDEFINED",
    "Compare",
    "Conjunction",
    "Constant",
    "Disjunction",
    "Exists",
    "Not",
    "Operand",
    "PathOperand",
    "PredicateNode",
    "same",
]

#: What an operand path that selects nothing evaluates to (Jayway ``UndefinedNode``).
UNDEFINED: Any = object()


def _is_number(value: Any) -> bool:
    # bool first: isinstance(True, int) is True, but JSON true is not a number.
    return isinstance(value, int | float) and not isinstance(value, bool)


def same(left: Any, right: Any) -> bool:
    """Jayway equality of two JSON values: numbers by value, never across types."""
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if type(left) is not type(right) or left is UNDEFINED:
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[key], right[key]) for key in left)
    return bool(left == right)


def _equal(left: Any, right: Any) -> bool:
    return same(left, right)


def _not_equal(left: Any, right: Any) -> bool:
    return not same(left, right)


def _ordered(left: Any, right: Any) -> bool:
    """Whether Jayway orders these two values: two numbers or two strings."""
    if _is_number(left):
        return _is_number(right)
    return isinstance(left, str) and isinstance(right, str)


def _less(left: Any, right: Any) -> bool:
    return _ordered(left, right) and left < right


def _less_equal(left: Any, right: Any) -> bool:
    return _ordered(left, right) and left <= right


def _greater(left: Any, right: Any) -> bool:
    return _ordered(left, right) and left > right


def _greater_equal(left: Any, right: Any) -> bool:
    return _ordered(left, right) and left >= right


def _regex_input(value: Any) -> str:
    """Jayway's ``getInput``: the text a pattern is matched against (else the empty string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return str(value) if _is_number(value) else ""


def _matches(left: Any, right: Any) -> bool:
    # Exactly one side must be a pattern (Jayway: either order).
    if isinstance(left, re.Pattern) == isinstance(right, re.Pattern):
        return False
    pattern, value = (left, right) if isinstance(left, re.Pattern) else (right, left)
    return pattern.fullmatch(_regex_input(value)) is not None


def _contains(items: list[Any], value: Any) -> bool:
    return any(same(item, value) for item in items)


def _in(left: Any, right: Any) -> bool:
    return isinstance(right, list) and _contains(right, left)


def _not_in(left: Any, right: Any) -> bool:
    return not _in(left, right)


def _subset_of(left: Any, right: Any) -> bool:
    lists = isinstance(left, list) and isinstance(right, list)
    return lists and all(_contains(right, item) for item in left)


def _any_of(left: Any, right: Any) -> bool:
    lists = isinstance(left, list) and isinstance(right, list)
    return lists and any(_contains(right, item) for item in left)


def _none_of(left: Any, right: Any) -> bool:
    lists = isinstance(left, list) and isinstance(right, list)
    return lists and not any(_contains(right, item) for item in left)


def _all(left: Any, right: Any) -> bool:
    """``all``: right is a subset of left (Jayway ``ALL``)."""
    return _subset_of(right, left)


def _has(left: Any, right: Any) -> bool:
    """``contains``: a string contains a string, or an array contains a value."""
    if isinstance(left, str):
        return isinstance(right, str) and right in left
    return isinstance(left, list) and _contains(left, right)


def _size(left: Any, right: Any) -> bool:
    # Jayway truncates the expected size to an int; objects have no size (-1).
    if not _is_number(right) or not isinstance(left, str | list):
        return False
    return len(left) == int(right)


def _empty(left: Any, right: Any) -> bool:
    if not isinstance(right, bool) or not isinstance(left, str | list | dict):
        return False
    return (len(left) == 0) == right


Operator = Callable[[Any, Any], bool]

#: Every relational operator, keyed by its lower-case spelling (Jayway reads them
#: case-insensitively). ``===``/``!==`` are Jayway's type-safe forms; with equality that
#: never crosses types they are the same as ``==``/``!=``.
OPERATORS: dict[str, Operator] = {
    "==": _equal,
    "!=": _not_equal,
    "===": _equal,
    "!==": _not_equal,
    "<": _less,
    "<=": _less_equal,
    ">": _greater,
    ">=": _greater_equal,
    "=~": _matches,
    "in": _in,
    "nin": _not_in,
    "subsetof": _subset_of,
    "anyof": _any_of,
    "noneof": _none_of,
    "all": _all,
    "contains": _has,
    "size": _size,
    "empty": _empty,
}


# --- operands -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)  # identity: a list or dict value is unhashable
class Constant:
    """A literal: string, number, boolean, null, JSON array/object or ``/regex/``."""

    value: Any
    """The value (a compiled ``re.Pattern`` for a regex literal)."""

    def value_in(self, item: Any, root: Any) -> Any:
        """The literal itself."""
        return self.value


@dataclass(frozen=True, slots=True)
class PathOperand:
    """``@...`` (from the current item) or ``$...`` (from the document root)."""

    start: Literal["item", "root"]
    """Where the sub-path starts."""
    plan: Plan
    """The compiled sub-path."""
    keys: tuple[str | int, ...] | None
    """The lookup keys when the sub-path selects a single node (``@.price``), else ``None``:
    such sub-paths, the usual ones, skip the general evaluator."""

    def value_in(self, item: Any, root: Any) -> Any:
        """The selected value, a list for an indefinite sub-path, or :data:`UNDEFINED`."""
        node = item if self.start == "item" else root
        if self.keys is None:
            try:
                return evaluate(self.plan, node, root)
            except Miss:
                return UNDEFINED
        for key in self.keys:
            # Same outcome as the evaluator: a name needs an object, an index an array.
            if isinstance(key, str):
                if not isinstance(node, dict) or key not in node:
                    return UNDEFINED
            elif not isinstance(node, list) or not -len(node) <= key < len(node):
                return UNDEFINED
            node = node[key]
        return node

    def exists_in(self, item: Any, root: Any) -> bool:
        """Jayway's existence check (``[?(@.isbn)]``): a definite sub-path must select a
        value (``null`` counts); an indefinite one must select at least one."""
        found = self.value_in(item, root)
        return found is not UNDEFINED and (self.plan.definite or bool(found))


Operand = Constant | PathOperand


# --- predicate nodes ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compare:
    """``left <operator> right``."""

    left: Operand
    """The left operand."""
    operator: str
    """The operator's key in :data:`OPERATORS`."""
    right: Operand
    """The right operand."""
    function: Operator
    """``OPERATORS[operator]``, looked up once at compile time."""

    def test(self, item: Any, root: Any) -> bool:
        """Apply the operator to both operand values."""
        return self.function(self.left.value_in(item, root), self.right.value_in(item, root))


@dataclass(frozen=True, slots=True)
class Exists:
    """A sub-path alone: ``[?(@.isbn)]``."""

    path: PathOperand
    """The sub-path that must select something."""

    def test(self, item: Any, root: Any) -> bool:
        """Whether the sub-path selects something."""
        return self.path.exists_in(item, root)


@dataclass(frozen=True, slots=True)
class Not:
    """``!operand``."""

    inner: PredicateNode
    """The negated predicate."""

    def test(self, item: Any, root: Any) -> bool:
        """The negation."""
        return not self.inner.test(item, root)


@dataclass(frozen=True, slots=True)
class Conjunction:
    """``a && b && ...``."""

    items: tuple[PredicateNode, ...]
    """The conjuncts, tested left to right until one fails."""

    def test(self, item: Any, root: Any) -> bool:
        """Whether every conjunct holds."""
        return all(node.test(item, root) for node in self.items)


@dataclass(frozen=True, slots=True)
class Disjunction:
    """``a || b || ...``."""

    items: tuple[PredicateNode, ...]
    """The disjuncts, tested left to right until one holds."""

    def test(self, item: Any, root: Any) -> bool:
        """Whether some disjunct holds."""
        return any(node.test(item, root) for node in self.items)


PredicateNode = Compare | Exists | Not | Conjunction | Disjunction
