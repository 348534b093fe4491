"""RedriveExecution: run an unsuccessful execution again from its unsuccessful state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from runtime import TaskFailure, VirtualClock, run
from runtime.adapters import Services
from runtime.adapters.local_lambda import LocalFunctions
from runtime.resume import NotResumable, redrive
from runtime.store import Store, StoreRecorder

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
