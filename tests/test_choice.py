"""Tests for asl.choice: compiled JSONPath Choice rules, checked against AWS recordings."""

from __future__ import annotations

import fnmatch
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asl.choice import OPERATORS, compile_choice_rule, compile_glob, invalid_path_cause
from asl.errors import ExpressionSyntaxError, StatesError

CASES = Path("/work/shared/conformance/cases")
OPERATOR_TABLES = ("boolean_equals.", "is_operators.", "numeric.", "string_operators.", "timestamp")


def _single_choice_cases() -> list[Any]:
    """Conformance cases whose machine is one JSONPath Choice state leading to Pass states.

    These are LocalStack's operator tables recorded on AWS (363 cases: one machine per
    operator, one case per input) plus a few small scenarios of the same shape.
    """
    params = []
    for file in sorted(CASES.glob("*.json")):
        case = json.loads(file.read_text())
        definition = case["definition"]
        states = definition["States"]
        start = states[definition["StartAt"]]
        others = [state for name, state in states.items() if name != definition["StartAt"]]
        if (
            "Choice" not in case.get("features", [])
            or start["Type"] != "Choice"
            or "QueryLanguage" in start
            or case.get("query_language") != "JSONPath"
            or any(state["Type"] != "Pass" or "Parameters" in state for state in others)
        ):
            continue
        params.append(pytest.param(definition, case, id=case["id"]))
    return params


def _branch_output(definition: dict[str, Any], data: Any) -> Any:
    """Run the Choice state with compiled rules and the Pass state it picks (Result only)."""
    choice = definition["States"][definition["StartAt"]]
    target = choice.get("Default")
    for rule in choice["Choices"]:
        if compile_choice_rule(rule).evaluate(data, {}, {}):
            target = rule["Next"]
            break
    chosen = definition["States"][target]
    return chosen.get("Result", data)


SINGLE_CHOICE_CASES = _single_choice_cases()


def test_the_operator_tables_were_found() -> None:
    tables = [p for p in SINGLE_CHOICE_CASES if str(p.id).startswith(OPERATOR_TABLES)]
    assert len(tables) == 363


@pytest.mark.parametrize(("definition", "case"), SINGLE_CHOICE_CASES)
def test_conformance_choice_branch(definition: dict[str, Any], case: dict[str, Any]) -> None:
    assert case["expected"]["status"] == "SUCCEEDED"
    assert _branch_output(definition, case["input"]) == case["expected"]["output"]


