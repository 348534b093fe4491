"""asl.paths against Jayway JsonPath's README and AWS's paths page, example by example.

Sources: json-path/JsonPath README.md ("Path Examples", "Filter Operators", "Predicates",
"Reading a Document"; the older README's ``$..book[(@.length-1)]``) and the Step Functions
developer guide page "Using JSONPath paths" (reference path examples, the ``@``-matches-
objects-only note, ``$.abc.['def ghi']``). Where AWS differs from Jayway (no path functions,
``@`` skips scalars, an indefinite path that fails returns ``[]``) the AWS behaviour is tested.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.errors import ExpressionSyntaxError
from asl.paths import PathNotFound, compile_path, compile_reference_path
from asl.paths import _path as path_module
from asl.paths import _predicate as predicate_module

B0 = {
    "category": "reference",
    "author": "Nigel Rees",
    "title": "Sayings of the Century",
    "price": 8.95,
}
B1 = {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99}
B2 = {
    "category": "fiction",
    "author": "Herman Melville",
    "title": "Moby Dick",
    "isbn": "0-553-21311-3",
    "price": 8.99,
}
B3 = {
    "category": "fiction",
    "author": "J. R. R. Tolkien",
    "title": "The Lord of the Rings",
    "isbn": "0-395-19395-8",
    "price": 22.99,
}
BICYCLE = {"color": "red", "price": 19.95}
#: The README's document ("Path Examples").
STORE: dict[str, Any] = {
    "store": {"book": [B0, B1, B2, B3], "bicycle": BICYCLE},
    "expensive": 10,
}
AUTHORS = ["Nigel Rees", "Evelyn Waugh", "Herman Melville", "J. R. R. Tolkien"]


def get(text: str, data: Any = STORE, context: Any = None) -> Any:
    return compile_path(text).get(copy.deepcopy(data), context, {})


def syntax_error(text: str) -> ExpressionSyntaxError:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_path(text)
    return caught.value


# --- Jayway README: "Path Examples" ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The authors of all books
        ("$.store.book[*].author", AUTHORS),
        # All authors
        ("$..author", AUTHORS),
        # All things, both books and bicycles
        ("$.store.*", [[B0, B1, B2, B3], BICYCLE]),
        # The price of everything
        ("$.store..price", [8.95, 12.99, 8.99, 22.99, 19.95]),
        # The third book
        ("$..book[2]", [B2]),
        # The second to last book
        ("$..book[-2]", [B2]),
        # The last book (the README of Jayway 0.9)
        ("$..book[(@.length-1)]", [B3]),
        # The first two books
        ("$..book[0,1]", [B0, B1]),
        # All books from index 0 (inclusive) until index 2 (exclusive)
        ("$..book[:2]", [B0, B1]),
        # All books from index 1 (inclusive) until index 2 (exclusive)
        ("$..book[1:2]", [B1]),
        # Last two books
        ("$..book[-2:]", [B2, B3]),
        # Book number two from tail
        ("$..book[2:]", [B2, B3]),
        # All books with an ISBN number
        ("$..book[?(@.isbn)]", [B2, B3]),
        # All books in store cheaper than 10
        ("$.store.book[?(@.price < 10)]", [B0, B2]),
        ("$.store.book[?(@.price<10)]", [B0, B2]),
        # All books in store that are not "expensive"
        ("$..book[?(@.price <= $['expensive'])]", [B0, B2]),
        # All books matching regex (ignore case)
        ("$..book[?(@.author =~ /.*REES/i)]", [B0]),
    ],
)
def test_readme_path_examples(text: str, expected: Any) -> None:
    assert get(text) == expected


def test_readme_give_me_every_thing() -> None:
    books = [B0, B1, B2, B3]
    expected = [STORE["store"], 10, books, BICYCLE, *books]
    for book in books:
        expected.extend(book.values())
    expected.extend(BICYCLE.values())
    assert get("$..*") == expected


def test_readme_length_function_is_refused_as_aws_does() -> None:
    # Jayway: "The number of books". AWS's paths page: "Functions such as length() aren't
    # supported."
    error = syntax_error("$..book.length()")
    assert error.position == len("$..book.length")
    assert "length() are not supported" in error.message


# --- Jayway README: reading, predicates -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$.store.book[0].title", "Sayings of the Century"),
        ("$['store']['book'][0]['title']", "Sayings of the Century"),
        ("$.store.book[0].author", "Nigel Rees"),
        ("$.store.book[1].author", "Evelyn Waugh"),
        ("$['store']['book'][0]['author']", "Nigel Rees"),
        ("$['date_as_long']", 1411455611975),
        ("$.store.book[?(@.isbn)].author", ["Herman Melville", "J. R. R. Tolkien"]),
        ("$.store.book[?(@.price > 10)]", [B1, B3]),
        ("$.store.book[*].title", [b["title"] for b in (B0, B1, B2, B3)]),
        ("$.store.book[?(@.price < 10 && @.category == 'fiction')]", [B2]),
        ("$.store.book[?(@.category == 'reference' || @.price > 10)]", [B0, B1, B3]),
        ("$.store.book[?(!(@.price < 10 && @.category == 'fiction'))]", [B0, B1, B3]),
        ("$.store.book[?(@.author == 'Nigel Rees')].author", ["Nigel Rees"]),
    ],
)
def test_readme_reading_and_predicates(text: str, expected: Any) -> None:
    assert get(text, {**STORE, "date_as_long": 1411455611975}) == expected


# --- Jayway README: "Filter Operators" ------------------------------------------------------

ITEMS: list[dict[str, Any]] = [
    {"id": 0, "name": "Foobar", "size": "S", "sizes": ["S"], "age": 20, "color": "blue"},
    {"id": 1, "name": "bar", "size": "M", "sizes": ["M", "L"], "age": 18, "color": "red"},
    {"id": 2, "name": "FOO", "size": "XL", "sizes": ["XL"], "age": 30, "color": "blue"},
    {"id": 3, "name": "", "size": 1, "sizes": [], "age": 18.0, "color": None, "tags": "ab"},
]


@pytest.mark.parametrize(
    ("predicate", "ids"),
    [
        ("@.age > 18", [0, 2]),
        ("@.color == 'blue'", [0, 2]),
        ('@.color == "blue"', [0, 2]),
        ("@.age == 18", [1, 3]),  # numbers compare by value: 18 == 18.0
        ("@.color != 'blue'", [1, 3]),
        ("@.age < 20", [1, 3]),
        ("@.age <= 20", [0, 1, 3]),
        ("@.age >= 20", [0, 2]),
        ("@.name < 'b'", [0, 2, 3]),  # two strings compare lexically
        ("@.name > 1", []),  # a string and a number are not ordered
        ("@.name =~ /foo.*?/i", [0, 2]),
        ("@.name =~ /foo.*?/", []),  # case matters without i; the whole string must match
        ("@.name =~ /.*ar/", [0, 1]),
        ("@.size in ['S', 'M']", [0, 1]),
        ("@.size nin ['S', 'M']", [2, 3]),
        ("@.sizes subsetof ['S', 'M', 'L']", [0, 1, 3]),
        ("@.sizes anyof ['M', 'L']", [1]),
        ("@.sizes noneof ['M', 'L']", [0, 2, 3]),
        ("@.sizes size 2", [1]),
        ("@.name size 3", [1, 2]),
        ("@.sizes empty true", [3]),
        ("@.name empty true", [3]),
        ("@.sizes empty false", [0, 1, 2]),
        # Not in the README table, but in Jayway's operator set.
        ("@.sizes contains 'L'", [1]),
        ("@.tags contains 'b'", [3]),
        ("@.sizes all ['M', 'L']", [1]),
        ("@.age === 18", [1, 3]),
        ("@.age !== 18", [0, 2]),
        ("@.size IN ['S']", [0]),  # operators are read case-insensitively
        # "note that 1 is not equal to '1'"
        ("@.size == '1'", []),
        ("@.size == 1", [3]),
        ("@.color == null", [3]),
        ("@.missing != 'x'", [0, 1, 2, 3]),  # an undefined operand equals nothing
        ("@.missing == null", []),
        ("@.sizes == ['M', 'L']", [1]),
        ('@.sizes == ["M", "L"]', [1]),
        ("@.tags", [3]),
        ("!@.tags", [0, 1, 2]),
        ("@.age > 18 && @.color == 'blue' || @.id == 3", [0, 2, 3]),
        ("@.id == 3 || @.age > 18 && @.color == 'red'", [3]),  # && binds tighter
        ("(@.id == 3 || @.age > 18) && @.color == 'blue'", [0, 2]),
        ("!(@.age == 18)", [0, 2]),
        # Jayway reads a '!' right before a path as "does not exist"; before a comparison
        # it is dropped (FilterCompiler), so this is @.age == 18.
        ("!@.age == 18", [1, 3]),
    ],
)
def test_filter_operators(predicate: str, ids: list[int]) -> None:
    assert get(f"$[?({predicate})].id", ITEMS) == ids


def test_regex_flags_and_non_string_inputs() -> None:
    data = [{"v": "a\nb"}, {"v": 12}, {"v": True}, {"v": ["12"]}]
    assert get("$[?(@.v =~ /a.b/s)].v", data) == ["a\nb"]
    assert get("$[?(@.v =~ /a.b/)].v", data) == []
    assert get("$[?(@.v =~ /1\\d/)].v", data) == [12]  # a number matches as its text
    assert get("$[?(@.v =~ /true/)].v", data) == [True]
    assert get("$[?(@.v =~ /A$/mi)].v", [{"v": "a"}]) == ["a"]


def test_path_operand_on_the_right_and_blanks_around_the_question_mark() -> None:
    data = {"allowed": ["S", "XL"], "items": ITEMS}
    assert get("$.items[ ? ( @.size in $.allowed ) ].id", data) == [0, 2]
    assert get("$.items[?(@.size in $.nope)].id", data) == []
    assert get("$.items[?(@.sizes subsetof $.allowed)].id", data) == [0, 2, 3]


def test_json_object_literal() -> None:
    data = [{"o": {"a": 1, "b": [True, None]}}, {"o": {"a": 1}}]
    assert get("$[?(@.o == {'a': 1, 'b': [true, null]})].o.a", data) == [1]


def test_nested_filter_in_a_sub_path() -> None:
    data = {"groups": [{"n": 1, "m": [{"r": "x"}]}, {"n": 2, "m": [{"r": "y"}]}]}
    assert get("$.groups[?(@.m[?(@.r == 'y')])].n", data) == [2]


# --- root references inside filters --------------------------------------------------------


def test_root_reference_in_a_filter_reads_the_document() -> None:
    # A published workflow filters with [?(@.workerId == $.agent_id)].
    data = {"agent_id": "w2", "workers": [{"workerId": "w1"}, {"workerId": "w2"}]}
    assert get("$.workers[?(@.workerId == $.agent_id)]", data) == [{"workerId": "w2"}]
    assert get("$.workers[?($.agent_id == @.workerId)].workerId", data) == ["w2"]
    assert get("$.workers[?(@.workerId == $.nope)]", data) == []


def test_root_reference_is_the_root_the_path_started_from() -> None:
    context = {"Map": {"Item": {"Value": "b"}}, "List": [{"k": "a"}, {"k": "b"}]}
    path = compile_path("$$.List[?(@.k == $.Map.Item.Value)]")
    assert path.get({"Map": "not me"}, context, {}) == [{"k": "b"}]


def test_root_reference_inside_a_nested_filter() -> None:
    data = {"want": "y", "g": [{"m": [{"r": "x"}]}, {"m": [{"r": "y"}]}]}
    assert get("$.g[?(@.m[?(@.r == $.want)])]", data) == [{"m": [{"r": "y"}]}]


# --- AWS's paths page -----------------------------------------------------------------------

AWS_INPUT = {
    "foo": 123,
    "bar": ["a", "b", "c"],
    "car": {"cdr": True},
    "jar": [{"a": 1}, {"a": 5}, {"a": 2}, {"a": 7}, {"a": 3}],
    "abc": {"def ghi": "spaced"},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("$.foo", 123), ("$.bar", ["a", "b", "c"]), ("$.car.cdr", True)],
)
def test_aws_reference_path_examples(text: str, expected: Any) -> None:
    assert compile_reference_path(text).get(AWS_INPUT, None, {}) == expected


def test_aws_filter_example() -> None:
    assert get("$.jar[?(@.a >= 5)]", AWS_INPUT) == [{"a": 5}, {"a": 7}]


def test_aws_bracket_after_a_dot_example() -> None:
    assert get("$.abc.['def ghi']", AWS_INPUT) == "spaced"


def test_aws_current_node_matches_objects_only() -> None:
    # "The @ operator, matching the current node being processed in a filter, does not
    # match scalar values. It only matches objects."
    assert get("$.bar[?(@ == 'a')]", AWS_INPUT) == []
    assert get("$[?(@.a)]", [1, "a", {"a": 0}, [{"a": 1}]]) == [{"a": 0}]


@pytest.mark.parametrize(
    "text", ["$.jar[?(@.a >= 5)]", "$.bar[0,1]", "$..foo", "$.bar[(@.length-1)]"]
)
def test_aws_reference_paths_refuse_operators(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_reference_path(text)


# --- the forms AWS accepts that we refused --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$.Snapshots.[0].State", "available"),
        ("$.Snapshots.[0].['State']", "available"),
        ("$.Snapshots.[*].State", ["available", "creating"]),
        ("$.Snapshots.[?(@.State == 'creating')].Id", [2]),
        ("$.Snapshots..[1].Id", [2]),
    ],
)
def test_dot_before_a_bracket(text: str, expected: Any) -> None:
    data = {"Snapshots": [{"Id": 1, "State": "available"}, {"Id": 2, "State": "creating"}]}
    assert get(text, data) == expected


def test_dot_before_a_bracket_stays_a_reference_path() -> None:
    path = compile_reference_path("$.Snapshots.[0].State")
    assert path.is_reference
    assert path.set({"Snapshots": [{}]}, "x") == {"Snapshots": [{"State": "x"}]}


@pytest.mark.parametrize(
    "text", ["$$.Execution.Name ", "$$.Execution.Name\t ", "$$.Execution['Name'] "]
)
def test_trailing_blanks_are_ignored(text: str) -> None:
    context = {"Execution": {"Name": "run-1"}}
    path = compile_path(text)
    assert path.get({}, context, {}) == "run-1"
    assert path.text == text
    assert compile_reference_path(text).is_reference


def test_blank_inside_a_name_is_still_refused() -> None:
    assert syntax_error("$.a b ").position == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$[(@.length-1)]", "c"),
        ("$[( @.length - 3 )]", "a"),
        ("$.x[(@.length-1)].y", 2),
    ],
)
def test_length_minus_n_script(text: str, expected: Any) -> None:
    data = {"x": [{"y": 1}, {"y": 2}]} if text.startswith("$.x") else ["a", "b", "c"]
    assert get(text, data) == expected


@pytest.mark.parametrize("text", ["$[(@.length)]", "$[(@.length-0)]", "$[(@.length-4)]"])
def test_length_minus_n_out_of_range_selects_nothing(text: str) -> None:
    with pytest.raises(PathNotFound):
        get(text, ["a", "b", "c"])


def test_other_script_expressions_are_refused() -> None:
    error = syntax_error("$[(@.size-1)]")
    assert error.position == 2
    assert "(@.length-N)" in error.message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("$['Test\\\"Name']", 'Test"Name'),
        ('$["Test\\"Name"]', 'Test"Name'),
        ("$['Test\"Name']", 'Test"Name'),
        ("$['it\\'s']", "it's"),
        ("$['back\\\\slash']", "back\\slash"),
        ("$['tab\\tname']", "tab\tname"),
        ("$['\\u00e9t\\u00E9']", "été"),
        ("$['a','Test\\\"Name']", None),
    ],
)
def test_bracket_names_with_escapes(text: str, key: str | None) -> None:
    data = {"a": 0, 'Test"Name': 1, "it's": 2, "back\\slash": 3, "tab\tname": 4, "été": 5}
    if key is None:
        assert get(text, data) == {"a": 0, 'Test"Name': 1}
    else:
        assert get(text, data) == data[key]
        assert compile_reference_path(text).get(data, None, {}) == data[key]


# --- parse errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("$..book[?(@.author =~ /.*REES/q)]", 30, "flag 'q'"),
        ("$[?(@.a =~ /x)]", 11, "unterminated regular expression"),
        ("$[?(@.a =~ /(/)]", 11, "invalid regular expression"),
        ("$[?(@.a foo 1)]", 8, "unknown filter operator 'foo'"),
        ("$[?(@.a == )]", 11, "expected a value"),
        ("$[?(@.a size)]", 12, "expected a value"),
        ("$[?(1)]", 5, "comparison operator after a literal"),
        ("$[?(@.a == 'x)]", 11, "unterminated string"),
        ("$[?(@.a in ['x' 'y'])]", 16, "expected ',' or ']'"),
        ("$[?(@.a in {x: 1})]", 12, "quoted member name"),
        ("$[?(@.a == 1 @.b)]", 13, "'&&', '||' or ')'"),
        ("$[?((@.a == 1)]", 2, "unbalanced parentheses"),
        ("$[?(@.a == $$.b)]", 11, "'$$'"),
        ("$[?(@.a == $v.b)]", 11, "variable"),
        ("$[?(@.a.length() > 1)]", 14, "length() are not supported"),
        ("$[?(@.a == '\\u00zz')]", 11, "unicode"),
        ("$['\\uzz']", 2, "unicode"),
        ("$.a.", 4, "expected a property name"),
        ("$.a.[", 5, "expected an index"),
    ],
)
def test_parse_errors_are_one_clear_message(text: str, position: int, words: str) -> None:
    error = syntax_error(text)
    assert (error.position, error.text) == (position, text)
    assert error.message.startswith("Invalid JSONPath: ")
    assert words in error.message
    assert str(error).splitlines() == [error.message, f"  {text}", "  " + " " * position + "^"]


# --- the hot path ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["$.a.b[0]", "$.Snapshots.[0].State", "$['a'].b ", "$$.Map.Item"])
def test_single_node_paths_keep_the_fast_lookup(text: str) -> None:
    assert compile_path(text)._keys is not None


def test_a_hit_on_a_single_node_path_never_reaches_the_general_evaluator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*_: Any) -> Any:
        raise AssertionError("the general evaluator ran")

    monkeypatch.setattr(path_module, "evaluate", refuse)
    data = {"Snapshots": [{"State": "ok"}], "a": {"b": [1]}}
    assert compile_path("$.Snapshots.[0].State ").get(data, None, {}) == "ok"
    assert compile_path("$.a.b[-1]").get(data, None, {}) == 1


def test_single_node_filter_operands_never_reach_the_general_evaluator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*_: Any) -> Any:
        raise AssertionError("the general evaluator ran for an operand")

    path = compile_path("$.items[?(@.price < $.limit && @['tags'][0] == 'x')]")
    monkeypatch.setattr(predicate_module, "evaluate", refuse)
    data = {"limit": 10, "items": [{"price": 5, "tags": ["x"]}, {"price": 50, "tags": ["x"]}]}
    assert path.get(data, None, {}) == [{"price": 5, "tags": ["x"]}]


def test_compiled_filters_are_hashable_values() -> None:
    path = compile_path("$[?(@.a in ['x', {'b': [1]}] && @.c =~ /x/i)]")
    assert isinstance(hash(path), int)
    assert isinstance(hash(path._plan), int)


# --- properties -----------------------------------------------------------------------------

FILTER_ALPHABET = "$@.[]()'\"/*?!=<>~&|, :-_0123456789abinsezft\\"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=FILTER_ALPHABET, max_size=30).map(lambda s: "$[?(" + s))
def test_filter_like_text_compiles_or_raises_a_path_error(text: str) -> None:
    try:
        path = compile_path(text)
    except ExpressionSyntaxError as error:
        assert error.message.startswith("Invalid JSONPath: ")
        assert 0 <= error.position <= len(text)
        return
    with contextlib.suppress(PathNotFound):
        path.get([{"a": 1, "b": ["a"]}, {"a": "x"}, 3], {}, {})


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_compiles_or_raises_a_path_error(text: str) -> None:
    for compiler in (compile_path, compile_reference_path):
        with contextlib.suppress(ExpressionSyntaxError):
            compiler(text)


OPERANDS = st.sampled_from(
    [
        "@.a",
        "@.b",
        "@",
        "$.k",
        "@['a']",
        "@.b[0]",
        "@..a",
        "'x'",
        '"y"',
        "1",
        "-2.5",
        "true",
        "false",
        "null",
        "['a', 1]",
        "{'a': 1}",
        "[]",
        "@.b[*]",
        "@.b[?(@ == 1)]",
    ]
)
OPERATORS = st.sampled_from(
    [
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "in",
        "nin",
        "subsetof",
        "anyof",
        "noneof",
        "size",
        "empty",
        "contains",
        "all",
        "===",
        "!==",
    ]
)
RELATIONS = st.one_of(
    st.builds(lambda a, o, b: f"{a} {o} {b}", OPERANDS, OPERATORS, OPERANDS),
    st.builds(lambda a: f"{a} =~ /a.*/i", OPERANDS),
    OPERANDS.filter(lambda o: o[0] in "@$"),
)
PREDICATES = st.recursive(
    RELATIONS,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"{a} && {b}", inner, inner),
        st.builds(lambda a, b: f"{a} || {b}", inner, inner),
        st.builds(lambda a: f"!({a})", inner),
        st.builds(lambda a: f"({a})", inner),
    ),
    max_leaves=5,
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["a", "x", "y", ""]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "k"]), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(PREDICATES, JSON)
def test_generated_filters_compile_and_evaluate(predicate: str, data: Any) -> None:
    path = compile_path(f"$.items[?({predicate})]")
    document = {"k": 1, "items": data}
    found = path.get(document, None, {})
    assert isinstance(found, list)
    assert all(isinstance(item, dict) for item in found)
    if isinstance(data, list):
        assert all(any(item is element for element in data) for item in found)
