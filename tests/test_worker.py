"""``asl worker``: one command run per activity task, through the local endpoint."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from runtime import run
from runtime.adapters import activity
from runtime.adapters.base import AdapterRegistry
from runtime.callbacks.registry import CallbackRegistry
from runtime.callbacks.worker import LocalSource, run_command, run_worker
from runtime.cli.worker import main
from runtime.engine.clock import RealClock
from runtime.server.endpoint import LocalEndpoint

DOUBLE = "import json, sys; d = json.load(sys.stdin); print(json.dumps({'y': d['x'] * 2}))"


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_stdout_json_is_the_output() -> None:
    outcome = run_command(py(DOUBLE), '{"x": 21}')
    assert (outcome.output, outcome.error) == ('{"y": 42}', None)


def test_a_non_zero_exit_is_a_failure_with_the_stderr_tail() -> None:
    outcome = run_command(py("import sys; sys.stderr.write('x' * 40000 + 'end'); sys.exit(3)"), "")
    assert outcome.error == "Worker.ExitCode3"
    assert len(outcome.cause) == 32_768 and outcome.cause.endswith("end")


def test_stdout_that_is_not_json_is_a_failure() -> None:
    outcome = run_command(py("print('hello')"), "{}")
    assert outcome.error == "Worker.InvalidOutput"
    assert outcome.cause.endswith("hello")


def test_a_command_that_cannot_start() -> None:
    outcome = run_command(["/nonexistent/asl-worker-command"], "{}")
    assert outcome.error == "Worker.CommandFailed"


def test_arguments_are_never_given_to_a_shell() -> None:
    echo = py("import json, sys; print(json.dumps(sys.argv[1]))")
    outcome = run_command([*echo, "$HOME; x"], "")
    assert outcome.output == '"$HOME; x"'


def test_heartbeats_are_sent_while_the_command_runs(tmp_path: Path) -> None:
    flag = tmp_path / "go"
    beats: list[int] = []

    def beat() -> None:
        beats.append(1)
        if len(beats) == 2:
            flag.touch()  # the command ends once it saw two heartbeats

    waits = f"import os, time\nwhile not os.path.exists({str(flag)!r}): time.sleep(0.01)\nprint(1)"
    outcome = run_command(py(waits), "", beat, every=0.02)
    assert outcome.output == "1"
    assert len(beats) >= 2


def activity_run(endpoint: LocalEndpoint, worker: Any, input: Any) -> Any:
    """Run a one-activity machine (RealClock) while ``worker`` runs in a thread."""
    adapters = AdapterRegistry()
    activity.register(adapters, endpoint.activities)
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:us-east-1:123456789012:activity:double",
        "TimeoutSeconds": 30,
        "End": True,
    }
    machine = {"StartAt": "Double", "States": {"Double": state}}
    codes: list[int] = []

    async def main_() -> Any:
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.to_thread.run_sync, lambda: codes.append(worker()))
            return await run(machine, input, adapters=adapters, clock=RealClock())

    return anyio.run(main_), codes


@pytest.fixture
def endpoint() -> Any:
    with LocalEndpoint(CallbackRegistry(), poll_seconds=0.2) as ep:
        yield ep


def test_asl_worker_runs_a_python_script_for_a_task(endpoint: LocalEndpoint) -> None:
    argv = ["--endpoint", endpoint.url, "--activity", "double", "--max-tasks", "1"]
    result, codes = activity_run(endpoint, lambda: main([*argv, "--", *py(DOUBLE)]), {"x": 4})
    assert (result.status, result.output, codes) == ("SUCCEEDED", {"y": 8}, [0])


def test_asl_worker_reports_a_failing_command(endpoint: LocalEndpoint) -> None:
    argv = ["--endpoint", endpoint.url, "--activity", "double", "--max-tasks", "1"]
    failing = py("import sys; print('disk full', file=sys.stderr); sys.exit(4)")
    result, codes = activity_run(endpoint, lambda: main([*argv, "--", *failing]), {})
    assert (result.status, result.error, codes) == ("FAILED", "Worker.ExitCode4", [0])
    assert result.cause == "disk full\n"


def test_run_worker_on_the_in_process_activities(endpoint: LocalEndpoint) -> None:
    source = LocalSource(endpoint.activities, poll_seconds=0.2)

    def worker() -> int:
        arn = endpoint.activities.arn("double")
        return run_worker(source, arn, py(DOUBLE), max_tasks=1, heartbeat_seconds=5)

    result, counts = activity_run(endpoint, worker, {"x": 1})
    assert (result.output, counts) == ({"y": 2}, [1])


def test_usage_errors_return_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--activity", "double"]) == 2  # no command
    assert main(["--", "true"]) == 2  # no activity
    assert main(["--activity", "bad name", "--", "true"]) == 2
    assert "bad name" in capsys.readouterr().err


def test_an_unreachable_endpoint_fails_with_one_line() -> None:
    # Port 9 on loopback: nothing listens there in the test environment.
    argv = ["--endpoint", "http://127.0.0.1:9", "--activity", "a", "--max-tasks", "1"]
    assert main([*argv, "--", "true"]) == 1
