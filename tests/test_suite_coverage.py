"""Coverage from histories: states, Next, every Choice rule and Default, every Catch and
Retry entry, nested states; --fail-under; the HTML graph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from runtime import run_sync
from runtime.adapters.mock_config import MockedResponse, MockedTasks
from runtime.api import load_machine
from runtime.cli import main
from runtime.testing import Coverage
from runtime.testing.coverage_html import coverage_html
from runtime.testing.trail import trail_of

SHARED_NEXT = {
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.kind", "StringEquals": "a", "Next": "Same"},
                {"Variable": "$.kind", "StringEquals": "b", "Next": "Same"},
                {"Variable": "$.kind", "StringEquals": "c", "Next": "Other"},
            ],
            "Default": "Same",
        },
        "Same": {"Type": "Succeed"},
        "Other": {"Type": "Succeed"},
    },
}

NESTED = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {
                    "StartAt": "Work",
                    "States": {
                        "Work": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": "work"},
                            "End": True,
                        }
                    },
                },
            ],
            "Catch": [
                {"ErrorEquals": ["Custom"], "Next": "Recover"},
                {"ErrorEquals": ["States.ALL"], "Next": "Recover"},
            ],
            "ResultPath": "$.both",
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "StartAt": "One",
                "States": {"One": {"Type": "Pass", "Next": "Two"}, "Two": {"Type": "Succeed"}},
            },
            "End": True,
        },
        "Recover": {"Type": "Succeed"},
    },
}


def mocks(**answers: dict[str, Any]) -> MockedTasks:
    return MockedTasks({name: MockedResponse.parse(name, body) for name, body in answers.items()})


def covered(cov: Coverage) -> set[str]:
    return {t.describe() for t in cov.targets if cov.covered(t)}


def test_choice_rules_sharing_a_next_are_told_apart_by_their_conditions() -> None:
    machine = load_machine(SHARED_NEXT)
    cov = Coverage(machine, "shared")
    for kind in ("b", "zzz"):
        cov.add(trail_of(run_sync(machine, {"kind": kind})))
    assert "Route → Same (rule 2)" in covered(cov)
    assert "Route → Same (Default)" in covered(cov)
    missed = {t.describe() for t in cov.missed()}
    assert missed == {"Route → Same (rule 1)", "Route → Other (rule 3)", "Other"}
    assert cov.notes == []


def test_a_rule_reading_variables_is_not_guessed() -> None:
    definition = json.loads(json.dumps(SHARED_NEXT))
    definition["States"]["Route"]["Choices"][0] = {
        "Variable": "$kind",
        "StringEquals": "a",
        "Next": "Same",
    }
    definition["States"] = {
        "Init": {"Type": "Pass", "Assign": {"kind": "b"}, "Next": "Route"},
        **definition["States"],
    }
    definition["StartAt"] = "Init"
    machine = load_machine(definition)
    cov = Coverage(machine, "vars")
    cov.add(trail_of(run_sync(machine, {"kind": "b"})), "case-1")
    assert not any(t.kind in ("choice", "default") and cov.covered(t) for t in cov.targets)
    assert cov.notes == ["case-1: Route: cannot tell which Choice rule led to Same"]


def test_nested_states_catch_entries_and_map_iterations() -> None:
    machine = load_machine(NESTED)
    cov = Coverage(machine, "nested")
    ok = {"0": {"Return": {"done": True}}}
    cov.add(trail_of(run_sync(machine, {"items": [1, 2]}, mocks=mocks(Work=ok))))
    assert {"Left", "Work", "One", "Two", "One → Two", "Both → Each"} <= covered(cov)
    assert "Both catch 1 → Recover" not in covered(cov)
    failing = {"0": {"Throw": {"Error": "Other", "Cause": "no"}}}
    cov.add(trail_of(run_sync(machine, {"items": []}, mocks=mocks(Work=failing))))
    # Both entries lead to Recover: the error inside the Parallel picks the second.
    assert "Both catch 2 → Recover" in covered(cov)
    assert "Both catch 1 → Recover" not in covered(cov)
    custom = {"0": {"Throw": {"Error": "Custom", "Cause": "no"}}}
    cov.add(trail_of(run_sync(machine, {"items": []}, mocks=mocks(Work=custom))))
    assert cov.percent == 100.0
    assert cov.hits[("state", "One", None)] == 2  # once per iteration


def test_retry_entries_by_error() -> None:
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f"},
                "Retry": [
                    {"ErrorEquals": ["Slow"], "MaxAttempts": 1},
                    {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1},
                ],
                "End": True,
            }
        },
    }
    machine = load_machine(definition)
    cov = Coverage(machine, "retry")
    answers = {"0": {"Throw": {"Error": "Slow", "Cause": ""}}, "1": {"Return": 1}}
    cov.add(trail_of(run_sync(machine, {}, mocks=mocks(Call=answers))))
    assert "Call retry 1" in covered(cov) and "Call retry 2" not in covered(cov)
    # Failing for good: the last failure was not retried, so it counts for nothing.
    answers = {"0": {"Throw": {"Error": "Boom", "Cause": ""}}}
    other = {**answers, "1": {"Throw": {"Error": "Boom", "Cause": ""}}}
    cov.add(trail_of(run_sync(machine, {}, mocks=mocks(Call=other))))
    assert cov.hits[("retry", "Call", 1)] == 1


def test_coverage_reads_a_history_recorded_elsewhere() -> None:
    """Only the AWS-shaped events are read: a history file gives the same coverage."""
    machine = load_machine(SHARED_NEXT)
    events = run_sync(machine, {"kind": "c"}).history_json()
    cov = Coverage(machine, "file")
    cov.add(trail_of(json.loads(json.dumps(events))))
    assert covered(cov) == {"Route", "Route → Other (rule 3)", "Other"}


def test_html_colours_covered_and_missed_states() -> None:
    machine = load_machine(SHARED_NEXT)
    cov = Coverage(machine, "shared <svg>")
    cov.add(trail_of(run_sync(machine, {"kind": "c"})))
    html = coverage_html([cov])
    assert 'class="state type-Succeed terminal cov-covered" data-node="n3" data-state="Other"' in (
        html
    )
    assert "cov-missed" in html and 'data-state="Same"' in html
    assert "cov-partial" in html  # Route: entered, but rules 1, 2 and Default never taken
    assert "shared &lt;svg&gt;" in html and "shared <svg>" not in html


def _suite(tmp_path: Path, kinds: list[str]) -> Path:
    (tmp_path / "route.asl.json").write_text(json.dumps(SHARED_NEXT))
    cases = {f"kind-{k}": {"input": {"kind": k}, "expect": {"status": "SUCCEEDED"}} for k in kinds}
    path = tmp_path / "route.asl-test.yaml"
    path.write_text(yaml.safe_dump({"definition": "route.asl.json", "cases": cases}))
    return path


def test_fail_under(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    partial = _suite(tmp_path, ["a", "c"])
    assert main(["test", str(partial), "--fail-under", "100"]) == 1
    out = capsys.readouterr().out
    assert "under --fail-under 100" in out
    assert "missed in" in out and "Route → Same (rule 2)" in out
    assert main(["test", str(partial), "--fail-under", "50"]) == 0
    full = _suite(tmp_path, ["a", "b", "c", "d"])
    html = tmp_path / "coverage.html"
    assert main(["test", str(full), "--fail-under", "100", "--coverage-html", str(html)]) == 0
    assert "100.0%" in html.read_text()
    assert main(["test", str(full), "--fail-under", "101"]) == 2


def test_distributed_map_inner_states_are_left_out_with_a_note() -> None:
    definition = json.loads(json.dumps(NESTED))
    processor = definition["States"]["Each"]["ItemProcessor"]
    processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    machine = load_machine(definition)
    cov = Coverage(machine, "dmap")
    assert not {"One", "Two"} & {t.state for t in cov.targets}
    assert cov.notes == [
        "Each: a Distributed Map's iterations are child executions with their own histories; "
        "the states inside it are not counted"
    ]


def test_html_draws_covered_transitions_green_only_when_every_entry_was_taken() -> None:
    from runtime.testing.coverage_html import _taken

    machine = load_machine(SHARED_NEXT)
    cov = Coverage(machine, "shared")
    cov.add(trail_of(run_sync(machine, {"kind": "c"})))
    cov.add(trail_of(run_sync(machine, {"kind": "a"})))
    # Rule 3 leads alone to Other; rules 1, 2 and Default share the edge to Same.
    assert _taken(cov) == {("Route", "Other")}
    for kind in ("b", "zzz"):
        cov.add(trail_of(run_sync(machine, {"kind": kind})))
    assert _taken(cov) == {("Route", "Other"), ("Route", "Same")}
    html = coverage_html([cov])
    assert html.count('class="edge edge-choice edge-taken"') == 3
    assert html.count('class="edge edge-default edge-taken"') == 1
