"""Hostile text in a definition stays text in every graph format: SVG, DOT, Mermaid, ASCII.

The property tests draw machines whose names, Types, rules, error names and comments are
markup, quoting and control characters, and compare each drawing with the drawing of a
plain twin (:mod:`tests.hostile`): the same structure means no text escaped its quoting.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from asl.graph import build_graph, render, render_ascii, render_dot, render_mermaid, render_svg
from asl.graph.layout import text_width
from asl.graph.text import visible
from tests.hostile import PAYLOADS, machines

SCRIPT_TYPE = 'x"/><script>alert(document.domain)</script><g class="'
SVG = "{http://www.w3.org/2000/svg}"
#: Every element the SVG renderer writes.
SVG_TAGS = {"svg", "defs", "marker", "path", "style", "g", "title", "rect", "polygon"}
SVG_TAGS |= {"text", "circle"}
CLASS_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
#: A control character, as a terminal or an XML parser would see it.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

hostile_settings = settings(max_examples=150, deadline=None)


def _svg_tree(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def _shape(root: ET.Element) -> list[tuple[str, tuple[str, ...]]]:
    """Each element's tag and attribute names, in document order."""
    return [(el.tag, tuple(sorted(el.attrib))) for el in root.iter()]


def _names(definition: dict[str, Any]) -> list[str]:
    return [node.name for node in build_graph(definition).nodes()]


# -- SVG -------------------------------------------------------------------------------


def test_a_script_in_a_type_is_text_in_the_svg() -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": SCRIPT_TYPE, "End": True}}}
    svg = render_svg(build_graph(definition))
    root = _svg_tree(svg)
    assert not [el for el in root.iter() if el.tag == SVG + "script"]
    assert "<script" not in svg
    title = next(el for el in root.iter() if el.tag == SVG + "title")
    assert title.text == f"A ({SCRIPT_TYPE})"


