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

from runtime.durable.store.browse import (
    Cursor,
    ExecutionPage,
    ExecutionQuery,
    MachineCounts,
    MachineView,
    MapRunView,
)
from runtime.durable.store.machines import AliasRecord, StateMachineRecord, VersionRecord
from runtime.durable.store.records import ExecutionRecord, ExecutionSummary
from runtime.durable.store.schedules import FiringRecord
from runtime.report import parse_events
from runtime.server.console import pages
from runtime.server.console.tasks import WaitingTask
from tests.hostile import hostile_text
from tests.test_escaping_report import TAGS, Page, _history, _machine

#: The report's elements and the console's own (navigation, links, forms, the dialog).
CONSOLE_TAGS = TAGS | {"nav", "a", "form", "button", "textarea", "dialog", "menu"}
CONSOLE_TAGS |= {"h3", "dl", "dt", "dd", "ul", "li", "code"}

#: The table keys script every page has; the actions script pages with a token add.
KEYS: list[dict[str, str | None]] = [{}]
ACTIONS: list[dict[str, str | None]] = [{}, {}]
TOKEN = 'tok"><script>alert(9)</script>'


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
    _check(pages.executions_page(query, page, 1, [machine, "plain"]), KEYS)
    _check(pages.executions_page(query, page, 1, [machine], token=TOKEN), ACTIONS)
    counts = MachineCounts(row.state_machine_arn, machine, {"FAILED": 1}, 1.0)
    _check(pages.machines_page([counts]), KEYS)
    _check(pages.error_page(name, cause), KEYS)
    definition = _machine(name)
    record = StateMachineRecord(
        row.state_machine_arn, machine, "STANDARD", json.dumps(definition), "role", cause,
        None, None, "rev", 1.0, 2.0,
    )  # fmt: skip
    version = VersionRecord(row.state_machine_arn, 1, "{}", "role", cause, "rev", 1.0)
    alias = AliasRecord(
        row.state_machine_arn + ":" + name, row.state_machine_arn, name, error,
        ({"stateMachineVersionArn": version.arn, "weight": 100},), 1.0, 1.0,
    )  # fmt: skip
    for stored in (record, None):
        view = MachineView(
            row.state_machine_arn, machine, stored, definition, counts, (version,), (alias,)
        )
        _check(pages.machine_page(view, page), KEYS)
        _check(pages.machine_page(view, page, token=TOKEN), ACTIONS)
    task = WaitingTask(name, "callback", cause, 2, 0, 1.0, {name: error})
    activity = (f"arn:aws:states:us-east-1:1:activity:{name}", name, 1.0)
    for token in (None, TOKEN):
        html = pages.tasks_page([(row, [task])], [activity], 1, token=token)
        _check(html, ACTIONS if token else KEYS)
        assert "taskToken" not in html  # the page names the task, never its token
    spec = {
        "Name": name,
        "State": error,
        "ScheduleExpression": cause,
        "Target": {"Arn": row.state_machine_arn},
    }
    firing = FiringRecord(name, 1, "STARTED", row.arn, 1, None, 1.0, cause, "FAILED")
    _check(pages.schedules_page([(spec, [firing])]), KEYS)


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
    own: list[dict[str, Any]] = [
        {"type": "application/json", "id": "asl-data"},
        {"type": "application/json", "id": "console-icons"},
        {},
        {},
    ]
    _check(pages.execution_page(record, events), own + KEYS)
    map_run = MapRunView(
        {"mapRunArn": f"arn:aws:states:::mapRun:M/{name}:x", "status": cause},
        (
            {"index": 3, "name": name, "status": "FAILED", "input": {name: cause},
             "error": error, "cause": cause},
        ),
        True,
    )  # fmt: skip
    html = pages.execution_page(record, events, map_runs=[map_run], token=TOKEN)
    _check(html, own + ACTIONS)


@pytest.mark.parametrize("text", ["\ud800", "\udfff<b>", "\x00\x1b[2J", "\u2028</script>"])
def test_surrogates_and_control_characters_in_every_field(text: str) -> None:
    test_the_lists_keep_hostile_text_as_text.hypothesis.inner_test(text, text, text, text)  # type: ignore[attr-defined]
    test_one_execution_keeps_hostile_text_as_text.hypothesis.inner_test(text, text, text, text)  # type: ignore[attr-defined]
