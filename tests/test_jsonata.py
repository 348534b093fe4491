"""Unit tests for ``asl.jsonata``: AWS's extra functions, causes, templates, syntax errors."""

from __future__ import annotations

import contextlib
import hashlib
import re
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import asl.jsonata
from asl.errors import ExpressionSyntaxError, StatesError
from asl.jsonata import (
    UNDEFINED,
    UNSUPPORTED,
    EvaluationError,
    QueryEvaluationError,
    compile_expression,
    compile_value,
    is_expression,
    type_name,
    unexpected_type_cause,
)
from asl.jsonata import engine as engine_module

STATES = {"input": {"items": [{"name": "a", "price": 5}, {"name": "b", "price": 20}], "n": None}}


def run(text: str, **variables: Any) -> Any:
    return compile_expression(text).evaluate({"states": STATES, **variables})


def failure(text: str) -> EvaluationError:
    with pytest.raises(EvaluationError) as info:
        run(text)
    return info.value


def test_public_api_is_sorted() -> None:
    # isort-style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    names = asl.jsonata.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert all(hasattr(asl.jsonata, name) for name in names)


# --- is_expression -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{% 1 %}", True),
        ("{%1%}", True),
        (" {% 1 %}", False),
        ("{% 1 %} ", False),
        ("{%}", False),
        ("plain", False),
        (1, False),
        (None, False),
    ],
)
def test_is_expression(value: Any, expected: bool) -> None:
    assert is_expression(value) is expected


# --- engine results ----------------------------------------------------------------------


def test_path_with_predicate_and_bindings() -> None:
    assert run("$states.input.items[price > $limit].name", limit=10) == "b"


def test_integral_numbers_are_ints_as_in_javascript() -> None:
    assert run("1.0") == 1 and type(run("1.0")) is int
    assert run("[2.0, 2.5]") == [2, 2.5]


def test_null_undefined_and_function_are_told_apart() -> None:
    assert run("$states.input.n") is None
    assert run("$states.input.missing") is UNDEFINED
    assert run("function($x){$x}") is UNSUPPORTED
    assert run("$sum") is UNSUPPORTED


def test_probe_survives_shadowing_variables() -> None:
    assert run("$nothing", type="t", exists=1) is UNDEFINED
    assert run("null", type="t") is None


def test_sequences_become_lists() -> None:
    assert run("$states.input.items.price") == [5, 20]


def test_evaluation_error_carries_code_and_message() -> None:
    error = failure('"a" + 1')
    assert error.code == "T2001"
    assert error.described == 'T2001: The left side of the "+" operator must evaluate to a number'


def test_unknown_function_is_t1006() -> None:
    assert failure("$randomSeeded(1)").described == "T1006: Attempted to invoke a non-function"


def test_eval_is_unavailable() -> None:
    assert failure('$eval("1 + 1")').described == "T1006: Attempted to invoke a non-function"


def test_endless_loop_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "EVALUATION_TIMEOUT_SECONDS", 0.2)
    assert failure("($f := function(){$f()}; $f())").code == "D1012"


def test_expression_is_immutable() -> None:
    expression = compile_expression("1")
    with pytest.raises(AttributeError):
        expression.text = "2"


# --- syntax errors ------------------------------------------------------------------------


def test_syntax_error_has_code_and_position() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression("$states.input +")
    assert info.value.message.startswith("S0207")
    assert info.value.position == len("$states.input +")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_raises_only_syntax_errors(text: str) -> None:
    with contextlib.suppress(ExpressionSyntaxError):
        compile_expression(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="$.[]()'\"{}:;,=<>!?&|*+-/%^~@#01aZ \n\\", max_size=30))
def test_jsonata_like_text_raises_only_syntax_errors(text: str) -> None:
    with contextlib.suppress(ExpressionSyntaxError):
        compile_expression(text)


