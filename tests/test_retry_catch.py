"""Retry and Catch semantics, as AWS runs them (SPEC.md A.10 to A.12)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from runtime import TaskFailure, VirtualClock, run_sync

ARN = "arn:aws:lambda:us-east-1:123456789012:function:work"


def failing(*errors: str, then: Any = None) -> Any:
    """A function failing with each error in turn, then returning ``then``."""
    calls = iter(errors)

    def work(event: Any) -> Any:
        error = next(calls, None)
        if error is None:
            return then
        raise TaskFailure(error, f"cause of {error}")

    return work


def task(
    retry: list[dict[str, Any]] | None = None,
    catch: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": ARN, "End": True, **extra}
    if retry is not None:
        state["Retry"] = retry
    if catch is not None:
        state["Catch"] = catch
    states: dict[str, Any] = {"T": state}
    for c in catch or []:
        states[c["Next"]] = {"Type": "Pass", "End": True}
    return {"StartAt": "T", "States": states}


def retry_gaps(result: Any) -> list[float]:
    """Seconds between consecutive LambdaFunctionScheduled events."""
    times = [e.timestamp for e in result.history if e.type == "LambdaFunctionScheduled"]
    return [round(b - a, 6) for a, b in itertools.pairwise(times)]


def test_backoff_rate_and_max_delay() -> None:
    machine = task(
        retry=[
            {
                "ErrorEquals": ["E"],
                "IntervalSeconds": 2,
                "BackoffRate": 3,
                "MaxDelaySeconds": 10,
                "MaxAttempts": 4,
            }
        ]
    )
    result = run_sync(
        machine,
        functions={"work": failing("E", "E", "E", "E", then=1)},
        clock=VirtualClock(start=0),
    )
    assert result.output == 1
    assert retry_gaps(result) == [2, 6, 10, 10]


def test_retries_exhausted_fail_with_the_last_error() -> None:
    machine = task(retry=[{"ErrorEquals": ["E"], "MaxAttempts": 2}])
    result = run_sync(machine, functions={"work": failing("E", "E", "E", then=1)})
    assert (result.status, result.error, result.cause) == ("FAILED", "E", "cause of E")
    assert result.event_types.count("LambdaFunctionFailed") == 3


def test_max_attempts_zero_never_retries() -> None:
    machine = task(retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}])
    result = run_sync(machine, functions={"work": failing("E", then=1)})
    assert result.status == "FAILED"
    assert result.event_types.count("LambdaFunctionScheduled") == 1


def test_counters_are_per_retrier_across_errors() -> None:
    # SPEC "complex retry scenarios": ErrorA, ErrorB, ErrorC, ErrorB.
    machine = task(
        retry=[
            {
                "ErrorEquals": ["ErrorA", "ErrorB"],
                "IntervalSeconds": 1,
                "BackoffRate": 2,
                "MaxAttempts": 2,
            },
            {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5},
        ]
    )
    fn = failing("ErrorA", "ErrorB", "ErrorC", "ErrorB", then="never")
    result = run_sync(machine, functions={"work": fn}, clock=VirtualClock(start=0))
    assert retry_gaps(result) == [1, 2, 5]
    assert (result.status, result.error) == ("FAILED", "ErrorB")


def test_full_jitter_is_seedable_and_bounded() -> None:
    machine = task(
        retry=[
            {"ErrorEquals": ["E"], "IntervalSeconds": 8, "JitterStrategy": "FULL", "MaxAttempts": 3}
        ]
    )

    def gaps(seed: int) -> list[float]:
        result = run_sync(
            machine,
            functions={"work": failing("E", "E", "E", then=1)},
            clock=VirtualClock(start=0),
            seed=seed,
        )
        return retry_gaps(result)

    first = gaps(7)
    assert first == gaps(7)
    assert first != gaps(8)
    assert all(0 <= g <= limit for g, limit in zip(first, [8, 16, 32], strict=True))


def test_retry_count_in_context_object() -> None:
    machine = task(
        retry=[{"ErrorEquals": ["E"], "MaxAttempts": 3}],
        Parameters={"n.$": "$$.State.RetryCount"},
    )
    seen: list[Any] = []

    def work(event: Any) -> Any:
        seen.append(event["n"])
        if len(seen) < 3:
            raise TaskFailure("E", "again")
        return "ok"

    assert run_sync(machine, functions={"work": work}).output == "ok"
    assert seen == [0, 1, 2]


@pytest.mark.parametrize(
    ("error_equals", "error", "caught"),
    [
        (["States.ALL"], "Anything", True),
        (["States.TaskFailed"], "Custom", True),
        (["States.TaskFailed"], "States.Timeout", False),
        (["Other"], "Custom", False),
        (["Custom"], "Custom", True),
    ],
)
def test_catch_matching(error_equals: list[str], error: str, caught: bool) -> None:
    machine = task(
        catch=[{"ErrorEquals": error_equals, "Next": "Handler", "ResultPath": "$.error"}]
    )
    result = run_sync(machine, {"in": 1}, functions={"work": failing(error)})
    if caught:
        assert result.output == {"in": 1, "error": {"Error": error, "Cause": f"cause of {error}"}}
    else:
        assert result.status == "FAILED"


def test_states_runtime_is_never_caught() -> None:
    machine = task(
        catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handler"}],
        OutputPath="$.missing",
    )
    result = run_sync(machine, functions={"work": lambda e: {"x": 1}})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert result.cause == (
        "An error occurred while executing the state 'T' (entered at the event id #2). "
        "Invalid path '$.missing' : No results for path: $['missing']"
    )


def test_parallel_branch_failure_cancels_siblings() -> None:
    machine = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "Slow",
                        "States": {"Slow": {"Type": "Wait", "Seconds": 100, "End": True}},
                    },
                    {
                        "StartAt": "Bad",
                        "States": {"Bad": {"Type": "Fail", "Error": "B", "Cause": "c"}},
                    },
                ],
            }
        },
    }
    clock = VirtualClock(start=0)
    result = run_sync(machine, clock=clock)
    assert (result.status, result.error, result.cause) == ("FAILED", "B", "c")
    assert clock.now() == 0
    assert "WaitStateExited" not in result.event_types


def test_inspection_records_testate_stages() -> None:
    machine = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": ARN,
                "InputPath": "$.in",
                "Parameters": {"v.$": "$.v"},
                "ResultSelector": {"r.$": "$.r"},
                "ResultPath": "$.out",
                "OutputPath": "$.out",
                "End": True,
            }
        },
    }
    result = run_sync(
        machine, {"in": {"v": 1}}, functions={"work": lambda e: {"r": e["v"] + 1}}, inspect=True
    )
    exited = next(e for e in result.history if e.type == "TaskStateExited")
    assert exited.inspection == {
        "input": {"in": {"v": 1}},
        "afterInputPath": {"v": 1},
        "afterParameters": {"v": 1},
        "result": {"r": 2},
        "afterResultSelector": {"r": 2},
        "afterResultPath": {"in": {"v": 1}, "out": {"r": 2}},
        "output": {"r": 2},
    }
    assert "inspection" not in str(exited.to_aws())
    plain = run_sync(machine, {"in": {"v": 1}}, functions={"work": lambda e: {"r": e["v"] + 1}})
    # Without inspect, only a task's Scheduled event has a note: where its answer came from.
    notes = {e.type: e.inspection for e in plain.history if e.inspection is not None}
    assert notes == {"LambdaFunctionScheduled": {"source": "local function"}}
