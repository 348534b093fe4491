"""Loading definitions: strict JSON and YAML, with positions."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.errors import SourceError
from asl.source import Document, load_definition, load_file

MACHINE = '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass", "End": true}\n  }\n}\n'


def test_json_value_and_positions() -> None:
    doc = load_definition(MACHINE)
    assert doc.value == {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    assert doc.position("/StartAt") == (2, 3)
    assert doc.position("/States/A") == (4, 5)
    assert doc.position("/States/A/End") == (4, 27)
    assert doc.line_text(4).strip().startswith('"A"')


def test_position_falls_back_to_nearest_ancestor() -> None:
    doc = load_definition(MACHINE)
    assert doc.position("/States/A/Next") == (4, 5)
    assert doc.position("") == (1, 1)


def test_array_items_and_escaped_pointers() -> None:
    doc = load_definition('{"a/b": {"c~d": [10,\n 20]}}')
    assert doc.position("/a~1b/c~0d/1") == (2, 2)
    assert doc.value["a/b"]["c~d"] == [10, 20]


def test_numbers_keep_json_types() -> None:
    doc = load_definition('{"i": -12, "f": 1.5, "e": 1e3, "big": 123456789012345678901}')
    assert doc.value == {"i": -12, "f": 1.5, "e": 1000.0, "big": 123456789012345678901}
    assert isinstance(doc.value["i"], int) and isinstance(doc.value["e"], float)


def test_bytes_with_bom() -> None:
    assert load_definition("\ufeff{}".encode()).value == {}


@pytest.mark.parametrize(
    ("text", "fragment", "line", "column"),
    [
        ('{"States": {"A": {}, "A": {}}}', "duplicate key 'A'", 1, 22),
        ('{"a": 1,\n "a": 2}', "first defined at line 1, column 2", 2, 2),
        ('{"a": NaN}', "NaN is not a valid JSON number", 1, 7),
        ('{"a": Infinity}', "Infinity", 1, 7),
        ('{"a": -Infinity}', "Infinity", 1, 7),
        ('{"a": 1e999}', "too large", 1, 7),
        ('{"a": 1} {"b": 2}', "unexpected text after the end", 1, 10),
        ("[1, 2]", "must be an object, not an array", 1, 1),
        ('"text"', "not a string", 1, 1),
        ("", "empty", 1, 1),
        ('{"a": 1,}', "property name in double quotes", 1, 9),
        ('{"a" 1}', "expecting ':'", 1, 6),
        ('{"a": [1 2]}', "expecting ',' or ']'", 1, 10),
        ('{"a": "x\ny"}', "invalid control character", 1, 9),
        ('{"a": tru}', "expecting a value", 1, 7),
        ('{"a": ', "unexpected end of text", 1, 7),
        ('{"a": 01}', "expecting ',' or '}'", 1, 8),
    ],
)
def test_json_errors_have_line_and_column(text: str, fragment: str, line: int, column: int) -> None:
    with pytest.raises(SourceError) as caught:
        load_definition(text)
    assert fragment in caught.value.message
    assert (caught.value.line, caught.value.column) == (line, column)


def test_too_deep_nesting_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="nested more than"):
        load_definition('{"a": ' + "[" * 5000 + "]" * 5000 + "}")


def test_yaml_definition_and_positions() -> None:
    text = "StartAt: A\nStates:\n  A:\n    Type: Wait\n    Timestamp: 2016-03-14T01:59:00Z\n"
    doc = load_definition(text)
    # Unquoted timestamps stay text (YAML 1.1 would make them datetimes).
    assert doc.value["States"]["A"]["Timestamp"] == "2016-03-14T01:59:00Z"
    assert doc.position("/States/A/Timestamp") == (5, 5)


def test_yaml_anchors_and_merge_keys() -> None:
    text = "base: &b {Type: Pass, End: true}\nStates:\n  A:\n    <<: *b\n    Comment: x\n"
    doc = load_definition(text, format="yaml")
    assert doc.value["States"]["A"] == {"Type": "Pass", "End": True, "Comment": "x"}


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("States:\n  A: {}\n  A: {}\n", "duplicate key 'A'", 3),
        ("a: .nan\n", "not a valid JSON number", 1),
        ("a: .inf\n", "not a valid JSON number", 1),
        ("- 1\n- 2\n", "must be an object", 1),
        ("a: !Ref x\n", "has no JSON equivalent", 1),
        ("a: !!binary aGk=\n", "has no JSON equivalent", 1),
        ("1: x\n", "is not a string", 1),
        ("a: &x [*x]\n", "recursive", 1),
        ("a: 1\n---\nb: 2\n", "single document", 2),
        ("a: [1\n", "", 2),
    ],
)
def test_yaml_errors(text: str, fragment: str, line: int) -> None:
    with pytest.raises(SourceError) as caught:
        load_definition(text, format="yaml")
    assert fragment in caught.value.message
    assert caught.value.line == line


def test_load_file_json_and_yaml(tmp_path: object) -> None:
    import pathlib

    assert isinstance(tmp_path, pathlib.Path)
    (tmp_path / "m.json").write_text(MACHINE)
    (tmp_path / "m.yml").write_text("StartAt: A\nStates: {A: {Type: Succeed}}\n")
    assert isinstance(load_file(tmp_path / "m.json"), Document)
    assert load_file(tmp_path / "m.yml").value["States"]["A"]["Type"] == "Succeed"
    with pytest.raises(SourceError, match="cannot read"):
        load_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_bytes(b'{"a": "\xff"}')
    with pytest.raises(SourceError, match="UTF-8"):
        load_file(tmp_path / "bad.json")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_source_error(text: str) -> None:
    for fmt in ("json", "yaml"):
        try:
            doc = load_definition(text, format=fmt)
        except SourceError:
            continue
        assert isinstance(doc.value, dict)


JSONISH = st.text(alphabet='{}[]":,0123456789.eE+-truefalsnNI \n\\', max_size=80)


@settings(max_examples=300, deadline=None)
@given(JSONISH)
def test_json_like_text_raises_only_source_error(text: str) -> None:
    with contextlib.suppress(SourceError):
        load_definition(text, format="json")


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=5),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
            max_leaves=10,
        ),
    )
)
def test_json_round_trip(value: dict[str, object]) -> None:
    import json

    assert load_definition(json.dumps(value)).value == value
