"""Waits, timeouts and the 1-year limit under the virtual clock."""

from __future__ import annotations

import time
from typing import Any

import pytest

from runtime import RealClock, TaskFailure, VirtualClock, run_sync
from runtime.engine.clock import Clock

DAY = 86400.0


def wait_machine(seconds: float, **top: Any) -> dict[str, Any]:
    return {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": int(seconds), "End": True}},
        **top,
    }


def test_wait_of_400_days_times_out_at_one_year_quickly() -> None:
    clock = VirtualClock(start=1_700_000_000.0)
    started = time.perf_counter()
    result = run_sync(wait_machine(400 * DAY), clock=clock)
    assert time.perf_counter() - started < 1.0
    assert result.status == "TIMED_OUT"
    assert result.error == "States.Timeout"
    assert result.event_types == [
        "ExecutionStarted",
        "WaitStateEntered",
        "ExecutionTimedOut",
    ]
    assert result.stop_time - result.start_time == pytest.approx(365 * DAY)


def test_wait_of_364_days_succeeds_with_aws_timestamps() -> None:
    clock = VirtualClock(start=1_700_000_000.0)
    result = run_sync(wait_machine(364 * DAY), {"k": 1}, clock=clock)
    assert result.status == "SUCCEEDED"
    assert result.output == {"k": 1}
    exited = result.history[-2]
    assert exited.type == "WaitStateExited"
    assert exited.timestamp - result.history[1].timestamp == pytest.approx(364 * DAY)
    assert result.history_json()[-1]["timestamp"].endswith("Z")


def test_machine_timeout_seconds_ends_timed_out() -> None:
    result = run_sync(wait_machine(100, TimeoutSeconds=10), clock=VirtualClock(start=0.0))
    assert result.status == "TIMED_OUT"
    assert result.stop_time - result.start_time == pytest.approx(10)


def test_wait_timestamp_in_the_past_continues_at_once() -> None:
    machine = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Timestamp": "2001-01-01T00:00:00Z", "End": True}},
    }
    clock = VirtualClock(start=1_700_000_000.0)
    result = run_sync(machine, clock=clock)
    assert result.status == "SUCCEEDED"
    assert clock.now() == 1_700_000_000.0


def test_wait_beyond_aws_horizon_is_a_runtime_error() -> None:
    machine = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Timestamp": "2999-01-01T00:00:00Z", "End": True}},
    }
    result = run_sync(machine, clock=VirtualClock(start=1_700_000_000.0))
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert result.cause is not None and "Wait state delay is too long" in result.cause


def slow_task_machine(timeout: int) -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:slow",
                "TimeoutSeconds": timeout,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


def sleeping_function(clock: Clock, seconds: float) -> Any:
    async def slow(event: Any) -> Any:
        await clock.sleep_until(clock.now() + seconds)
        return {"done": True}

    return slow


def test_task_timeout_gives_states_timeout() -> None:
    clock = VirtualClock(start=0.0)
    result = run_sync(
        slow_task_machine(10), clock=clock, functions={"slow": sleeping_function(clock, 60)}
    )
    assert result.status == "SUCCEEDED"
    assert result.output == {"Error": "States.Timeout"}
    assert "LambdaFunctionTimedOut" in result.event_types
    assert clock.now() == pytest.approx(10)


def test_task_within_its_timeout_succeeds() -> None:
    clock = VirtualClock(start=0.0)
    result = run_sync(
        slow_task_machine(100), clock=clock, functions={"slow": sleeping_function(clock, 60)}
    )
    assert result.output == {"done": True}
    assert "LambdaFunctionSucceeded" in result.event_types


def test_real_clock_runs_a_short_machine() -> None:
    result = run_sync(wait_machine(0), clock=RealClock())
    assert result.status == "SUCCEEDED"


def test_function_failure_is_a_task_failure() -> None:
    def boom(event: Any) -> Any:
        raise TaskFailure("Custom.Error", "it broke")

    machine = slow_task_machine(10)
    del machine["States"]["T"]["Catch"]
    del machine["States"]["Caught"]
    result = run_sync(machine, functions={"slow": boom})
    assert (result.status, result.error, result.cause) == ("FAILED", "Custom.Error", "it broke")