def test_operator_table_has_every_operator() -> None:
    families = ("String", "Numeric", "Timestamp")
    relations = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
    expected = {f + r for f in families for r in relations}
    expected |= {name + "Path" for name in expected}
    expected |= {"BooleanEquals", "BooleanEqualsPath", "StringMatches"}
    expected |= {"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}
    assert expected == OPERATORS


def holds(rule: dict[str, Any], data: Any, variables: dict[str, Any] | None = None) -> bool:
    return compile_choice_rule(rule).evaluate(data, {"State": {"Name": "S"}}, variables or {})


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        ({"Variable": "$.v", "NumericEquals": 1}, {"v": True}, False),
        ({"Variable": "$.v", "NumericEquals": 1}, {"v": 1.0}, True),
        ({"Variable": "$.v", "NumericLessThan": 1.5}, {"v": 1}, True),
        ({"Variable": "$.v", "NumericGreaterThanEquals": 2}, {"v": 2}, True),
        ({"Variable": "$.v", "NumericGreaterThanEqualsPath": "$.w"}, {"v": 2, "w": 2.5}, False),
        ({"Variable": "$.v", "BooleanEquals": False}, {"v": 0}, False),
        ({"Variable": "$.v", "StringLessThanEquals": "b"}, {"v": "b"}, True),
        ({"Variable": "$.v", "StringLessThanPath": "$.w"}, {"v": "a", "w": 1}, False),
        (
            {"Variable": "$.v", "TimestampEquals": "2012-10-09T18:00:55Z"},
            {"v": "2012-10-09T19:00:55+01:00"},
            True,
        ),
        (
            {"Variable": "$.v", "TimestampLessThanPath": "$.w"},
            {"v": "2025-01-01T07:00:00.000-05:00", "w": "2025-01-01T12:00:00Z"},
            False,
        ),
        (
            {"Variable": "$.v", "TimestampLessThanEqualsPath": "$.w"},
            {"v": "2025-01-01T07:00:00.000-05:00", "w": "2025-01-01T12:00:00Z"},
            True,
        ),
        (
            {"Variable": "$.v", "TimestampGreaterThan": "2012-10-09T19:00:55Z"},
            {"v": "not a timestamp"},
            False,
        ),
        (
            {"Variable": "$.v", "TimestampEqualsPath": "$.w"},
            {"v": "2012-10-09T19:00:55Z", "w": "2012-10-09T19:00:55"},
            False,
        ),
        ({"Variable": "$.v", "IsTimestamp": True}, {"v": "2012-10-09T19:00:55Z"}, True),
        ({"Variable": "$.v", "IsTimestamp": True}, {"v": "2012-10-09T19:00:55"}, False),
        ({"Variable": "$.v", "IsTimestamp": False}, {"v": 5}, True),
        ({"Variable": "$.v", "IsNumeric": True}, {"v": False}, False),
        ({"Variable": "$.v", "IsPresent": True}, {"w": 1}, False),
        ({"Variable": "$.v", "IsPresent": False}, {"w": 1}, True),
        ({"Variable": "$.v.x", "IsPresent": False}, {"v": "text"}, True),
        ({"Variable": "$$.State.Name", "StringEquals": "S"}, {}, True),
        ({"Variable": "$var", "NumericEquals": 3}, {}, True),
        ({"Variable": "$.v", "StringEqualsPath": "$var"}, {"v": "x"}, False),
    ],
)
def test_data_tests(rule: dict[str, Any], data: Any, expected: bool) -> None:
    assert holds(rule, data, {"var": 3}) is expected


def test_string_order_follows_utf16_code_units_like_java() -> None:
    # U+1F600 is the surrogate pair D83D DE00 in UTF-16, which sorts below U+FF21.
    assert holds({"Variable": "$.v", "StringLessThan": "\uff21"}, {"v": "\U0001f600"})
    assert not holds({"Variable": "$.v", "StringGreaterThan": "\uff21"}, {"v": "\U0001f600"})
    assert holds({"Variable": "$.v", "StringGreaterThan": "a"}, {"v": "\U0001f600"})


def test_boolean_composition_and_short_circuit() -> None:
    missing = {"Variable": "$.missing", "StringEquals": "x"}
    false = {"Variable": "$.n", "NumericEquals": 2}
    true = {"Variable": "$.n", "NumericEquals": 1}
    data = {"n": 1}
    assert holds({"And": [true, true]}, data)
    assert not holds({"And": [false, missing]}, data)  # the missing path is never read
    assert holds({"Or": [true, missing]}, data)
    assert holds({"Not": false}, data)
    assert holds({"Not": {"Or": [false, {"And": [true, {"Not": false}]}]}}, data) is False
    with pytest.raises(StatesError):
        holds({"Or": [false, missing]}, data)


def test_next_assign_and_comment_are_ignored() -> None:
    rule = {"Variable": "$.n", "NumericEquals": 1, "Next": "X", "Assign": {}, "Comment": "c"}
    assert holds(rule, {"n": 1})
    assert holds({"And": [rule], "Next": "Y", "Comment": "and"}, {"n": 1})


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"Variable": "$.missing", "StringEquals": "x"}, "$.missing"),
        ({"Variable": "$.missing", "IsNull": True}, "$.missing"),
        ({"Variable": "$.v", "TimestampLessThanPath": "$.right"}, "$.right"),
        ({"Variable": "$.v.deeper", "NumericEquals": 1}, "$.v.deeper"),
    ],
)
def test_path_selecting_nothing_is_a_runtime_error(rule: dict[str, Any], path: str) -> None:
    with pytest.raises(StatesError) as raised:
        holds(rule, {"v": "2012-10-09T19:00:55Z"})
    assert raised.value.error == "States.Runtime"
    assert raised.value.cause == invalid_path_cause(path)
    assert raised.value.cause == (
        f"Invalid path '{path}': The choice state's condition path references an invalid value."
    )