def test_asl_graph_svg_of_a_script_type_has_no_script(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": SCRIPT_TYPE}}}))
    run = subprocess.run(
        [sys.executable, "-m", "asl.graph.cli", str(path), "-f", "svg"],
        capture_output=True,
        check=True,
    )
    assert b"<script" not in run.stdout
    _svg_tree(run.stdout.decode("utf-8"))


@hostile_settings
@given(machines())
def test_svg_of_hostile_text_parses_with_only_the_renderers_elements(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    hostile, plain = pair
    root = _svg_tree(render_svg(build_graph(hostile)))
    assert _shape(root) == _shape(_svg_tree(render_svg(build_graph(plain))))
    assert {el.tag.removeprefix(SVG) for el in root.iter()} <= SVG_TAGS
    for el in root.iter():
        assert all(CLASS_TOKEN.fullmatch(t) for t in el.attrib.get("class", "").split())
        assert not any(name.startswith("on") for name in el.attrib)
    shown = [el.text or "" for el in root.iter() if el.attrib.get("class") == "name"]
    expected = sorted(visible(name) for name in _names(hostile))
    assert sorted(shown) == expected
    states = [el.attrib["data-state"] for el in root.iter() if "data-state" in el.attrib]
    assert sorted(states) == expected


@pytest.mark.parametrize("payload", PAYLOADS)
def test_svg_keeps_each_payload_as_the_name_it_shows(payload: str) -> None:
    definition = {"StartAt": payload, "States": {payload: {"Type": payload, "End": True}}}
    root = _svg_tree(render_svg(build_graph(definition), classes={"n1": [payload]}))
    group = next(el for el in root.iter() if "data-state" in el.attrib)
    assert group.attrib["data-state"] == visible(payload)
    assert all(CLASS_TOKEN.fullmatch(token) for token in group.attrib["class"].split())


def test_svg_of_a_plain_type_keeps_its_class() -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": []}}}
    assert 'class="state type-Choice start"' in render_svg(build_graph(definition))


# -- DOT and Mermaid -------------------------------------------------------------------

DOT_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
MERMAID_STRING = re.compile(r'"[^"\n]*"')


def _skeleton(text: str, strings: re.Pattern[str]) -> str:
    """The text with every quoted string emptied: what the format's parser sees as syntax."""
    return strings.sub('""', text)


@hostile_settings
@given(machines())
def test_dot_labels_stay_inside_their_quotes(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    hostile, plain = pair
    dot = render_dot(build_graph(hostile))
    assert _skeleton(dot, DOT_STRING) == _skeleton(render_dot(build_graph(plain)), DOT_STRING)
    assert not CONTROL.search(dot.replace("\n", ""))


@hostile_settings
@given(machines())
def test_mermaid_labels_stay_inside_their_quotes(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    hostile, plain = pair
    text = render_mermaid(build_graph(hostile))
    twin = render_mermaid(build_graph(plain))
    assert _skeleton(text, MERMAID_STRING) == _skeleton(twin, MERMAID_STRING)
    assert not CONTROL.search(text.replace("\n", ""))
    assert "\u2028" not in text and "\u2029" not in text


def test_dot_quote_of_a_trailing_backslash_keeps_the_closing_quote() -> None:
    definition = {"StartAt": "a\\", "States": {"a\\": {"Type": "Pass", "End": True}}}
    assert 'label="a\\\\\\n(Pass)"' in render_dot(build_graph(definition))


def test_dot_newline_in_a_name_is_shown_not_a_line_break() -> None:
    definition = {"StartAt": "a\nb", "States": {"a\nb": {"Type": "Pass", "End": True}}}
    assert 'label="a\\\\nb\\n(Pass)"' in render_dot(build_graph(definition))


# -- ASCII -----------------------------------------------------------------------------


@hostile_settings
@given(machines())
def test_ascii_is_printable_ascii_one_line_per_item(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    hostile, plain = pair
    text = render_ascii(build_graph(hostile))
    assert all(" " <= ch <= "~" for ch in text.replace("\n", ""))
    assert text.count("\n") == render_ascii(build_graph(plain)).count("\n")


def test_asl_graph_ascii_writes_no_escape_sequence(tmp_path: Path) -> None:
    name = "B\x1b]0;pwned\x07\x1b[2J"
    definition = {"Comment": "c\x1b[H", "StartAt": name, "States": {name: {"Type": "Succeed"}}}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(definition))
    run = subprocess.run(
        [sys.executable, "-m", "asl.graph.cli", str(path), "-f", "ascii"],
        capture_output=True,
        check=True,
    )
    assert b"\x1b" not in run.stdout and b"\x07" not in run.stdout
    assert run.stdout == b"# c\\x1b[H\n> B\\x1b]0;pwned\\x07\\x1b[2J [Succeed] (start, end)\n"


@pytest.mark.parametrize("format", ["mermaid", "dot", "svg", "ascii"])
def test_plain_names_are_drawn_as_before(format: str) -> None:
    definition = {"StartAt": "Go é", "States": {"Go é": {"Type": "Pass", "End": True}}}
    text = render(build_graph(definition), format)
    assert ("Go \\xe9" if format == "ascii" else "Go é") in text


# -- the helper ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain é ✓", "plain é ✓"),
        ("\x1b[2J", "\\x1b[2J"),
        ("a\nb\tc", "a\\nb\\tc"),
        ("\x85\x9b\x7f\x00", "\\x85\\x9b\\x7f\\x00"),
        ("\ud800\ufffe", "\\ud800\\ufffe"),
    ],
)
def test_visible_spells_control_characters(text: str, shown: str) -> None:
    assert visible(text) == shown


def test_visible_multiline_keeps_newlines_and_tabs() -> None:
    assert visible("a\n\tb\r\x1b", multiline=True) == "a\n\tb\\r\\x1b"


def test_svg_boxes_are_as_wide_as_the_spelled_names() -> None:
    name = "\x1b" * 20  # drawn as 80 characters
    definition = {"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}}
    root = _svg_tree(render_svg(build_graph(definition)))
    rect = next(el for el in root.iter() if el.attrib.get("class") == "shape")
    assert float(rect.attrib["width"]) >= text_width(visible(name))
