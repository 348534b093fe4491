"""RedriveExecution: run an unsuccessful execution again from its unsuccessful state."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from runtime import TaskFailure, VirtualClock, run
from runtime.adapters import Services
from runtime.adapters.local_lambda import LocalFunctions
from runtime.durable.resume import NotResumable, redrive
from runtime.durable.store import Store, StoreRecorder

ARN = "arn:aws:lambda:us-east-1:123456789012:function:work"
MACHINE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.prep", "Next": "Work"},
        "Work": {"Type": "Task", "Resource": ARN, "ResultPath": "$.work", "Next": "Report"},
        "Report": {
            "Type": "Pass",
            "Parameters": {"work.$": "$.work", "redrives.$": "$$.Execution.RedriveCount"},
            "End": True,
        },
    },
}


def services(handler: Any) -> Services:
    functions = LocalFunctions()
    functions.add("work", handler)
    return Services.create(functions=functions)


def failing(event: Any, context: Any) -> Any:
    raise TaskFailure("Work.Broken", "the dependency was down")


def working(event: Any, context: Any) -> Any:
    return {"done": True}


def first_run(store: Store) -> Any:
    async def main() -> Any:
        return await run(
            MACHINE,
            {},
            services=services(failing),
            clock=VirtualClock(),
            name="job",
            observers=[StoreRecorder(store)],
        )

    return anyio.run(main)


def test_redrive_reruns_the_failed_state_and_keeps_the_rest(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        failed = first_run(store)
        assert (failed.status, failed.error) == ("FAILED", "Work.Broken")
        result = anyio.run(
            lambda: redrive(store, "job", services=services(working), clock=VirtualClock())
        )
        history = store.history(result.arn)
        record = store.get_execution("job")
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"work": {"done": True}, "redrives": 1}
    assert record.redrive_count == 1
    types = [e["type"] for e in history]
    first = len(failed.history)
    assert types[:first] == failed.event_types  # the first attempt stays as it was
    assert types[first:] == [
        "ExecutionRedriven",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert history[first]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert [e["id"] for e in history] == list(range(1, len(history) + 1))
    assert types.count("PassStateEntered") == 2  # Prepare was not run again


def test_only_unsuccessful_executions_can_be_redriven(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        first_run(store)
        anyio.run(lambda: redrive(store, "job", services=services(working), clock=VirtualClock()))
        with pytest.raises(NotResumable, match="only FAILED, ABORTED or TIMED_OUT"):
            anyio.run(
                lambda: redrive(store, "job", services=services(working), clock=VirtualClock())
            )


def test_asl_redrive_command(tmp_path: Path) -> None:
    machine = tmp_path / "m.json"
    machine.write_text(
        json.dumps(
            {
                "StartAt": "Boom",
                "States": {"Boom": {"Type": "Fail", "Error": "Always", "Cause": "by design"}},
            }
        )
    )
    env = dict(os.environ, ASL_STORE=str(tmp_path / "s.db"))
    asl = [sys.executable, "-m", "runtime.cli"]
    ran = subprocess.run(
        [*asl, "exec", str(machine), "--name", "f", "--json", "--offline"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert json.loads(ran.stdout)["status"] == "FAILED"
    again = subprocess.run(
        [*asl, "redrive", "f", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    doc = json.loads(again.stdout)
    assert (doc["status"], doc["error"]) == ("FAILED", "Always")
    assert doc["events"][-3:] == ["ExecutionRedriven", "FailStateEntered", "ExecutionFailed"]


def test_a_failed_parallel_reruns_only_its_failed_branch(tmp_path: Path) -> None:
    calls: list[str] = []

    def flaky(event: Any, context: Any) -> Any:
        calls.append("flaky")
        if calls.count("flaky") == 1:
            raise TaskFailure("Work.Broken", "first time")
        return "fixed"

    def steady(event: Any, context: Any) -> Any:
        calls.append("steady")
        return "steady"

    def branch(state: str, function: str) -> dict[str, Any]:
        resource = f"arn:aws:lambda:us-east-1:123456789012:function:{function}"
        return {
            "StartAt": state,
            "States": {state: {"Type": "Task", "Resource": resource, "End": True}},
        }

    # The failing branch must fail after the steady one succeeded: a failure cancels the
    # branches still running (as AWS does), and a cancelled branch re-runs on redrive.
    # Without an order, whether the steady branch's thread returned before the flaky one
    # raised was up to the machine's load. A Wait on the virtual clock gives the order:
    # time only moves once the steady branch (busy in its handler) has ended.
    later = branch("Flaky", "flaky")
    later["States"] = {"Later": {"Type": "Wait", "Seconds": 1, "Next": "Flaky"}, **later["States"]}
    later["StartAt"] = "Later"
    machine = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "End": True,
                "Branches": [branch("Steady", "steady"), later],
            },
        },
    }
    functions = LocalFunctions()
    functions.add("flaky", flaky)
    functions.add("steady", steady)

    with Store.open(tmp_path / "s.db") as store:
        first = anyio.run(
            lambda: run(
                machine,
                services=Services.create(functions=functions),
                clock=VirtualClock(),
                name="par",
                observers=[StoreRecorder(store)],
            )
        )
        assert first.status == "FAILED"
        steady_calls = calls.count("steady")
        result = anyio.run(
            lambda: redrive(
                store, "par", services=Services.create(functions=functions), clock=VirtualClock()
            )
        )
        types = [e["type"] for e in store.history(result.arn)]
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == ["steady", "fixed"]
    assert calls.count("steady") == steady_calls  # the branch that succeeded is not re-run
    assert types.count("ParallelStateEntered") == 1
    assert types[-3:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]


def test_a_failed_map_reruns_only_its_unsuccessful_iterations(tmp_path: Path) -> None:
    seen: list[int] = []

    def item(event: Any, context: Any) -> Any:
        seen.append(event)
        if event == 2 and seen.count(2) == 1:
            raise TaskFailure("Item.Broken", "first time")
        return event * 10

    machine = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "StartAt": "Do",
                    "States": {
                        "Do": {
                            "Type": "Task",
                            "End": True,
                            "Resource": "arn:aws:lambda:us-east-1:1:function:item",
                        }
                    },
                },
                "End": True,
            }
        },
    }
    functions = LocalFunctions()
    functions.add("item", item)
    with Store.open(tmp_path / "s.db") as store:
        first = anyio.run(
            lambda: run(
                machine,
                [1, 2, 3],
                services=Services.create(functions=functions),
                clock=VirtualClock(),
                name="map",
                observers=[StoreRecorder(store)],
            )
        )
        assert first.status == "FAILED"
        result = anyio.run(
            lambda: redrive(
                store, "map", services=Services.create(functions=functions), clock=VirtualClock()
            )
        )
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [10, 20, 30]
    assert seen == [1, 2, 2, 3]  # item 1 is not run again


def test_the_report_colours_a_redriven_state_by_its_latest_visit(tmp_path: Path) -> None:
    """As the AWS console does: the failure the redrive repaired no longer paints Work red."""
    from runtime.report import report_html

    def colour(html: str, state: str) -> str:
        found = re.search(rf'class="[^"]*st-([a-z-]+)[^"]*"[^>]*data-state="{state}"', html)
        assert found is not None, state
        return found.group(1)

    with Store.open(tmp_path / "s.db") as store:
        first_run(store)
        failed = report_html(store.history(store.get_execution("job").arn), MACHINE)
        anyio.run(lambda: redrive(store, "job", services=services(working), clock=VirtualClock()))
        redriven = report_html(store.history(store.get_execution("job").arn), MACHINE)
    assert (colour(failed, "Work"), colour(failed, "Report")) == ("failed", "not-visited")
    assert (colour(redriven, "Work"), colour(redriven, "Report")) == ("succeeded", "succeeded")
    assert colour(redriven, "Prepare") == "succeeded"
