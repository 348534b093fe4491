"""What makes a rule take a path (``asl mock init``): the values that make a Choice rule
match or not (:func:`witness`), JSONata Conditions that have a JSONPath equivalent
(:func:`jsonata_rule`), and the errors that reach a Catch or a Retry (:func:`error_for`,
:func:`attempts`). Each answer is a guess that a run of the mocks confirms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from runtime.testing.mockinit.forcing import ABSENT, reference

__all__ = [
    "MISSING",
    "TERMINAL",
    "attempts",
    "error_for",
    "handles",
    "jsonata_rule",
    "witness",
]

#: Errors no Retry or Catch handles, wildcards included.
TERMINAL = ("States.Runtime", "States.DataLimitExceeded")
#: The errors tried for a catcher or retrier on a wildcard, in order.
_WILDCARD_ERRORS = ("States.TaskFailed", "States.Timeout", "Mock.UnexpectedError")
#: A value a run did not show.
MISSING = object()

# -- Choice rules --------------------------------------------------------------------------

_UNFORCEABLE = object()
Assignment = list[tuple[str, Any]]

_STRING: dict[str, Callable[[Any, bool], Any]] = {
    "StringEquals": lambda x, want: x if want else x + "-other",
    "StringLessThan": lambda x, want: ("" if x else None) if want else x,
    "StringGreaterThan": lambda x, want: x + "z" if want else x,
    "StringLessThanEquals": lambda x, want: x if want else x + "z",
    "StringGreaterThanEquals": lambda x, want: x if want else ("" if x else None),
}
_NUMBER: dict[str, Callable[[Any, bool], Any]] = {
    "NumericEquals": lambda n, want: n if want else n + 1,
    "NumericLessThan": lambda n, want: n - 1 if want else n,
    "NumericGreaterThan": lambda n, want: n + 1 if want else n,
    "NumericLessThanEquals": lambda n, want: n if want else n + 1,
    "NumericGreaterThanEquals": lambda n, want: n if want else n - 1,
}
_EARLY, _LATE = "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"
_TIME: dict[str, Callable[[Any, bool], Any]] = {
    "TimestampEquals": lambda t, want: t if want else (_EARLY if t != _EARLY else _LATE),
    "TimestampLessThan": lambda t, want: _EARLY if want else t,
    "TimestampGreaterThan": lambda t, want: _LATE if want else t,
    "TimestampLessThanEquals": lambda t, want: t if want else _LATE,
    "TimestampGreaterThanEquals": lambda t, want: t if want else _EARLY,
}
_TYPES = {
    "IsString": ("text", 0),
    "IsNumeric": (1, "text"),
    "IsBoolean": (True, "text"),
    "IsTimestamp": ("2026-01-01T00:00:00Z", "text"),
    "IsNull": (None, "text"),
}


def witness(rule: Mapping[str, Any], want: bool = True) -> Assignment | None:
    """Values at input paths that make ``rule`` evaluate to ``want``, or None when no
    value the mocks can give does (paths into the context, path comparisons, IsPresent
    false...)."""
    if "And" in rule or "Or" in rule:
        subs = rule.get("And") or rule.get("Or") or []
        every = ("And" in rule) == want  # And true / Or false: all must hold
        return _all(subs, want) if every else _first(subs, want)
    if "Not" in rule:
        return witness(rule["Not"], not want)
    variable = rule.get("Variable")
    if reference(variable) is None:
        return None
    value = _data_test(rule, want)
    return None if value is _UNFORCEABLE else [(str(variable), value)]


def _all(subs: list[Any], want: bool) -> Assignment | None:
    found: Assignment = []
    for sub in subs:
        part = witness(sub, want)
        if part is None:
            return None
        found += part
    return found


def _first(subs: list[Any], want: bool) -> Assignment | None:
    for sub in subs:
        part = witness(sub, want)
        if part is not None:
            return part
    return None


def _data_test(rule: Mapping[str, Any], want: bool) -> Any:
    for name, operand in rule.items():
        if name in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        if name.endswith("Path"):
            return _UNFORCEABLE  # compared with another path of the input
        value = _operator_value(name, operand, want)
        if value is None and name != "IsNull":
            return _UNFORCEABLE
        return value if _holds({name: operand}, value) is want else _UNFORCEABLE
    return _UNFORCEABLE


def _holds(test: Mapping[str, Any], value: Any) -> bool | None:
    """What the data test says of ``value``, as the engine's compiled rule evaluates it."""
    from asl.choice import compile_choice_rule
    from asl.errors import ASLError

    try:
        data = {} if value is ABSENT else {"v": value}
        return compile_choice_rule({"Variable": "$.v", **test}).evaluate(data, {}, {})
    except (ASLError, ValueError):
        return None