# --- AWS's extra functions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$partition([1,2,3,4,5], 2)", [[1, 2], [3, 4], [5]]),
        ("$partition([1,2,3,4,5], 5)", [[1, 2, 3, 4, 5]]),
        ("$partition([1,2,3,4,5], 6)", [[1, 2, 3, 4, 5]]),
        ("$partition([0], 1)", [[0]]),
        ("$partition([], 2)", []),
    ],
)
def test_partition(text: str, expected: Any) -> None:
    assert run(text) == expected


@pytest.mark.parametrize("size", ["0", "-1", "1.5"])
def test_partition_rejects_bad_sizes(size: str) -> None:
    assert "positive integer" in failure(f"$partition([1, 2], {size})").message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$range(1, 9, 2)", [1, 3, 5, 7, 9]),
        ("$range(0, 10, 2)", [0, 2, 4, 6, 8, 10]),
        ("$range(1, -5, -1)", [1, 0, -1, -2, -3, -4, -5]),
        ("$range(1, 9, 3)", [1, 4, 7]),
        ("$range(1, 9, 9)", 1),  # a one-item sequence collapses (conformance array_range.2)
        ("$range(-1.2, 2.8, 1.9)", [-1, 0, 1, 2]),
        ("$range(1, 9, 0)", []),
        ("$range(9, 1, 1)", []),
    ],
)
def test_range(text: str, expected: Any) -> None:
    assert run(text) == expected


def test_range_signature_errors_match_aws() -> None:
    expected = 'T0410: Argument 1 of function "range" does not match function signature'
    assert failure("$range('0', 4, 1)").described == expected
    assert failure("$range(0, 4, 1, 2)").code == "T0410"


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"])
def test_hash(algorithm: str) -> None:
    digest = hashlib.new(algorithm.replace("-", "").lower(), b"input data").hexdigest()
    assert run(f"$hash('input data', '{algorithm}')") == digest


def test_hash_documented_example() -> None:
    assert run("$hash('input data', 'SHA-1')") == "aaff4a450a104cd177d28d18d74485e8cae074b7"


def test_hash_rejects_unknown_algorithm() -> None:
    assert "not supported" in failure("$hash('x', 'SHA1')").message


def test_random_unseeded_in_unit_interval() -> None:
    values = {run("$random()") for _ in range(20)}
    assert all(0 <= value < 1 for value in values) and len(values) > 1


def test_random_seeded_is_deterministic() -> None:
    assert run("$random(80)") == run("$random(80)")
    assert run("$random(80)") != run("$random(81)")
    assert 0 <= run("$random('seed')") < 1


def test_uuid_is_version_4() -> None:
    value = run("$uuid()")
    assert uuid.UUID(value).version == 4
    assert value != run("$uuid()")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", 1), ("1.1", 1.1), ("true", True), ('"HelloWorld"', "HelloWorld"), ("[1, 2]", [1, 2])],
)
def test_parse(text: str, expected: Any) -> None:
    assert _same(run("$parse($s)", s=text), expected)


def test_parse_rejects_invalid_json() -> None:
    assert "not valid JSON" in failure("$parse('{nope')").message


def test_workflow_variable_shadows_extra_function() -> None:
    assert run("$uuid", uuid="mine") == "mine"


def _same(got: Any, want: Any) -> bool:
    return type(got) is type(want) and got == want


# --- templates and causes ----------------------------------------------------------------


def evaluate_value(value: Any, field: str = "Output") -> Any:
    return compile_value(value, field=field).evaluate({"states": STATES})


def cause_of(value: Any, field: str = "Output") -> QueryEvaluationError:
    with pytest.raises(QueryEvaluationError) as info:
        evaluate_value(value, field)
    assert isinstance(info.value, StatesError)
    assert info.value.error == "States.QueryEvaluationError"
    return info.value


def test_whole_field_expression() -> None:
    assert evaluate_value("{% $states.input.items[0].name %}") == "a"


def test_nested_template() -> None:
    value = {"a": ["{% 1 + 1 %}", {"b": "{% $states.input.items[1].price %}"}], "c": "lit"}
    assert evaluate_value(value) == {"a": [2, {"b": 20}], "c": "lit"}


def test_strings_that_are_not_expressions_are_literals() -> None:
    assert evaluate_value({"a": " {% 1 %}", "b": "{% 1 %} "}) == {"a": " {% 1 %}", "b": "{% 1 %} "}


