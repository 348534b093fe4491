"""Tests for asl.paths: every path form, Jayway error texts, Reference Paths and ResultPath."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.errors import ExpressionSyntaxError, StatesError
from asl.paths import Path, PathNotFound, compile_path, compile_reference_path

STORE: dict[str, Any] = {
    "store": {
        "book": [
            {"title": "A", "price": 8.95, "isbn": "1"},
            {"title": "B", "price": 12.99},
            {"title": "C", "price": 8.99, "isbn": "3"},
        ],
        "bicycle": {"color": "red", "price": 19.95},
    },
    "my-key": 1,
    "tést": 2,
    "a b": 3,
    "n": None,
    "s": "text",
    "ledgers": [[0, 1], [2, [3, {"foo": "deep"}]]],
}
CONTEXT: dict[str, Any] = {"Execution": {"Id": "arn:exec", "Input": {"x": 1}}}
VARIABLES: dict[str, Any] = {"x": 42, "cfg": {"items": [10, 20]}, "名前": "n"}


def get(text: str, data: Any = STORE) -> Any:
    return compile_path(text).get(data, CONTEXT, VARIABLES)


def detail(text: str, data: Any = STORE) -> str:
    with pytest.raises(PathNotFound) as caught:
        get(text, data)
    assert caught.value.path == text
    return caught.value.detail


# --- definite paths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$.store.bicycle.color", "red"),
        ("$['store']['bicycle']['color']", "red"),
        ('$["store"]["bicycle"]', {"color": "red", "price": 19.95}),
        ("$.store['bicycle'].price", 19.95),
        ("$.store.book[0].title", "A"),
        ("$.store.book[-1].title", "C"),
        ("$.ledgers[1][1][1].foo", "deep"),
        ("$.my-key", 1),
        ("$.tést", 2),
        ("$['a b']", 3),
        ("$.n", None),
        ("$['it\\'s']", "quoted"),
    ],
)
def test_definite_paths_return_the_value(text: str, expected: Any) -> None:
    data = {**STORE, "it's": "quoted"}
    assert compile_path(text).get(data, CONTEXT, VARIABLES) == expected


def test_dollar_returns_the_document_itself() -> None:
    assert get("$") is STORE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$$", CONTEXT),
        ("$$.Execution.Id", "arn:exec"),
        ("$$.Execution.Input.x", 1),
        ("$x", 42),
        ("$cfg.items[1]", 20),
        ("$cfg['items'][0]", 10),
        ("$名前", "n"),
    ],
)
def test_context_and_variable_roots(text: str, expected: Any) -> None:
    assert get(text) == expected


def test_root_kinds() -> None:
    assert compile_path("$.a").root == "input"
    assert compile_path("$$.a").root == "context"
    path = compile_path("$var_1.a")
    assert (path.root, path.variable) == ("variable", "var_1")
    assert compile_path("$.a").variable is None


def test_missing_variable_is_path_not_found() -> None:
    with pytest.raises(PathNotFound) as caught:
        compile_path("$nope.a").get({}, {}, {})
    assert caught.value.detail == "Variable not found: nope"


def test_backslash_dot_is_not_an_escape_in_jayway() -> None:
    # Jayway reads `$.store\.book` as the property "store\" and then "book".
    assert compile_path("$.store\\.book").get({"store\\": {"book": 1}}, None, {}) == 1


# --- indefinite paths -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$.store.book[*].title", ["A", "B", "C"]),
        ("$.store.book.*.title", ["A", "B", "C"]),
        ("$.store.bicycle.*", ["red", 19.95]),
        ("$.store.bicycle[*]", ["red", 19.95]),
        ("$.store.book[0,2].title", ["A", "C"]),
        ("$.store.book[1:].title", ["B", "C"]),
        ("$.store.book[:2].title", ["A", "B"]),
        ("$.store.book[-2:].title", ["B", "C"]),
        ("$.store.book[?(@.price < 10)].title", ["A", "C"]),
        ("$.store.book[?(@.isbn)].title", ["A", "C"]),
        ("$.store.book[?(@.title == 'B')].price", [12.99]),
        ("$.store.book[?(@.price < 10 && @.title == 'C')].title", ["C"]),
        ("$.store.book[?(@.title == 'A' || @.title == 'B')].title", ["A", "B"]),
        ("$..price", [8.95, 12.99, 8.99, 19.95]),
        ("$.store..title", ["A", "B", "C"]),
        ("$.store.book[*].isbn", ["1", "3"]),
        ("$.store.book[?(@.price > 100)]", []),
        ("$.store.book[5:]", []),
        ("$.s[*]", []),
    ],
)
def test_indefinite_paths_return_lists(text: str, expected: Any) -> None:
    assert get(text) == expected


def test_leaf_multi_property_merges_into_one_object() -> None:
    # Jayway: a leaf ['a','b'] is definite and returns an object of the present members.
    assert get("$.store.bicycle['color','size']") == {"color": "red"}


def test_filter_with_mismatched_types_does_not_match() -> None:
    assert get("$.store.book[?(@.title < 10)]") == []


# --- Jayway error texts ---------------------------------------------------------------------


def test_missing_leaf_property_text() -> None:
    # Recorded on AWS: "Invalid path '$.NoSuchOutputPath' : No results for path: ..."
    assert detail("$.NoSuchOutputPath") == "No results for path: $['NoSuchOutputPath']"
    with pytest.raises(PathNotFound) as caught:
        get("$.NoSuchOutputPath")
    assert str(caught.value) == (
        "Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']"
    )


def test_missing_intermediate_property_text() -> None:
    # Recorded on AWS: "... Missing property in path $['no']".
    assert detail("$.no.such.result.path", {}) == "Missing property in path $['no']"
    assert detail("$.store.nope.x") == "Missing property in path $['store']['nope']"


def test_missing_leaf_below_existing_objects_prints_the_whole_path() -> None:
    assert detail("$.store.bicycle.size") == "No results for path: $['store']['bicycle']['size']"


def test_index_out_of_range_is_no_results() -> None:
    assert detail("$.store.book[7]") == "No results for path: $['store']['book'][7]"
    assert detail("$.store.book[7].title") == "No results for path: $['store']['book'][7]['title']"


def test_property_of_a_non_object_text() -> None:
    assert detail("$.s.x") == (
        "Expected to find an object with property ['x'] in path $['s'] but found "
        "'java.lang.String'. This is not a json object according to the JsonProvider: "
        "'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'."
    )
    assert "but found 'null'" in detail("$.n.x")
    assert "but found 'net.minidev.json.JSONArray'" in detail("$.store.book.title")
    assert "but found 'java.lang.Integer'" in detail("$.my-key.x")
    assert "but found 'java.lang.Boolean'" in detail("$.b.x", {"b": True})


def test_index_into_a_non_array_text() -> None:
    assert detail("$.n[0]") == "The path $['n'] is null"
    assert detail("$.store.bicycle[0].x") == (
        "Filter: [0]['x'] can only be applied to arrays. "
        'Current context is: {"color":"red","price":19.95}'
    )
    assert detail("$.s[0]") == "Filter: [0] can only be applied to arrays. Current context is: text"


@pytest.mark.parametrize(
    "text",
    [
        # Recorded on AWS (base.json_path_array_wildcard_or_slice_with_no_input): input {}.
        "$.item.items[:1]",
        "$.item.items[1:5]",
        "$.items[1:]",
        "$.items[1:].itemValue",
        "$.items[:1].itemValue",
        "$.items[*]",
        # Same rule for other failures upstream of the indefinite step.
        "$.s.x[*]",
        "$.n[*]",
        "$.s[?(@.a)]",
        "$.s[0,1]",
        "$.n[1:]",
    ],
)
def test_indefinite_paths_never_fail(text: str) -> None:
    assert compile_path(text).get({"s": "text", "n": None}, None, {}) == []


def test_filter_recorded_on_aws() -> None:
    # base.state_pass_regex_json_path_base
    data = {"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}]}
    assert compile_path("$.users[?(@.status == 0)]").get(data, None, {}) == [
        {"year": 1997, "status": 0}
    ]


def test_errors_downstream_of_a_wildcard_are_skipped() -> None:
    assert get("$.store.book[*].nope.x") == []
    assert get("$.store.book[*][0]") == []


def test_index_on_string_does_not_pick_a_character() -> None:
    assert "can only be applied to arrays" in detail("$.s[0]")
    assert "can only be applied to arrays" in detail("$.x[0]", {"x": "abc"})


# --- Reference Paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["$", "$.a", "$['a']['b']", "$.ledgers[0][22][315].foo", "$.my-key", "$.tést", "$x.y"],
)
def test_reference_paths_accepted(text: str) -> None:
    assert compile_reference_path(text).is_reference


@pytest.mark.parametrize(
    "text",
    [
        "$.a[*]",
        "$.a.*",
        "$..a",
        "$.a[0,1]",
        "$['a','b']",
        "$.a[1:2]",
        "$.a[?(@.b)]",
        "$.a@b",
        "$.a:b",
        "$.a?",
    ],
)
def test_reference_paths_rejected(text: str) -> None:
    assert not compile_path(text).is_reference or any(c in text for c in "@:?")
    with pytest.raises(ExpressionSyntaxError):
        compile_reference_path(text)


# --- syntax errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", 0),
        ("a.b", 0),
        ("$.", 2),
        ("$.a.", 4),
        ("$.a b", 3),
        ("$[", 2),
        ("$[0", 3),
        ("$['a", 2),
        ("$.a]", 3),
        ("$[a]", 2),
        ("$.length()", 8),
        ("$[?(@.a]", 2),
        ("$x-y", 2),
        ("$.a..", 5),
    ],
)
def test_syntax_errors_point_at_the_bad_character(text: str, position: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_path(text)
    assert caught.value.position == position
    assert caught.value.text == text
    assert "^" in str(caught.value)


def test_non_string_path_is_a_syntax_error() -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_path(["$"])  # type: ignore[arg-type]


def test_compiled_paths_are_cached_and_immutable() -> None:
    path = compile_path("$.a.b")
    assert compile_path("$.a.b") is path
    with pytest.raises(AttributeError):
        path.text = "$"  # type: ignore[misc]


# --- exists (Choice IsPresent) --------------------------------------------------------------


def test_exists() -> None:
    assert compile_path("$.n").exists(STORE, CONTEXT, VARIABLES)
    assert not compile_path("$.nope").exists(STORE, CONTEXT, VARIABLES)
    assert not compile_path("$.nope.deeper").exists(STORE, CONTEXT, VARIABLES)
    assert compile_path("$.store.book[*]").exists(STORE, CONTEXT, VARIABLES)
    assert not compile_path("$.store.book[?(@.price > 99)]").exists(STORE, CONTEXT, VARIABLES)
    assert not compile_path("$missing").exists(STORE, CONTEXT, VARIABLES)


# --- set (ResultPath) -----------------------------------------------------------------------


def test_set_dollar_replaces_the_document() -> None:
    assert compile_reference_path("$").set({"a": 1}, "result") == "result"


def test_set_adds_and_replaces_fields_without_mutating() -> None:
    data = {"a": {"b": 1}, "keep": {"big": [1, 2, 3]}}
    before = copy.deepcopy(data)
    out = compile_reference_path("$.a.c").set(data, 5)
    assert out == {"a": {"b": 1, "c": 5}, "keep": {"big": [1, 2, 3]}}
    assert data == before
    assert out["keep"] is data["keep"]  # only the spine is copied


def test_set_creates_missing_intermediate_objects() -> None:
    assert compile_reference_path("$.x.y.z").set({"a": 1}, [1]) == {"a": 1, "x": {"y": {"z": [1]}}}


def test_set_into_an_array_element() -> None:
    data = {"a": [{"v": 0}, {"v": 1}]}
    out = compile_reference_path("$.a[1].v").set(data, 9)
    assert out == {"a": [{"v": 0}, {"v": 9}]}
    assert data["a"][1] == {"v": 1}
    assert out["a"][0] is data["a"][0]


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("$.x", "a string"),
        ("$.x", [1, 2]),
        ("$.x", None),
        ("$.a.x", {"a": 3}),
        ("$.a[0]", {"a": {"b": 1}}),
        ("$.a[5]", {"a": [1]}),
        ("$[0]", {"a": 1}),
    ],
)
def test_set_failure_is_result_path_match_failure(text: str, data: Any) -> None:
    with pytest.raises(StatesError) as caught:
        compile_reference_path(text).set(data, 1)
    assert caught.value.error == "States.ResultPathMatchFailure"
    assert text in (caught.value.cause or "")


def test_set_requires_an_input_reference_path() -> None:
    for text in ("$$.a", "$v.a", "$.a[*]"):
        with pytest.raises(ValueError):
            compile_path(text).set({}, 1)


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_raises_only_syntax_errors(text: str) -> None:
    for compiler in (compile_path, compile_reference_path):
        with contextlib.suppress(ExpressionSyntaxError):
            compiler(text)


PATH_ALPHABET = "$.[]'\"*?@(),:-0123456789ab_ é\\"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=PATH_ALPHABET, max_size=20).map(lambda s: "$" + s))
def test_path_like_text_raises_only_syntax_errors(text: str) -> None:
    try:
        path = compile_path(text)
    except ExpressionSyntaxError:
        return
    with contextlib.suppress(PathNotFound):
        path.get({"a": [1, {"b": "x"}], "b": {"a": None}}, {}, {"ab": 1})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=10,
)
NAMES = st.text(
    alphabet=st.characters(blacklist_characters=".[]()'\"\\", blacklist_categories=("Z", "C")),
    min_size=1,
    max_size=6,
)


def _bracketed(name: str) -> str:
    return "['" + name.replace("\\", "\\\\").replace("'", "\\'") + "']"


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(st.text(max_size=4), JSON, max_size=4),
    st.lists(st.text(max_size=6), min_size=1, max_size=4),
    JSON,
)
def test_set_then_get_returns_the_value(data: dict[str, Any], names: list[str], value: Any) -> None:
    path = compile_reference_path("$" + "".join(_bracketed(name) for name in names))
    assert isinstance(path, Path)
    before = copy.deepcopy(data)
    try:
        out = path.set(data, value)
    except StatesError as error:  # an intermediate member exists and is not an object
        assert error.error == "States.ResultPathMatchFailure"
        return
    finally:
        assert data == before
    assert path.get(out, None, {}) == value


@settings(max_examples=200, deadline=None)
@given(st.lists(NAMES, min_size=1, max_size=4), JSON)
def test_dotted_names_round_trip(names: list[str], value: Any) -> None:
    text = "$." + ".".join(names)
    try:
        path = compile_reference_path(text)
    except ExpressionSyntaxError:
        # Only names holding Reference Path operators may be refused.
        assert any(char in "@,:?*" for name in names for char in name)
        return
    assert path.get(path.set({}, value), None, {}) == value
