"""The live trace of ``asl exec``: what it prints for retries, catches, fan-outs and waits."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from runtime import run_sync
from runtime.api import load_machine
from runtime.engine.clock import VirtualClock
from runtime.engine.errors import TaskFailure
from runtime.trace import LiveTrace, format_duration, shorten
from runtime.trace.path import ARROW, compress_path
from runtime.trace.stages import brief, variables_text

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


def traced(
    definition: dict[str, Any],
    input: Any = None,
    functions: dict[str, Callable[[Any], Any]] | None = None,
    terminal: bool = False,
    record: bool | None = None,
    **options: Any,
) -> str:
    """Run ``definition`` under a trace writing to a string; return the whole output.

    ``record`` is the execution's ``inspect`` (the trace's, unless given).
    """
    record = bool(options.get("inspect")) if record is None else record
    machine = load_machine(definition)
    buf = io.StringIO()
    console = Console(file=buf, width=100, force_terminal=terminal)
    trace = LiveTrace(machine, virtual=True, console=console, **options)
    result = run_sync(
        machine,
        input,
        observers=[trace.observe],
        clock=VirtualClock(),
        functions=functions,
        inspect=record,
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
    assert "✗ Call  failed (attempt 1)  [local function]  MyError: it broke" in out
    assert "↻ Call  attempt 2 after 2s" in out
    assert "✗ Call  failed (attempt 2)  [local function]  MyError: it broke" in out
    assert "↻ Call  attempt 3 after 4s" in out
    assert "after 3 attempts" in line_with(out, "✓ Call  Task  6s")
    assert "attempt 4" not in out


def test_exhausted_retries_fail_the_execution_in_the_trace() -> None:
    out = traced(RETRY, functions={"flaky": flaky(10)})
    assert "✗ Call  failed (attempt 4)  [local function]  MyError: it broke" in out
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
    assert "✗ Risky  failed  [local function]  Boom: kaput with spaces" in out
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
    assert "  [0] ✗ Work  failed  [local function]  Boom: kaput" in out
    assert "[0] ✗ iteration 0 failed" in out
    assert "✗ Fan  failed  iteration [0]  Boom: kaput" in out
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
    assert "✗ Fan  failed (attempt 1)  iteration [0]  MyError" in out
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
    row = next(line for line in out.splitlines() if line.startswith("│ Call"))
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


# -- data flow: assigned variables, --inspect stages, the path ---------------------------

FLOW = {
    "StartAt": "Prep",
    "States": {
        "Prep": {
            "Type": "Pass",
            "Parameters": {"x.$": "$.a"},
            "ResultPath": "$.r",
            "Assign": {"x.$": "$.x", "items": [1, 2, 3], "label": "a long label " * 5},
            "Next": "Risky",
        },
        "Risky": {
            "Type": "Task",
            "Resource": ARN + "boom",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Late", "Assign": {"e": 1}}],
            "End": True,
        },
        "Late": {
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Output": "{% $states.input.Error %}",
            "End": True,
        },
    },
}


def test_assigned_variables_are_on_the_state_line_in_every_run() -> None:
    out = traced(FLOW, {"a": 1}, functions={"boom": boom})
    line = line_with(out, "✓ Prep  Pass")
    assert 'x=1 items=[…3] label="a long label' in line and line.endswith("…")
    assert line_with(out, "caught Boom → Late").endswith("e=1")
    assert "=" not in line_with(out, "✓ Late  Pass")
    assert "│" not in out.split("Execution summary")[0]  # no stages without inspect


def test_inspect_prints_testsate_stages_in_order() -> None:
    out = traced(FLOW, {"a": 1}, functions={"boom": boom}, inspect=True)
    lines = out.split("Execution summary")[0].splitlines()
    start = lines.index(line_with(out, "✓ Prep  Pass"))
    stages = [line.split()[1:] for line in lines[start + 1 : start + 8]]
    assert stages == [
        ["input", '{"a":1}'],
        ["afterInputPath", "(unchanged)"],
        ["afterParameters", '{"x":1}'],
        ["result", "(unchanged)"],
        ["afterResultPath", '{"a":1,"r":{"x":1}}'],
        ["output", "(unchanged)"],
        stages[6],
    ]
    assert stages[6][0] == "variables" and stages[6][1].startswith('{"x":1,"items":[1,2,3]')
    assert stages[6][-1].endswith("…")  # cut to the console width
    # A caught state's stages follow its catch line; JSONata states have no path stages.
    caught = lines.index(line_with(out, "caught Boom → Late"))
    assert lines[caught + 1].split()[1:] == ["input", '{"a":1,"r":{"x":1}}']
    assert '{"Error":"Boom","Cause":"kaput\\n' in lines[caught + 3]
    late = lines.index(line_with(out, "✓ Late  Pass"))
    assert [line.split()[1] for line in lines[late + 1 :] if "│" in line] == ["input", "output"]
    assert lines[-2].startswith("✓ execution SUCCEEDED")


def test_inspect_without_recorded_stages_shows_input_and_output() -> None:
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": {"b": 2}, "End": True}},
    }
    out = traced(definition, {"a": 1}, inspect=True, record=False)
    assert '│ input               {"a":1}' in out
    assert '│ output              {"b":2}' in out
    assert "afterInputPath" not in out


def test_inspect_stages_are_nested_in_map_iterations() -> None:
    definition = fan()
    definition["States"]["Fan"]["ItemProcessor"]["States"]["Work"]["Parameters"] = {"v.$": "$"}
    out = traced(definition, [7, 8], inspect=True, map_detail=1)
    assert '  [0]   │ afterParameters     {"v":7}' in out
    assert "[1]" not in out  # iteration 1 is past map_detail
    assert '│ result              [{"v":7},{"v":8}]' in out


def test_the_summary_shows_the_path_with_loops_compressed() -> None:
    loop = {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Result": 0, "ResultPath": "$.i", "Next": "Check"},
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.i", "NumericGreaterThanEquals": 30, "Next": "End"}],
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
    out = traced(loop, max_lines=5)
    assert "Init → (Check → Inc) ×30 → Check → End" in line_with(out, "│ path")


@pytest.mark.parametrize(
    ("names", "text"),
    [
        ("", ""),
        ("A", "A"),
        ("AB", "A → B"),
        ("AAAB", "A ×3 → B"),
        ("SCTRCTRCTRD", "S → (C → T → R) ×3 → D"),
        ("AABAABAAB", "(A ×2 → B) ×3"),
        ("ABABA", "(A → B) ×2 → A"),
    ],
)
def test_compress_path(names: str, text: str) -> None:
    assert compress_path(list(names)) == text


def test_a_long_path_is_cut_in_the_middle() -> None:
    names = [f"S{i}" for i in range(100)]
    text = compress_path(names, max_pieces=9)
    assert text == "S0 → S1 → S2 → S3 → S4 → S5 → … 91 more … → S97 → S98 → S99"
    assert compress_path(["x" * 80]) == "x" * 39 + "…"


def _expand(text: str) -> list[str]:
    """The inverse of compress_path (names without arrows, parentheses or ×)."""
    pieces, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and text.startswith(ARROW, i):
            pieces.append(text[start:i])
            start = i + len(ARROW)
    pieces.append(text[start:])
    out: list[str] = []
    for piece in filter(None, pieces):
        base, _, count = piece.rpartition(" ×") if " ×" in piece else (piece, "", "1")
        if piece.endswith(")") or not count.replace(",", "").isdigit():
            base, count = piece, "1"
        inner = _expand(base[1:-1]) if base.startswith("(") else [base]
        out.extend(inner * int(count.replace(",", "")))
    return out


@given(st.lists(st.sampled_from(["A", "B", "C"]), max_size=60))
def test_compression_is_faithful(names: list[str]) -> None:
    assert _expand(compress_path(names, max_pieces=10**6)) == names


def test_variables_are_shown_briefly() -> None:
    assert brief([]) == "[]" and brief([1, 2]) == "[…2]" and brief({"a": 1}) == "{…1}"
    assert brief("é" * 40).endswith("…") and len(brief("é" * 40)) == 24
    assert variables_text({"x": 1, "ok": True, "n": None}) == "x=1 ok=true n=null"


def _fail_in_parallel(fail: dict[str, Any]) -> dict[str, Any]:
    return {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", **fail}}}],
            }
        },
    }


@pytest.mark.parametrize(
    "fail",
    [
        {"ErrorPath": "$.e", "CausePath": "$.c"},
        {
            "QueryLanguage": "JSONata",
            "Error": "{% $states.input.e %}",
            "Cause": "{% $states.input.c %}",
        },
    ],
    ids=["paths", "jsonata"],
)
def test_a_fail_with_a_computed_error_shows_the_value_not_a_placeholder(
    fail: dict[str, Any],
) -> None:
    out = traced(_fail_in_parallel(fail), {"e": "My.Err", "c": "because of x"})
    fail_line = next(line for line in out.splitlines() if "✗ F" in line)
    assert "My.Err: because of x" in fail_line
    assert "computed" not in out
    # The Parallel's failure line names the same error.
    assert any("✗ P" in line and "My.Err" in line for line in out.splitlines())


def test_a_fail_without_an_error_shows_no_placeholder() -> None:
    out = traced({"StartAt": "F", "States": {"F": {"Type": "Fail"}}})
    assert "computed" not in out
    assert "✗ F  Fail" in out


def test_on_the_virtual_clock_a_task_waiting_for_a_worker_shows_the_lines_so_far() -> None:
    """Nothing else happens until a worker answers: the screen must not hold lines back."""
    import anyio

    from runtime import run
    from runtime.adapters import activity
    from runtime.adapters.base import AdapterRegistry
    from runtime.callbacks.registry import CallbackRegistry

    activities = activity.Activities(CallbackRegistry())
    adapters = AdapterRegistry()
    activity.register(adapters, activities)
    definition = {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Next": "Resize"},
            "Resize": {
                "Type": "Task",
                "Resource": "arn:aws:states:us-east-1:111111111111:activity:resize",
                "End": True,
            },
        },
    }
    machine = load_machine(definition)
    buf = io.StringIO()
    trace = LiveTrace(machine, virtual=True, console=Console(file=buf, width=100))
    seen: list[str] = []

    async def worker() -> None:
        task = await activities.get_task("resize", "w1", timeout=10)
        assert task is not None
        seen.append(buf.getvalue())  # what the user sees while the task waits
        activities.callbacks.send_task_success(task.token, "{}")

    async def main() -> Any:
        async with anyio.create_task_group() as group:
            group.start_soon(worker)
            await anyio.sleep(0)
            return await run(
                machine, {}, adapters=adapters, clock=VirtualClock(), observers=[trace.observe]
            )

    result = anyio.run(main)
    trace.close()
    assert result.status == "SUCCEEDED"
    [screen] = seen
    assert "✓ Init" in screen
    assert "⋯ Resize  waits for a worker on activity 'resize'" in screen


def test_the_footer_says_what_a_running_state_waits_for() -> None:
    from runtime.trace.live import wait_note
    from runtime.trace.output import footer_text

    machine = load_machine(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 900, "End": True}}}
    )
    note = wait_note(machine.all_states["W"], 0.0)
    assert note == "of 15m, until 1970-01-01T00:15:00.000Z"
    text = footer_text({"": ("W", "Wait", 0.0, note)}, 1, 60.0, 0.0).plain
    assert "⋯ W  Wait  1m" in text and "of 15m" in text


def _map_of_thirty(bad: int | None) -> str:
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "End": True,
                "ItemProcessor": {
                    "StartAt": "Work",
                    "States": {
                        "Work": {
                            "Type": "Task",
                            "Resource": ARN + "work",
                            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1}],
                            "End": True,
                        }
                    },
                },
            }
        },
    }
    calls: dict[int, int] = {}

    def work(item: int) -> int:
        calls[item] = calls.get(item, 0) + 1
        if item == bad:
            raise TaskFailure("Model.BadInput", f"item {item} is bad")
        if item in (12, 25) and calls[item] == 1:
            raise TaskFailure("Flaky", "once")
        return item

    return traced(definition, list(range(30)), functions={"work": work})


def test_a_failed_iteration_past_the_shown_ones_is_named_with_its_index() -> None:
    out = _map_of_thirty(bad=17)
    assert "✗ Fan[17]  iteration failed  Model.BadInput: item 17 is bad" in out
    assert "✗ Fan  failed  iteration [17]  Model.BadInput" in out


def test_retries_in_iterations_past_the_shown_ones_are_counted() -> None:
    out = _map_of_thirty(bad=None)
    assert "(+20 more iterations, 2 retries)" in out


def test_the_footer_shows_a_maps_progress_and_failed_items() -> None:
    from runtime.trace.lines import failed_items, progress

    assert progress(412, 1000, 3, None) == "[████░░░░░░] 412/1,000 · 3 failed"
    assert progress(250, 1000, 0, 10.0) == "[██░░░░░░░░] 250/1,000 · ETA 30s"
    assert failed_items([537]) == "iteration [537]"
    assert failed_items(list(range(12, 0, -1)), shown=3) == "iterations [1, 2, 3, +9 more]"


CHOOSE = {
    "StartAt": "C",
    "States": {
        "C": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
                {
                    "And": [
                        {"Variable": "$.n", "NumericGreaterThan": 3},
                        {"Variable": "$.kind", "StringEquals": "x"},
                    ],
                    "Next": "Mid",
                },
            ],
            "Default": "Small",
        },
        "Big": {"Type": "Succeed"},
        "Mid": {"Type": "Succeed"},
        "Small": {"Type": "Succeed"},
    },
}


@pytest.mark.parametrize(
    ("input", "shown"),
    [
        ({"n": 5, "kind": "x"}, '#2 $.n > 3 and $.kind == "x" ($.n = 5, $.kind = "x")'),
        ({"n": 1}, "Default"),
    ],
)
def test_inspect_says_which_choice_rule_matched_and_on_what(input: Any, shown: str) -> None:
    out = traced(CHOOSE, input, inspect=True)
    [line] = [line for line in out.splitlines() if "│ rule" in line]
    assert line.split("rule", 1)[1].strip() == shown


def test_inspect_names_the_jsonata_rule_by_its_number() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Condition": "{% $states.input.n > 10 %}", "Next": "Done"},
                    {"Condition": "{% $states.input.n > 3 %}", "Next": "Done"},
                ],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    out = traced(definition, {"n": 5}, inspect=True)
    assert "#2 $states.input.n > 3" in out


def test_the_trace_is_not_cut_to_80_columns_when_it_goes_to_a_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runtime.trace.live import LOG_WIDTH

    monkeypatch.delenv("COLUMNS", raising=False)
    machine = load_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert LiveTrace(machine).console.width == LOG_WIDTH  # stderr is captured here
    monkeypatch.setenv("COLUMNS", "90")
    assert LiveTrace(machine).console.width == 90


@pytest.mark.parametrize(
    ("state", "hint"),
    [
        ({"Parameters": {"a.$": "$.trainng.artifacts"}}, "'$.training.artifacts'"),
        ({"InputPath": "$.training.artefacts"}, "'$.training.artifacts'"),
        ({"InputPath": "$.training", "Parameters": {"a.$": "$.artefacts"}}, "'$.artifacts'"),
        ({"InputPath": "$.runs[1].mdoel"}, "'$.runs[1].model'"),
    ],
)
def test_a_path_that_selects_nothing_gets_a_did_you_mean(state: dict[str, Any], hint: str) -> None:
    definition = {"StartAt": "T", "States": {"T": {"Type": "Pass", "End": True, **state}}}
    data = {"training": {"artifacts": "s3://x"}, "runs": [{}, {"model": 1}]}
    out = traced(definition, data)
    assert f"hint: did you mean {hint}?" in out
    # AWS's cause is printed as AWS gives it.
    assert "States.Runtime: An error occurred while executing the state 'T'" in out


def test_no_hint_when_nothing_is_close() -> None:
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Pass", "InputPath": "$.zzz", "End": True}},
    }
    assert "hint" not in traced(definition, {"training": 1})