def _operator_value(name: str, operand: Any, want: bool) -> Any:
    if name in _STRING and isinstance(operand, str):
        return _STRING[name](operand, want)
    if name in _NUMBER and isinstance(operand, int | float) and not isinstance(operand, bool):
        return _NUMBER[name](operand, want)
    if name in _TIME and isinstance(operand, str):
        return _TIME[name](operand, want)
    if name == "BooleanEquals" and isinstance(operand, bool):
        return operand if want else not operand
    if name == "StringMatches" and isinstance(operand, str):
        example = re.sub(r"(?<!\\)\*", "x", operand).replace("\\*", "*").replace("\\\\", "\\")
        return example if want else "\u00a7" + example + "\u00a7"
    if name == "IsPresent":
        return "present" if operand == want else ABSENT
    if name in _TYPES and isinstance(operand, bool):
        yes, no = _TYPES[name]
        return yes if operand == want else no
    return None


# -- JSONata Conditions ------------------------------------------------------------

_SIDE = (
    r"(\$states\.input(?:\.[A-Za-z_]\w*)*|\$(?!states\b)[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
    r"|'[^']*'|\"[^\"]*\"|-?\d+(?:\.\d+)?|true|false)"
)

_JSONATA_TEST = re.compile(rf"^\{{%\s*{_SIDE}\s*(=|!=|>=|<=|>|<)\s*{_SIDE}\s*%\}}$")

_JSONATA_OPS = {
    ("=", "str"): "StringEquals",
    ("=", "num"): "NumericEquals",
    ("=", "bool"): "BooleanEquals",
    (">", "num"): "NumericGreaterThan",
    ("<", "num"): "NumericLessThan",
    (">=", "num"): "NumericGreaterThanEquals",
    ("<=", "num"): "NumericLessThanEquals",
}

_FLIPPED = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "=": "=", "!=": "!="}


def jsonata_rule(condition: Any, value_of: Callable[[str], Any]) -> Mapping[str, Any] | None:
    """A JSONata Condition ``A OP B`` (a path of ``$states.input`` or a variable compared
    with a literal, or with another such path whose value the run showed) as the JSONPath
    rule it is equivalent to, so that its witness can be computed; else None."""
    matched = _JSONATA_TEST.match(condition) if isinstance(condition, str) else None
    if matched is None:
        return None
    left, op, right = matched.group(1), matched.group(2), matched.group(3)
    if not left.startswith("$"):
        left, right, op = right, left, _FLIPPED[op]
    if not left.startswith("$"):
        return None
    variable = "$" + left[len("$states.input") :] if left.startswith("$states.") else left
    literal = value_of(_as_path(right)) if right.startswith("$") else _literal(right)
    if literal is MISSING or literal is None:
        return None
    kind = "bool" if isinstance(literal, bool) else "str" if isinstance(literal, str) else "num"
    operator = _JSONATA_OPS.get(("=" if op == "!=" else op, kind))
    if operator is None:
        return None
    rule = {"Variable": variable, operator: literal}
    return {"Not": rule} if op == "!=" else rule


def _as_path(side: str) -> str:
    return "$" + side[len("$states.input") :] if side.startswith("$states.") else side


def _literal(text: str) -> Any:
    return json.loads('"' + text[1:-1] + '"') if text[0] in "'\"" else json.loads(text)


# -- Catch and Retry ------------------------------------------------------------


def handles(error: str, names: list[str]) -> bool:
    """Whether a Retry or Catch on ``names`` handles ``error`` (States.ALL handles all but
    the terminal errors; States.TaskFailed all but States.Timeout)."""
    for name in names:
        if name == error:
            return True
        if name == "States.ALL" and error not in TERMINAL:
            return True
        if name == "States.TaskFailed" and error not in (*TERMINAL, "States.Timeout"):
            return True
    return False


def error_for(names: list[str], earlier: list[Any]) -> str | None:
    """An error ``names`` handles and no earlier catcher does: a named one first."""
    wild = ("States.ALL", "States.TaskFailed")
    options = [n for n in names if n not in wild and n not in TERMINAL]
    for error in [*options, *_WILDCARD_ERRORS]:
        if handles(error, names) and not any(
            handles(error, c.get("ErrorEquals", [])) for c in earlier
        ):
            return error
    return None


def attempts(raw: Mapping[str, Any], error: str) -> int:
    """Invocations of a Task that fail with ``error`` before its Retry gives up."""
    for retrier in raw.get("Retry") or []:
        if handles(error, retrier.get("ErrorEquals", [])):
            return 1 + int(retrier.get("MaxAttempts", 3))
    return 1