@pytest.mark.parametrize(
    ("value", "field", "location"),
    [
        ("{% $doesNotExist %}", "Arguments", "Arguments"),
        ({"FunctionName": "{% $doesNotExist %}"}, "Arguments", "Arguments/FunctionName"),
        ({"result": "{% $doesNotExist %}"}, "Assign", "Assign/result"),
        ({"result": "{% $doesNotExist %}"}, "Output", "Output/result"),
    ],
)
def test_undefined_cause_names_the_location(value: Any, field: str, location: str) -> None:
    error = cause_of(value, field)
    assert error.cause == (
        f"The JSONata expression '$doesNotExist' specified for the field '{location}' "
        "returned nothing (undefined)."
    )
    assert error.location == location


def test_cause_quotes_trimmed_expression_text() -> None:
    error = cause_of("{%   $nope   %}")
    assert "expression '$nope' specified" in str(error.cause)


def test_unsupported_result_cause() -> None:
    error = cause_of("{% $fn := function($x){$x} %}", "Items")
    assert error.cause == (
        "The JSONata expression '$fn := function($x){$x}' specified for the field 'Items' "
        "returned an unsupported result type."
    )


def test_engine_error_cause() -> None:
    error = cause_of({"FunctionResult": "{% $randomSeeded($states.input.n) %}"})
    assert error.cause == (
        "The JSONata expression '$randomSeeded($states.input.n)' specified for the field "
        "'Output/FunctionResult' threw an error during evaluation. "
        "T1006: Attempted to invoke a non-function"
    )


def test_syntax_error_at_compile_value() -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_value({"a": ["{% 1 + %}"]}, field="Output")


def test_constants_are_built_once_and_not_reevaluated() -> None:
    constant = {"k": [1, {"x": "y"}]}
    compiled = compile_value({"c": constant, "e": "{% 1 %}"}, field="Output")
    first = compiled.evaluate({})
    second = compiled.evaluate({})
    assert first["c"] is constant and second["c"] is constant
    assert compile_value(constant, field="Output").is_constant


def test_expressions_are_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = compile_value({"a": "{% 1 %}"}, field="Output")
    calls: list[str] = []
    monkeypatch.setattr("jlens.Expression", lambda text: calls.append(text))
    assert compiled.evaluate({}) == {"a": 1} and calls == []


def test_text_of_single_expression_value() -> None:
    assert compile_value("{% 1 %}", field="Items").text == "1"
    assert compile_value({"a": "{% 1 %}"}, field="Items").text is None


# --- result types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ([], "array"),
        ({}, "object"),
        ("s", "string"),
        (1, "number"),
        (1.5, "number"),
        (True, "boolean"),
        (False, "boolean"),
        (None, "null"),
    ],
)
def test_type_name(value: Any, name: str) -> None:
    assert type_name(value) == name


@pytest.mark.parametrize(
    ("text", "value", "tail"),
    [
        ("1", 1, "'number' for value: 1"),
        ("true", True, "'boolean' for value: true"),
        ("{'foo': 'bar'}", {"foo": "bar"}, """'object' for value: {"foo":"bar"}"""),
        ("'string'", "string", """'string' for value: "string\""""),
        ("$ItemsVar", None, "'null' for value: null"),
    ],
)
def test_unexpected_type_cause_matches_aws(text: str, value: Any, tail: str) -> None:
    cause = unexpected_type_cause(text, "Items", "array", value)
    assert cause == (
        f"The JSONata expression '{text}' specified for the field 'Items' returned an "
        f"unexpected result type. Expected 'array', but was {tail}"
    )


def test_uuid_pattern_helper_not_confused_by_longer_names() -> None:
    # `$uuidx` is not `$uuid`: an unknown function, not AWS's.
    assert failure("$uuidx()").code == "T1006"
    assert re.fullmatch(r"[0-9a-f-]{36}", run("$uuid()"))


def test_lone_surrogate_is_a_syntax_error() -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_expression("'\ud800'")
