"""The live trace of ``asl exec``: what it prints for retries, catches, fan-outs and waits."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console

from runtime import run_sync
from runtime.api import load_machine
from runtime.clock import VirtualClock
from runtime.errors import TaskFailure
from runtime.trace import LiveTrace, format_duration, shorten

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


def traced(
    definition: dict[str, Any],
    input: Any = None,
    functions: dict[str, Callable[[Any], Any]] | None = None,
    terminal: bool = False,
    **options: Any,
) -> str:
    """Run ``definition`` under a trace writing to a string; return the whole output."""
    machine = load_machine(definition)
    buf = io.StringIO()
    console = Console(file=buf, width=100, force_terminal=terminal)
    trace = LiveTrace(machine, virtual=True, console=console, **options)
    result = run_sync(
        machine, input, observers=[trace.observe], clock=VirtualClock(), functions=functions
    )
    trace.close()
    trace.summary(result)
    return buf.getvalue()


def flaky(failures: int) -> Callable[[Any], Any]:
    calls = {"n": 0}

    def fn(payload: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise TaskFailure("MyError", "it broke")
        return {"ok": True}

    return fn


def boom(payload: Any) -> Any:
    raise TaskFailure("Boom", "kaput\n   with   spaces")


def line_with(text: str, needle: str) -> str:
    found = [line for line in text.splitlines() if needle in line]
    assert found, f"no line with {needle!r} in:\n{text}"
    return found[0]


RETRY = {
    "StartAt": "Call",
    "States": {
        "Call": {
            "Type": "Task",
            "Resource": ARN + "flaky",
            "Retry": [{"ErrorEquals": ["MyError"], "IntervalSeconds": 2, "BackoffRate": 2}],
            "End": True,
        }
    },
}


def test_retries_show_attempt_numbers_and_delays() -> None:
    out = traced(RETRY, functions={"flaky": flaky(2)})
    assert "✗ Call  failed (attempt 1)  MyError: it broke" in out
    assert "↻ Call  attempt 2 after 2s" in out
    assert "✗ Call  failed (attempt 2)  MyError: it broke" in out
    assert "↻ Call  attempt 3 after 4s" in out
    assert "after 3 attempts" in line_with(out, "✓ Call  Task  6s")
    assert "attempt 4" not in out


def test_exhausted_retries_fail_the_execution_in_the_trace() -> None:
    out = traced(RETRY, functions={"flaky": flaky(10)})
    assert "✗ Call  failed (attempt 4)  MyError: it broke" in out
    assert "✗ execution FAILED" in out
    assert "MyError: it broke" in line_with(out, "execution FAILED")


CATCH = {
    "StartAt": "Risky",
    "States": {
        "Risky": {
            "Type": "Task",
            "Resource": ARN + "boom",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover", "ResultPath": "$.e"}],
            "Next": "Unreached",
        },
        "Unreached": {"Type": "Succeed"},
        "Recover": {"Type": "Pass", "End": True},
    },
}


def test_a_catch_shows_the_error_and_its_target() -> None:
    out = traced(CATCH, functions={"boom": boom})
    # The cause is put on one line.
    assert "✗ Risky  failed  Boom: kaput with spaces" in out
    assert "⤷ Risky  caught Boom → Recover" in out
    assert "✓ Recover  Pass" in out
    assert "Unreached" not in out
    lines = out.splitlines()
    assert lines.index(line_with(out, "caught Boom")) < lines.index(line_with(out, "✓ Recover"))


def test_a_virtual_wait_is_marked() -> None:
    wait = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 273600, "End": True}}}
    out = traced(wait)
    assert "✓ Nap  Wait  waited 3d 4h (virtual)" in out
    assert "(virtual clock)" in line_with(out, "execution started")


def fan() -> dict[str, Any]:
    return {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "MaxConcurrency": 0,
                "ItemProcessor": {
                    "StartAt": "Work",
                    "States": {"Work": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }


def test_map_iterations_are_nested_and_capped() -> None:
    out = traced(fan(), list(range(5)), map_detail=3)
    assert "▼ Fan  Map  5 items" in out
    for index in range(3):
        assert f"  [{index}] ✓ Work  Pass" in out
    assert "[3]" not in out and "[4]" not in out
    assert "(+2 more iterations)" in line_with(out, "✓ Fan  Map")


def test_a_failing_iteration_is_shown_in_red_and_counted() -> None:
    definition = fan()
    definition["States"]["Fan"]["ItemProcessor"]["States"]["Work"] = {
        "Type": "Task",
        "Resource": ARN + "boom",
        "End": True,
    }
    out = traced(definition, [1], functions={"boom": boom})
    assert "  [0] ✗ Work  failed  Boom: kaput" in out
    assert "[0] ✗ iteration 0 failed" in out
    assert "✗ Fan  failed  Boom: kaput" in out
    assert "FAILED" in line_with(out, "status")


def test_a_map_retry_shows_the_failed_attempt_and_the_next() -> None:
    definition = fan()
    fan_state = definition["States"]["Fan"]
    fan_state["ItemProcessor"]["States"]["Work"] = {
        "Type": "Task",
        "Resource": ARN + "flaky",
        "End": True,
    }
    fan_state["Retry"] = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1}]
    out = traced(definition, [1], functions={"flaky": flaky(1)})
    assert "✗ Fan  failed (attempt 1)  MyError" in out
    assert "↻ Fan  attempt 2 after 1s" in out
    assert out.count("▼ Fan  Map  1 item") == 2
    assert "after 2 attempts" in line_with(out, "✓ Fan  Map")


def test_parallel_branches_are_nested_with_their_labels() -> None:
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                    {
                        "StartAt": "B",
                        "States": {"B": {"Type": "Fail", "Error": "BErr", "Cause": "b broke"}},
                    },
                ],
                "Catch": [{"ErrorEquals": ["BErr"], "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Pass", "End": True},
        },
    }
    out = traced(definition)
    assert "▼ Both  Parallel" in out
    assert "  [0] ✓ A  Pass" in out
    assert "  [1] ✗ B  Fail  BErr: b broke" in out
    assert "⤷ Both  caught BErr → Done" in out


def test_the_summary_table_has_the_outcome_and_per_state_rows() -> None:
    out = traced(RETRY, functions={"flaky": flaky(1)})
    assert "Execution summary" in out
    assert "SUCCEEDED" in line_with(out, "status")
    assert "1" in line_with(out, "retries ")
    assert "2s (virtual clock)" in line_with(out, "duration")
    assert "wall time" in out
    row = line_with(out, "│ Call")
    assert row.split("│")[2].strip() == "Task"
    assert row.split("│")[3].strip() == "1"  # entered once, retried once


def test_the_summary_of_a_failure_has_error_and_cause() -> None:
    out = traced(RETRY, functions={"flaky": flaky(9)})
    assert "FAILED" in line_with(out, "│ status")
    assert "MyError" in line_with(out, "│ error")
    assert "it broke" in line_with(out, "│ cause")


def test_the_line_budget_keeps_the_outcome() -> None:
    loop = {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Result": 0, "ResultPath": "$.i", "Next": "Check"},
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.i", "NumericGreaterThanEquals": 50, "Next": "End"}],
                "Default": "Inc",
            },
            "Inc": {
                "Type": "Pass",
                "Parameters": {"i.$": "States.MathAdd($.i, 1)"},
                "Next": "Check",
            },
            "End": {"Type": "Succeed"},
        },
    }
    out = traced(loop, max_lines=10)
    assert out.count("✓ Check  Choice") + out.count("✓ Inc  Pass") <= 10
    assert "more trace lines not shown (max_lines=10)" in out
    assert "✓ execution SUCCEEDED" in out
    assert "51" in line_with(out, "│ Check")


def test_inspect_shows_inputs_and_outputs() -> None:
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": {"b": 2}, "End": True}},
    }
    out = traced(definition, {"a": 1}, inspect=True)
    assert 'in:  {"a":1}' in out
    assert 'out: {"b":2}' in out


def test_a_terminal_gets_colours_and_a_stopped_live_footer() -> None:
    out = traced(CATCH, functions={"boom": boom}, terminal=True, refresh_per_second=50)
    assert "\x1b[" in out  # styled
    assert "caught" in out and "Recover" in out
    assert "\x1b[?25h" in out  # the Live footer was stopped: cursor shown again


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0ms"),
        (0.0004, "<1ms"),
        (0.25, "250ms"),
        (1.5, "1.5s"),
        (2, "2s"),
        (185, "3m 5s"),
        (3600, "1h"),
        (4 * 3600 + 12 * 60 + 5, "4h 12m"),
        (273600, "3d 4h"),
        (-1, "0ms"),
    ],
)
def test_durations_are_humane(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_shorten_keeps_one_line_within_the_width() -> None:
    assert shorten("a\n  b") == "a b"
    assert shorten("x" * 50, 10) == "x" * 9 + "…"
    assert shorten({"k": 1}) == "{'k': 1}"
    assert shorten("short", 10) == "short"
