"""Rules on Choice rules (SPEC §Choice State).

A JSONPath rule is either a data-test expression (``Variable`` plus exactly one comparison
operator) or a Boolean expression (exactly one of ``And``/``Or``/``Not``). Top-level rules
MUST have ``Next``; nested rules MUST NOT.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from asl.validate.diagnostics import Diagnostic, error, warning
from asl.validate.rules.walk import Machine, StateRef, pointer_join

__all__ = ["COMPARISONS", "check_choice_rules"]

_GROUPS = ("String", "Numeric", "Timestamp")
_RELATIONS = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
_LITERAL = (*(group + relation for group in _GROUPS for relation in _RELATIONS), "BooleanEquals")
#: Every data-test comparison operator (SPEC §Data-test expression; SPEC.md A.7).
COMPARISONS = frozenset(
    (
        *_LITERAL,
        *(op + "Path" for op in _LITERAL),
        "StringMatches",
        "IsNull",
        "IsPresent",
        "IsNumeric",
        "IsString",
        "IsBoolean",
        "IsTimestamp",
    )
)
_BOOLEAN = ("And", "Or", "Not")
_SCHEMA = "SCHEMA_VALIDATION_FAILED"
_LOOKS_LIKE_PATH = re.compile(r"^\$\$?(\.|\[)")


def check_choice_rules(machine: Machine) -> Iterator[Diagnostic]:
    """Check the shape of every rule of every Choice state."""
    for state in machine.states:
        rules = state.body.get("Choices") if state.type == "Choice" else None
        if not isinstance(rules, list):
            continue
        for index, rule in enumerate(rules):
            if isinstance(rule, Mapping):
                yield from _rule(state, rule, state.at("Choices", index), top=True)


def _rule(
    state: StateRef, rule: Mapping[str, Any], where: str, *, top: bool
) -> Iterator[Diagnostic]:
    if top and "Next" not in rule:
        yield error(
            _SCHEMA, "A Choice rule must have 'Next' (the state to go to when it matches).", where
        )
    if not top and "Next" in rule:
        yield error(
            _SCHEMA,
            "Only top-level Choice rules may have 'Next'; nested rules inside And/Or/Not may not.",
            pointer_join(where, "Next"),
        )
    if state.language != "JSONPath":
        return
    operators = [key for key in rule if key in COMPARISONS]
    combinators = [key for key in rule if key in _BOOLEAN]
    if "Variable" in rule or operators:
        yield from _data_test(rule, where, operators, combinators)
    elif len(combinators) != 1:
        found = " and ".join(combinators) or "none"
        yield error(
            _SCHEMA,
            "A Choice rule needs 'Variable' with one comparison operator, or "
            f"exactly one of 'And', 'Or', 'Not' (found {found}).",
            where,
        )
    for key in ("And", "Or"):
        if isinstance(rule.get(key), list):
            for index, nested in enumerate(rule[key]):
                if isinstance(nested, Mapping):
                    yield from _rule(state, nested, pointer_join(where, key, index), top=False)
    if isinstance(rule.get("Not"), Mapping):
        yield from _rule(state, rule["Not"], pointer_join(where, "Not"), top=False)


def _data_test(
    rule: Mapping[str, Any], where: str, operators: list[str], combinators: list[str]
) -> Iterator[Diagnostic]:
    if "Variable" not in rule:
        yield error(_SCHEMA, f"'{operators[0]}' needs a 'Variable' to compare.", where)
    if len(operators) != 1:
        found = ", ".join(operators) or "none"
        yield error(
            _SCHEMA,
            f"A Choice rule with 'Variable' needs exactly one comparison operator (found {found}).",
            where,
        )
    for key in combinators:
        yield error(
            _SCHEMA,
            f"'{key}' cannot be combined with 'Variable' in the same rule; "
            "nest the comparison inside it.",
            pointer_join(where, key),
        )
    for op in operators:
        value = rule[op]
        if op in _LITERAL and isinstance(value, str) and _LOOKS_LIKE_PATH.match(value):
            yield warning(
                "NO_PATH",
                f"'{op}' compares with the literal text {value!r}, which "
                f"looks like a path; did you mean '{op}Path'?",
                pointer_join(where, op),
            )
