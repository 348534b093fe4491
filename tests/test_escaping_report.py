"""Hostile history and definition text in the HTML report stays text.

The page is read back with :class:`html.parser.HTMLParser`: it must hold only the
elements and attributes the report writes, exactly two ``<script>`` elements, and its
embedded JSON must give back the history's values unchanged (``JSON.parse`` reads the
same escapes as :func:`json.loads`).
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.graph.text import visible
from runtime import run_sync
from runtime.report import parse_events, render_report, report_html
from tests.hostile import PAYLOADS, hostile_text

#: Every element the report page writes (its own and the inline SVG's).
TAGS = {
    *("html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "span", "div"),
    *("main", "section", "aside", "p", "b", "i", "table", "thead", "tbody", "tr", "th", "td"),
    *("pre", "script", "svg", "defs", "marker", "path", "g", "rect", "polygon", "text"),
    *("circle", "input", "select", "option", "label"),
}
RESOURCE = "arn:aws:lambda:us-east-1:123456789012:function:f"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=8,
)


class Page(HTMLParser):
    """The tags, attributes, scripts and embedded data of a report page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.scripts: list[dict[str, str | None]] = []
        self.script_text: list[str] = []
        self._in_script = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag == "script":
            self.scripts.append(dict(attrs))
            self.script_text.append("")
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text[-1] += data

    def states(self) -> set[str]:
        return {value or "" for name, value in self.attrs if name == "data-state"}


def _history(name: str, error: str, cause: str, value: Any, kind: str) -> list[dict[str, Any]]:
    """A Task that failed, with a hostile name, error, cause, data and an odd event type."""
    dump = json.dumps(value)
    return [
        {
            "id": 1,
            "previousEventId": 0,
            "type": "ExecutionStarted",
            "timestamp": 0,
            "executionStartedEventDetails": {"input": dump},
        },
        {
            "id": 2,
            "previousEventId": 1,
            "type": "TaskStateEntered",
            "timestamp": 1,
            "stateEnteredEventDetails": {"name": name, "input": dump},
        },
        {
            "id": 3,
            "previousEventId": 2,
            "type": "TaskScheduled",
            "timestamp": 1,
            "taskScheduledEventDetails": {"resource": RESOURCE, "parameters": dump},
        },
        {
            "id": 4,
            "previousEventId": 3,
            "type": "TaskFailed",
            "timestamp": 2,
            "taskFailedEventDetails": {"error": error, "cause": cause},
        },
        {
            "id": 5,
            "previousEventId": 4,
            "type": kind,
            "timestamp": 2,
            "oddEventDetails": {"note": cause},
        },
        {
            "id": 6,
            "previousEventId": 5,
            "type": "ExecutionFailed",
            "timestamp": 3,
            "executionFailedEventDetails": {"error": error, "cause": cause},
        },
    ]


def _machine(name: str) -> dict[str, Any]:
    return {"StartAt": name, "States": {name: {"Type": "Task", "Resource": RESOURCE, "End": True}}}


def _check_page(html: str) -> tuple[Page, Any]:
    """The structural checks every report passes; returns the page and its data."""
    html.encode("utf-8")  # no lone surrogate: the page can be written
    page = Page(html)
    assert set(page.tags) <= TAGS
    assert not [name for name, _ in page.attrs if name.startswith("on")]
    assert page.scripts == [{"type": "application/json", "id": "asl-data"}, {}]
    data_text = page.script_text[0]
    assert "<" not in data_text and ">" not in data_text
    assert "\u2028" not in data_text and "\u2029" not in data_text
    return page, json.loads(data_text)


@settings(max_examples=100, deadline=None)
@given(
    name=hostile_text,
    error=hostile_text,
    cause=hostile_text,
    value=json_values,
    kind=hostile_text.map(lambda text: f"X{text}Z"),
    title=hostile_text,
)
def test_hostile_history_stays_text_and_its_data_round_trips(
    name: str, error: str, cause: str, value: Any, kind: str, title: str
) -> None:
    events = parse_events(_history(name, error, cause, value, kind))
    html = render_report(events, _machine(name), name=title)
    page, data = _check_page(html)
    shown = visible(name)
    assert data["initial"] == shown
    assert list(data["states"]) == [shown]
    (visit,) = data["states"][shown]
    assert visit["errors"] == [["TaskFailed", error, cause], ["ExecutionFailed", error, cause]]
    assert [stage[1] for stage in visit["stages"]] == [value, value]
    assert page.states() == {shown}  # every clickable element finds its data


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_in_every_field(payload: str) -> None:
    events = parse_events(_history(payload, payload, payload, {payload: [payload]}, payload))
    html = render_report(events, _machine(payload), name=payload)
    _, data = _check_page(html)
    assert data["states"][visible(payload)][0]["errors"][0] == ["TaskFailed", payload, payload]


def test_a_comment_opener_in_a_cause_does_not_derail_the_script_block() -> None:
    cause = "<!--<script>"
    events = parse_events(_history("A", "E", cause, "</script><b>x</b>", "Odd"))
    html = render_report(events, _machine("A"))
    data_block = html.split('id="asl-data">', 1)[1].split("</script>", 1)[0]
    assert "<!--" not in data_block and "</script" not in data_block.lower()
    assert "\\u003c!--\\u003cscript\\u003e" in data_block
    assert "</script><b>" not in html


def test_a_real_execution_with_hostile_names() -> None:
    name = "</script><script>alert(1)</script>\x1b[2J"
    machine = {
        "StartAt": name,
        "States": {
            name: {"Type": "Pass", "Result": "<!--<script>", "Next": "[/x]"},
            "[/x]": {"Type": "Fail", "Error": "E<b>", "Cause": "c\u2028</SCRIPT>"},
        },
    }
    html = report_html(run_sync(machine, {"k": "<!--"}), machine)
    page, data = _check_page(html)
    assert set(data["states"]) == {visible(name), "[/x]"}
    assert page.states() <= set(data["states"])
    (passed,) = data["states"][visible(name)]
    assert passed["stages"][-1] == ["Output", "<!--<script>"]
