"""Unit tests for asl.intrinsics: the parser and each of the 18 functions."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import pytest

from asl.errors import ExpressionSyntaxError, StatesError
from asl.intrinsics import (
    FUNCTION_NAMES,
    MAX_DEPTH,
    Intrinsic,
    compile_intrinsic,
    looks_like_intrinsic,
    use_random,
)

DATA = {"a": 1, "s": "hello", "arr": [1, 2, 3], "obj": {"k": 1}, "n": None, "t": "It's {}!"}
CONTEXT = {"Execution": {"Id": "exec-1", "Input": {"x": 5}}}
VARIABLES = {"v": {"field": "var-value"}, "num": 7}


def run(text: str, data: Any = DATA) -> Any:
    return compile_intrinsic(text).evaluate(data, CONTEXT, VARIABLES)


def fails(text: str, data: Any = DATA) -> str:
    with pytest.raises(StatesError) as info:
        run(text, data)
    assert info.value.error == "States.Runtime"
    assert info.value.cause is not None
    return info.value.cause


def invalid(text: str, name: str, data: Any = DATA) -> None:
    cause = fails(text, data)
    assert cause.endswith(f"Invalid arguments in {name}"), cause


def syntax_error(text: str) -> ExpressionSyntaxError:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_intrinsic(text)
    return info.value


# -- public surface ------------------------------------------------------------------------


def test_function_names_are_the_18_states_functions() -> None:
    assert len(FUNCTION_NAMES) == 18
    assert {"States.Format", "States.UUID", "States.JsonMerge"} <= FUNCTION_NAMES


def test_intrinsic_is_frozen_and_keeps_its_text() -> None:
    compiled = compile_intrinsic("States.ArrayLength($.arr)")
    assert isinstance(compiled, Intrinsic) and compiled.text == "States.ArrayLength($.arr)"
    with pytest.raises(AttributeError):
        compiled.text = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Format('x')", True),
        ("States.UUID ()", True),
        ("  States.Array()", True),
        ("$.a", False),
        ("States.Format", False),
        ("{% $x %}", False),
        ("", False),
    ],
)
def test_looks_like_intrinsic(text: str, expected: bool) -> None:
    assert looks_like_intrinsic(text) is expected


# -- parser --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "States.Array(1, -2, 2.5, -0.5, 1e2, null, true, false)",
            [1, -2, 2.5, -0.5, 100.0, None, True, False],
        ),
        ("States.Array()", []),
        ("States.Array( 'a' ,\n'b' )  ", ["a", "b"]),
        ("States.Array($, $.a)", [DATA, 1]),
        ("States.Array($$.Execution.Id, $$.Execution.Input.x)", ["exec-1", 5]),
        ("States.Array($v.field, $num)", ["var-value", 7]),
        ("States.Array($.arr[1], $.arr[-1:], $['obj'].k)", [2, [3], 1]),
        ("States.Array(States.Array(States.Array()))", [[[]]]),
    ],
)
def test_argument_kinds(text: str, expected: Any) -> None:
    assert run(text) == expected


def test_integer_literals_stay_ints() -> None:
    value = run("States.Array(3, 3.0)")
    assert type(value[0]) is int and type(value[1]) is float


def test_escapes_as_written_in_the_json_definition() -> None:
    # DG: in JSON, \\' is the intrinsic escape \' (a quote), \\\\ is \\ (a backslash).
    definition = json.loads(r"""{"x.$": "States.Array('It\\'s', 'a\\\\b', '\\{\\}')"}""")
    assert definition["x.$"] == r"States.Array('It\'s', 'a\\b', '\{\}')"
    assert run(definition["x.$"]) == ["It's", "a\\b", "{}"]


def test_literal_newline_and_double_quotes_in_strings() -> None:
    assert run("States.StringSplit('Hello\nWorld', '\n')") == ["Hello", "World"]
    assert run('States.StringToJson(\'{"a": "b"}\')') == {"a": "b"}


def test_nesting_up_to_the_depth_limit() -> None:
    text = "States.Array(" * MAX_DEPTH + ")" * MAX_DEPTH
    assert MAX_DEPTH == 10
    expected: Any = []
    for _ in range(MAX_DEPTH - 1):
        expected = [expected]
    assert compile_intrinsic(text).evaluate(None, None, {}) == expected
    too_deep = "States.Array(" * (MAX_DEPTH + 1) + ")" * (MAX_DEPTH + 1)
    error = syntax_error(too_deep)
    assert error.position == len("States.Array(") * MAX_DEPTH
    assert "10" in error.message


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("States.Nope(1)", 0, "Unknown intrinsic function 'States.Nope'"),
        ("States.Array(1, States.Nope())", 16, "Unknown"),
        ("Format('x')", 0, "Unknown"),
        ("States.Array(1 2)", 15, "Expected ',' or ')'"),
        ("States.Array(1,)", 15, "Expected an argument"),
        ("States.Array(1", 14, "Expected ',' or ')'"),
        ("States.Array 1", 13, "Expected '('"),
        ("States.Array('abc", 13, "Unterminated string"),
        ("States.Array('a\\nb')", 15, "Invalid escape"),
        ("States.Array('a\\", 15, "Invalid escape"),
        ("States.Array('a\\')", 13, "Unterminated string"),
        ("States.Array(1) x", 16, "Unexpected text"),
        ("States.Array(--1)", 13, "Invalid number"),
        ("States.Array(1e999)", 13, "out of range"),
        ("", 0, "Expected an intrinsic function name"),
        ("$.a", 0, "Expected an intrinsic function name"),
        # awslabs/statelint states-array-invocation-leftpad.json: not an intrinsic call.
        (" States.Array('Foo', $.xyz)", 0, "must start with the function name"),
    ],
)
def test_syntax_errors_carry_the_column(text: str, position: int, words: str) -> None:
    error = syntax_error(text)
    assert words in error.message
    assert error.position == position
    assert str(error).endswith(" " * position + "^")


def test_path_syntax_errors_are_offset_into_the_call() -> None:
    error = syntax_error("States.Array(1, $.a[)")
    assert error.position >= len("States.Array(1, ")


def test_path_argument_that_selects_nothing() -> None:
    cause = fails("States.Format('{}', $.missing)", {"a": 1})
    assert cause == (
        "There was an error while evaluating the intrinsic function: "
        "States.Format('{}', $.missing). The JsonPath argument for the field '$.missing' "
        "could not be found in the input '{\"a\":1}'"
    )


def test_nested_failure_names_the_inner_call() -> None:
    cause = fails("States.Array(1, States.MathAdd('x', 1))")
    assert cause == (
        "There was an error while evaluating the intrinsic function: "
        "States.MathAdd('x', 1). Invalid arguments in States.MathAdd"
    )


@pytest.mark.parametrize(
    "text",
    [
        "States.UUID(1)",
        "States.StringToJson()",
        "States.Hash('a')",
        "States.MathRandom(1)",
        "States.MathRandom(1, 2, 3, 4)",
        "States.Format()",
        "States.ArrayRange(1, 2)",
    ],
)
def test_wrong_argument_counts_fail_at_run_time(text: str) -> None:
    compiled = compile_intrinsic(text)  # AWS accepts the definition
    with pytest.raises(StatesError, match="Invalid arguments in States"):
        compiled.evaluate({}, {}, {})


# -- States.Format ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Format('no placeholders')", "no placeholders"),
        ("States.Format('{} and {}', 'a', 'b')", "a and b"),
        ("States.Format('{}|{}|{}|{}', null, true, false, -1)", "null|true|false|-1"),
        ("States.Format('{} {} {} {}', 1.0, 1.1, 1e10, 0.00001)", "1.0 1.1 1.0E10 1.0E-5"),
        ("States.Format('{}', $.obj)", "{k=1}"),
        ("States.Format('{}', States.Array(1, 'a', null, States.Array()))", "[1, a, null, []]"),
        ("States.Format('\\{\\} {}', 'x')", "{} x"),
        ("States.Format('it\\'s {}', $.s)", "it's hello"),
        ("States.Format($.t, $.s)", "It's hello!"),
        ("States.Format('{}', 12345678901234567890)", "12345678901234567890"),
    ],
)
def test_format(text: str, expected: str) -> None:
    assert run(text) == expected


@pytest.mark.parametrize("text", ["States.Format('{} {}', 'a')", "States.Format('{}', 'a', 'b')"])
def test_format_placeholder_count_must_match(text: str) -> None:
    assert fails(text).endswith(
        "Invalid arguments in States.Format: "
        "number of arguments do not match the occurrences of {}."
    )


@pytest.mark.parametrize("template", ["Hello {", "Hello {{}}", "}"])
def test_format_bad_template_fails_at_run_time(template: str) -> None:
    compiled = compile_intrinsic(f"States.Format('{template}', 'x')")
    with pytest.raises(StatesError, match=r"Invalid template in States\.Format: matching"):
        compiled.evaluate({}, {}, {})
    with pytest.raises(StatesError, match=r"Invalid template in States\.Format"):
        run("States.Format($.t, 'x')", {"t": template})


def test_format_template_must_be_a_string() -> None:
    invalid("States.Format($.a)", "States.Format")


# -- JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": [1, 2.5]}', {"a": [1, 2.5]}),
        ('"x"', "x"),
        ("-0", 0),
        ("", None),
        ("  ", None),
        ("null", None),
    ],
)
def test_string_to_json(text: str, expected: Any) -> None:
    assert run("States.StringToJson($.j)", {"j": text}) == expected


@pytest.mark.parametrize("value", ["{bad", "undefined", "NaN", 1, [1], None])
def test_string_to_json_rejects(value: Any) -> None:
    invalid("States.StringToJson($.j)", "States.StringToJson", {"j": value})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "null"), (1.5, "1.5"), ("é", '"é"'), ({"a": [1, True]}, '{"a":[1,true]}')],
)
def test_json_to_string(value: Any, expected: str) -> None:
    assert run("States.JsonToString($.j)", {"j": value}) == expected


def test_json_merge_is_shallow_and_right_wins() -> None:
    data = {"l": {"a": {"x": 1}, "b": 1}, "r": {"a": {"y": 2}, "c": 3}}
    assert run("States.JsonMerge($.l, $.r, false)", data) == {"a": {"y": 2}, "b": 1, "c": 3}
    assert data["l"] == {"a": {"x": 1}, "b": 1}  # inputs untouched


def test_json_merge_rejects_deep_and_non_objects() -> None:
    invalid("States.JsonMerge($.obj, $.obj, true)", "States.JsonMerge")
    invalid("States.JsonMerge($.arr, $.obj, false)", "States.JsonMerge")
    invalid("States.JsonMerge($.obj, null, false)", "States.JsonMerge")


# -- arrays ----------------------------------------------------------------------------------


def test_array_partition() -> None:
    assert run("States.ArrayPartition(States.Array(1, 2, 3, 4, 5), 2)") == [[1, 2], [3, 4], [5]]
    assert run("States.ArrayPartition(States.Array(1, 2, 3, 4, 5), 2.6)") == [[1, 2], [3, 4], [5]]
    assert run("States.ArrayPartition(States.Array(), 3)") == []


@pytest.mark.parametrize("size", ["0", "-1", "0.6", "-0.4", "'2'", "null", "true"])
def test_array_partition_rejects(size: str) -> None:
    invalid(f"States.ArrayPartition($.arr, {size})", "States.ArrayPartition")
    invalid("States.ArrayPartition('x', 1)", "States.ArrayPartition")


def test_array_contains_uses_deep_json_equality() -> None:
    data = {"items": [[1, 2], {"a": 1, "b": 2}, True], "o": {"b": 2, "a": 1}}
    assert run("States.ArrayContains($.items, $.o)", data) is True
    assert run("States.ArrayContains($.items, States.Array(1, 2))", data) is True
    assert run("States.ArrayContains($.items, 1)", data) is False  # true is not 1
    assert run("States.ArrayContains(States.Array(), null)") is False
    invalid("States.ArrayContains($.obj, 1)", "States.ArrayContains")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("1, 9, 2", [1, 3, 5, 7, 9]),
        ("0, 10, 3", [0, 3, 6, 9]),
        ("5, 1, -2", [5, 3, 1]),
        ("3, 3, -1", [3]),
        ("5, 1, 1", []),
        ("1.6, 1.4, 1", [1]),
        ("5.4, -0.6, -2.4", [5, 3, 1]),
    ],
)
def test_array_range(args: str, expected: list[int]) -> None:
    assert run(f"States.ArrayRange({args})") == expected


def test_array_range_limit_is_1000_items() -> None:
    assert len(run("States.ArrayRange(1, 1000, 1)")) == 1000
    assert len(run("States.ArrayRange(1000, 1, -1)")) == 1000
    invalid("States.ArrayRange(1, 1001, 1)", "States.ArrayRange")
    invalid("States.ArrayRange(1001, 1, -1)", "States.ArrayRange")


@pytest.mark.parametrize(
    "args", ["1, 10, 0", "1, 10, 0.49", "'a', 5, 1", "1, true, 1", "1, 5, null"]
)
def test_array_range_rejects(args: str) -> None:
    invalid(f"States.ArrayRange({args})", "States.ArrayRange")


def test_array_get_item() -> None:
    assert run("States.ArrayGetItem($.arr, 2)") == 3
    assert run("States.ArrayGetItem($.arr, 1.2)") == 2  # AWS truncates
    assert run("States.ArrayGetItem(States.Array(), 999)") is None  # AWS observation
    for bad in ["3", "-1", "'1'", "null"]:
        invalid(f"States.ArrayGetItem($.arr, {bad})", "States.ArrayGetItem")
    invalid("States.ArrayGetItem('abc', 0)", "States.ArrayGetItem")


def test_array_length_and_unique() -> None:
    assert run("States.ArrayLength($.arr)") == 3
    invalid("States.ArrayLength($.s)", "States.ArrayLength")
    data: dict[str, Any] = {
        "x": [None, None, True, 1, 1, 1.0, "a", "a", [], [], {"a": 1, "b": 2}, {"b": 2, "a": 1}]
    }
    assert run("States.ArrayUnique($.x)", data) == [None, True, 1, 1.0, "a", [], {"a": 1, "b": 2}]
    invalid("States.ArrayUnique($.obj)", "States.ArrayUnique")


# -- encoding and hashing --------------------------------------------------------------------


def test_base64() -> None:
    assert run("States.Base64Encode('Data to encode')") == "RGF0YSB0byBlbmNvZGU="
    assert run("States.Base64Encode('✓')") == "4pyT"
    assert run("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')") == "Data to encode"
    assert run("States.Base64Decode(' YWJjZA== ')") == "abcd"  # lenient, like AWS
    assert run("States.Base64Decode('abc')") == "i\ufffd"  # invalid UTF-8 replaced, like Java
    assert run("States.Base64Decode('')") == ""


@pytest.mark.parametrize("name", ["States.Base64Encode", "States.Base64Decode"])
def test_base64_limits_and_types(name: str) -> None:
    assert isinstance(run(f"{name}($.x)", {"x": "A" * 10_000}), str)
    invalid(f"{name}($.x)", name, {"x": "A" * 10_001})
    invalid(f"{name}(123)", name)
    invalid(f"{name}($.obj)", name)


def test_base64_decode_rejects_a_dangling_character() -> None:
    invalid("States.Base64Decode('abcde')", "States.Base64Decode")


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("MD5", "5d41402abc4b2a76b9719d911017c592"),
        ("SHA-1", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
        ("SHA-256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
    ],
)
def test_hash(algorithm: str, digest: str) -> None:
    assert run(f"States.Hash('hello', '{algorithm}')") == digest


def test_hash_rules() -> None:
    assert len(run("States.Hash($.x, 'SHA-256')", {"x": "a" * 10_000})) == 64
    invalid("States.Hash($.x, 'SHA-256')", "States.Hash", {"x": "a" * 10_001})
    for bad in ["'sha-256'", "'SHA256'", "''", "123"]:
        invalid(f"States.Hash('data', {bad})", "States.Hash")
    assert run("States.Hash(123, 'MD5')") == run("States.Hash('123', 'MD5')")


# -- math ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "total"),
    [
        (-9, 3, -6),
        (1.49, 1.5, 3),
        (2.5, 0, 3),
        (-2.5, 0, -2),
        (-0.5, 0.5, 1),
        (-1.5, -1.51, -3),
        (2147483646, 1, 2147483647),
        (-2147483647, -1, -2147483648),
    ],
)
def test_math_add(a: float, b: float, total: int) -> None:
    result = run(f"States.MathAdd({a}, {b})")
    assert result == total and type(result) is int


@pytest.mark.parametrize(
    "args", ["2147483647, 1", "-2147483648, -1", "3000000000, 1", "'1', 2", "true, 1", "null, 1"]
)
def test_math_add_rejects(args: str) -> None:
    invalid(f"States.MathAdd({args})", "States.MathAdd")


def test_math_random_with_seed_is_deterministic() -> None:
    first = run("States.MathRandom(1, 1000, 42)")
    assert first == run("States.MathRandom(1, 1000, 42)")
    assert 1 <= first < 1000
    assert 1 <= run("States.MathRandom(1, 10, -10)") < 10


def test_math_random_uses_the_installed_random_source() -> None:
    previous = use_random(random.Random(7))
    try:
        first = [run("States.MathRandom(0, 1000000)") for _ in range(3)]
        use_random(random.Random(7))
        assert [run("States.MathRandom(0, 1000000)") for _ in range(3)] == first
        assert all(1 <= run("States.MathRandom(1.6, 5.4)") < 5 for _ in range(50))
    finally:
        use_random(previous)


@pytest.mark.parametrize(
    "args", ["1, 1", "10, 5", "1.49, 1.49", "1.4, 1.6", "'a', 10", "1, 10, null"]
)
def test_math_random_rejects(args: str) -> None:
    invalid(f"States.MathRandom({args})", "States.MathRandom")


# -- strings and ids -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delimiters", "parts"),
    [
        ("1,2,3", ",", ["1", "2", "3"]),
        ("a,,b", ",", ["a", "b"]),
        (",a,b,", ",", ["a", "b"]),
        (",,,,", ",", []),
        ("", ",", []),
        ("This.is+a,test=string", ".+,=", ["This", "is", "a", "test", "string"]),
        ("1a2b3ab4", "ab", ["1", "2", "3", "4"]),
        ("abc", "", ["abc"]),
    ],
)
def test_string_split(text: str, delimiters: str, parts: list[str]) -> None:
    assert run("States.StringSplit($.t, $.d)", {"t": text, "d": delimiters}) == parts


@pytest.mark.parametrize(
    ("text", "delimiters"), [(123, ","), ("a,b", 1), (None, ","), ("a", [","])]
)
def test_string_split_rejects(text: Any, delimiters: Any) -> None:
    invalid("States.StringSplit($.t, $.d)", "States.StringSplit", {"t": text, "d": delimiters})


def test_uuid_is_version_4_and_follows_the_random_source() -> None:
    value = run("States.UUID()")
    assert uuid.UUID(value).version == 4 and value != run("States.UUID()")
    previous = use_random(random.Random(1))
    try:
        first = run("States.UUID()")
        use_random(random.Random(1))
        assert run("States.UUID()") == first
    finally:
        use_random(previous)


def test_compiled_calls_are_cached_and_refusals_are_not() -> None:
    from asl.errors import ExpressionSyntaxError
    from asl.intrinsics import compile_intrinsic

    text = "States.MathAdd($.n, 1)"
    assert compile_intrinsic(text) is compile_intrinsic(text)
    for _ in range(2):
        with pytest.raises(ExpressionSyntaxError):
            compile_intrinsic("States.MathAdd($.n,")
