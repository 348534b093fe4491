"""Hostile store text in the console's pages stays text (read back with HTMLParser).

Every page may hold only the elements and attributes the console writes, no ``on*``
attribute, and exactly its own ``<script>`` elements; the execution page's embedded JSON
(the report's data, the status icons) never holds ``<`` or ``>``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

from runtime.durable.store.browse import Cursor, ExecutionPage, ExecutionQuery, MachineCounts
from runtime.durable.store.records import ExecutionRecord, ExecutionSummary
from runtime.report import parse_events
from runtime.server.console import pages
from tests.hostile import hostile_text
from tests.test_escaping_report import TAGS, Page, _history, _machine

#: The report's elements and the console's own (navigation, links, the filter form).
CONSOLE_TAGS = TAGS | {"nav", "a", "form", "button"}


def _check(html: str, scripts: list[dict[str, str | None]]) -> Page:
    html.encode("utf-8")  # no lone surrogate: the page can be sent
    page = Page(html)
    assert set(page.tags) <= CONSOLE_TAGS
    assert not [name for name, _ in page.attrs if name.startswith("on")]
    assert page.scripts == scripts
    for text, attrs in zip(page.script_text, page.scripts, strict=True):
        if attrs.get("type") == "application/json":
            assert "<" not in text and ">" not in text
    return page


def _summary(name: str, machine: str, error: str, cause: str, status: str) -> ExecutionSummary:
    arn = f"arn:aws:states:us-east-1:123456789012:execution:{machine}:{name}"
    return ExecutionSummary(
        arn, name, machine, f"arn:aws:states:::stateMachine:{machine}", status, 1.0, 2.0, 0,
        error, cause,
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(name=hostile_text, machine=hostile_text, error=hostile_text, cause=hostile_text)
def test_the_lists_keep_hostile_text_as_text(
    name: str, machine: str, error: str, cause: str
) -> None:
    row = _summary(name, machine, error, cause, "FAILED")
    query = ExecutionQuery(machine, "FAILED", name)
    page = ExecutionPage((row,), Cursor(1.0, row.arn), Cursor(1.0, row.arn))
    _check(pages.executions_page(query, page, 1, [machine, "plain"]), [])
    counts = MachineCounts(row.state_machine_arn, machine, {"FAILED": 1}, 1.0)
    _check(pages.machines_page([counts]), [])
    _check(pages.error_page(name, cause), [])


@settings(max_examples=60, deadline=None)
@given(name=hostile_text, error=hostile_text, cause=hostile_text, title=hostile_text)
def test_one_execution_keeps_hostile_text_as_text(
    name: str, error: str, cause: str, title: str
) -> None:
    events = parse_events(_history(name, error, cause, {name: cause}, "OddEvent"))
    summary = _summary(title, "M", error, cause, "RUNNING")
    record = ExecutionRecord(
        *(getattr(summary, f) for f in ExecutionSummary.__dataclass_fields__),
        definition_json=json.dumps(_machine(name)),
        input_json="{}",
        output_json=None,
    )
    html = pages.execution_page(record, events)
    own: list[dict[str, Any]] = [
        {"type": "application/json", "id": "asl-data"},
        {"type": "application/json", "id": "console-icons"},
        {},
        {},
    ]
    _check(html, own)


@pytest.mark.parametrize("text", ["\ud800", "\udfff<b>", "\x00\x1b[2J", "\u2028</script>"])
def test_surrogates_and_control_characters_in_every_field(text: str) -> None:
    test_the_lists_keep_hostile_text_as_text.hypothesis.inner_test(text, text, text, text)  # type: ignore[attr-defined]
    test_one_execution_keeps_hostile_text_as_text.hypothesis.inner_test(text, text, text, text)  # type: ignore[attr-defined]