def heartbeat_machine(catch: str) -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "slow"},
                "HeartbeatSeconds": 10,
                "TimeoutSeconds": 1000,
                "Catch": [{"ErrorEquals": [catch], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


def beating_function(clock: Clock, beats: int, last: float = 8) -> Any:
    from runtime.adapters.base import TaskCall

    class Beating:
        async def invoke(self, call: TaskCall) -> Any:
            for _ in range(beats):
                await clock.sleep_until(clock.now() + 8)
                call.heartbeat()
            await clock.sleep_until(clock.now() + last)
            return "done"

    return Beating()


@pytest.mark.parametrize("catch", ["States.HeartbeatTimeout", "States.Timeout"])
def test_missed_heartbeat_is_states_timeout(catch: str) -> None:
    from runtime import AdapterRegistry

    clock = VirtualClock(start=0.0)
    registry = AdapterRegistry()
    registry.register("lambda:invoke", beating_function(clock, 2, last=30))
    registry_slow = run_sync(heartbeat_machine(catch), clock=clock, adapters=registry)
    assert registry_slow.output == {"Error": "States.Timeout"}
    assert "TaskTimedOut" in registry_slow.event_types
    assert clock.now() == pytest.approx(26)  # two beats at 8 and 16, then silence


def test_heartbeats_keep_a_task_alive() -> None:
    from runtime import AdapterRegistry

    clock = VirtualClock(start=0.0)
    registry = AdapterRegistry()
    registry.register("lambda:invoke", beating_function(clock, 5))
    result = run_sync(heartbeat_machine("States.ALL"), clock=clock, adapters=registry)
    assert result.output == "done"
    assert clock.now() == pytest.approx(48)


def test_oversized_task_result_is_a_catchable_data_limit_failure() -> None:
    machine = slow_task_machine(10)
    machine["States"]["T"]["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]
    result = run_sync(machine, functions={"slow": lambda event: "x" * 300_000})
    assert result.output == {
        "Error": "States.DataLimitExceeded",
        "Cause": "The state/task 'arn:aws:lambda:us-east-1:123456789012:function:slow' "
        "returned a result with a size exceeding the maximum number of bytes service limit.",
    }


def test_history_limit_fails_the_execution_cleanly() -> None:
    machine = {
        "StartAt": "Loop",
        "States": {
            "Loop": {
                "Type": "Pass",
                "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                "Next": "Check",
            },
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericLessThan": 20000, "Next": "Loop"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    result = run_sync(machine, {"n": 0})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert len(result.history) == 25_000
    assert result.history[-1].type == "ExecutionFailed"


def test_literal_timestamp_is_parsed_at_compile_time() -> None:
    from asl import DefinitionError
    from runtime import load_machine

    machine = load_machine(
        {
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Timestamp": "2030-01-01T00:00:00Z", "End": True}},
        }
    )
    wait = machine.states["W"]
    assert wait.value == 1893456000.0  # type: ignore[attr-defined]
    with pytest.raises(DefinitionError, match="Timestamp"):
        load_machine(
            {
                "StartAt": "W",
                "States": {"W": {"Type": "Wait", "Timestamp": "2030-13-01T00:00:00Z", "End": True}},
            }
        )


def test_map_with_max_concurrency_and_waits_advances_virtual_time() -> None:
    machine = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "StartAt": "W",
                    "States": {"W": {"Type": "Wait", "Seconds": 10, "End": True}},
                },
                "End": True,
            }
        },
    }
    clock = VirtualClock(start=0.0)
    result = run_sync(machine, [1, 2, 3, 4, 5], clock=clock)
    assert result.output == [1, 2, 3, 4, 5]
    assert clock.now() == pytest.approx(30)  # three rounds of at most two iterations


def test_a_distributed_child_waits_from_its_own_time() -> None:
    definition = {
        "StartAt": "Map",
        "States": {
            "Map": {
                "Type": "Map",
                "End": True,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Wait",
                    "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}},
                },
            }
        },
    }
    clock = VirtualClock(start=1_700_000_000.0)
    assert run_sync(definition, [1, 2], clock=clock).output == [1, 2]
    assert clock.now() == 1_700_000_060.0