@pytest.mark.parametrize(
    "rule",
    [
        {},
        {"Next": "X"},
        {"Variable": "$.v"},
        {"Variable": "$.v", "StringEquals": "a", "StringLessThan": "b"},
        {"Variable": "$.v", "Unknown": 1},
        {"Variable": "$.v", "StringEquals": 1},
        {"Variable": "$.v", "NumericEquals": "1"},
        {"Variable": "$.v", "NumericEquals": True},
        {"Variable": "$.v", "BooleanEquals": "true"},
        {"Variable": "$.v", "TimestampEquals": "2012-10-09"},
        {"Variable": "$.v", "IsNull": "yes"},
        {"Variable": "$.v", "IsPresent": 1},
        {"Variable": "$.v", "StringMatches": 5},
        {"Variable": "$.v", "StringMatches": "abc\\"},
        {"Variable": "$.v", "StringEqualsPath": 5},
        {"Variable": 5, "StringEquals": "a"},
        {"Variable": "no dollar", "StringEquals": "a"},
        {"Variable": "$.v", "StringEqualsPath": "$.["},
        {"And": []},
        {"Or": {}},
        {"Not": []},
        {"And": [{"Variable": "$.v", "IsNull": True}], "Variable": "$.v"},
        {"And": [{"Variable": "$.v", "IsNull": True}], "Not": {"Variable": "$.v", "IsNull": True}},
        {"And": [{"Variable": "$.v"}]},
    ],
)
def test_malformed_rules_raise_syntax_errors(rule: Any) -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_choice_rule(rule)


def test_non_object_rule_raises_syntax_error() -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_choice_rule(["not", "a", "rule"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*", "", True),
        ("*", "anything", True),
        ("log-*.txt", "log-2024.txt", True),
        ("log-*.txt", "log-.txt", True),
        ("log-*.txt", "log-2024.txt.bak", False),
        ("*.txt*", "a.txt.b", True),
        ("a*b*c", "abc", True),
        ("a*b*c", "aXbYbZc", True),
        ("a*b*c", "acb", False),
        ("ab*ba", "aba", False),  # head and tail must not overlap
        ("a\\*b", "a*b", True),
        ("a\\*b", "aXb", False),
        ("a\\\\b", "a\\b", True),
        ("a\\\\*", "a\\xyz", True),
        ("a?c", "abc", False),  # only * is special
        ("[ab]", "a", False),
        ("", "", True),
        ("", "x", False),
        ("**", "x", True),
    ],
)
def test_string_matches(pattern: str, text: str, expected: bool) -> None:
    assert holds({"Variable": "$.v", "StringMatches": pattern}, {"v": text}) is expected


def test_string_matches_on_non_strings_is_false() -> None:
    for value in (None, 1, True, ["a"], {"a": 1}):
        assert not holds({"Variable": "$.v", "StringMatches": "*"}, {"v": value})


def test_string_matches_is_linear_on_adversarial_input() -> None:
    glob = compile_glob("a*" * 50 + "b")
    started = time.perf_counter()
    assert not glob.matches("a" * 200_000)
    assert time.perf_counter() - started < 1.0


def _reference_match(pattern: str, text: str) -> bool:
    """fnmatch with only ``*`` special (the alphabet below has no other glob characters)."""
    return fnmatch.fnmatchcase(text, pattern)


@given(st.text(alphabet="ab*", max_size=12), st.text(alphabet="ab", max_size=12))
def test_string_matches_agrees_with_fnmatch(pattern: str, text: str) -> None:
    assert compile_glob(pattern).matches(text) is _reference_match(pattern, text)


@given(st.text(), st.text())
def test_arbitrary_patterns_never_raise_unexpectedly(pattern: str, text: str) -> None:
    try:
        glob = compile_glob(pattern)
    except ExpressionSyntaxError:
        assert pattern.endswith("\\")
        return
    assert isinstance(glob.matches(text), bool)


@given(st.text(alphabet="ab*\\", max_size=10))
def test_escaped_patterns_match_their_own_literal_text(pattern: str) -> None:
    escaped = pattern.replace("\\", "\\\\").replace("*", "\\*")
    assert compile_glob(escaped).matches(pattern)
