"""Local handlers and worker commands cannot hang, kill or corrupt the process around them:
a handler past its timeout, ``sys.exit`` or ``print`` in a handler, a worker command that
writes too much, outlives its task or would see the worker's secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from runtime import run_sync
from runtime.callbacks.worker import (
    MAX_OUTPUT,
    command_environment,
    run_command,
)

ROOT = Path(__file__).resolve().parents[1]
ASL = [sys.executable, "-m", "runtime.cli"]
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:f"

HANDLERS = """
import os, subprocess, sys, time

def hang(event, context):
    time.sleep(600)
    return 1

def exit_zero(event, context):
    sys.exit(0)

def exit_three(event, context):
    sys.exit(3)

def noisy(event, context):
    print("a line from print")
    sys.stdout.write("written to sys.stdout\\n")
    sys.stdout.flush()
    subprocess.run(["echo", "from a child process"], check=True)
    return {"ok": 1}
"""


def machine(timeout: int | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {"Type": "Task", "Resource": FUNCTION, "End": True}
    if timeout is not None:
        task["TimeoutSeconds"] = timeout
    return {"StartAt": "T", "States": {"T": task}}


def exec_handler(tmp_path: Path, name: str, *extra: str, timeout: float = 60) -> Any:
    (tmp_path / "h.py").write_text(HANDLERS)
    definition = tmp_path / "m.json"
    definition.write_text(json.dumps(machine(timeout=1)))
    argv = [*ASL, "exec", str(definition), "--lambda", f"f={tmp_path / 'h.py'}:{name}"]
    return subprocess.run(
        [*argv, "--json", "--no-store", "--offline", *extra],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


# -- local handlers -------------------------------------------------------------------


def test_a_handler_past_its_timeout_does_not_keep_asl_exec_alive(tmp_path: Path) -> None:
    # The handler sleeps ten minutes; the task times out after one second (real clock).
    done = exec_handler(tmp_path, "hang", "--clock", "real", timeout=60)
    assert done.returncode == 1
    outcome = json.loads(done.stdout)
    assert (outcome["status"], outcome["error"]) == ("FAILED", "States.Timeout")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("exit_zero", "Runtime exited without providing a reason"),
        ("exit_three", "Runtime exited with error: exit status 3"),
    ],
)
def test_sys_exit_in_a_handler_fails_the_task_as_lambda_does(
    tmp_path: Path, name: str, reason: str
) -> None:
    done = exec_handler(tmp_path, name)
    assert done.returncode == 1, done.stderr
    outcome = json.loads(done.stdout)
    assert (outcome["status"], outcome["error"]) == ("FAILED", "Runtime.ExitError")
    cause = json.loads(outcome["cause"])
    assert cause["errorType"] == "Runtime.ExitError"
    assert cause["errorMessage"].startswith("RequestId: ")
    assert cause["errorMessage"].endswith(f" Error: {reason}")


def test_sys_exit_in_a_library_handler_is_a_task_failure() -> None:
    def leave(event: Any, context: Any) -> Any:
        raise SystemExit(2)

    result = run_sync(machine(), {}, functions={"f": leave})
    assert (result.status, result.error) == ("FAILED", "Runtime.ExitError")
    assert "exit status 2" in (result.cause or "")


def test_what_a_handler_prints_goes_to_stderr_not_into_the_json(tmp_path: Path) -> None:
    done = exec_handler(tmp_path, "noisy")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["output"] == {"ok": 1}  # stdout is one JSON document
    for line in ("a line from print", "written to sys.stdout", "from a child process"):
        assert line in done.stderr


def test_the_output_without_json_is_still_only_the_result(tmp_path: Path) -> None:
    done = exec_handler(tmp_path, "noisy")
    plain = subprocess.run(
        [
            *ASL,
            "exec",
            str(tmp_path / "m.json"),
            "--lambda",
            f"f={tmp_path / 'h.py'}:noisy",
            "--no-store",
            "--offline",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == plain.returncode == 0
    assert json.loads(plain.stdout) == {"ok": 1}


# -- worker commands ------------------------------------------------------------------


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_command_writing_too_much_is_refused_without_holding_it_all() -> None:
    # 64 MiB of output: the worker keeps at most MAX_OUTPUT bytes of it.
    big = py("import sys\nfor _ in range(1024): sys.stdout.write('x' * 65536)")
    outcome = run_command(big, "")
    assert outcome.error == "Worker.OutputTooLarge"
    assert str(MAX_OUTPUT) in outcome.cause


def test_output_of_exactly_the_limit_is_accepted() -> None:
    exact = py(f"import json, sys; sys.stdout.write(json.dumps('x' * {MAX_OUTPUT - 2}))")
    outcome = run_command(exact, "")
    assert outcome.error is None and outcome.output is not None
    assert len(outcome.output) == MAX_OUTPUT


def test_a_command_is_stopped_when_its_task_is_gone(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    sleeper = py(
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
    )
    refused = threading.Event()

    def heartbeat() -> None:
        if pid_file.exists():
            refused.set()
            raise RuntimeError("TaskTimedOut")

    outcome = run_command(sleeper, "", heartbeat, every=0.05)
    assert refused.is_set()
    assert outcome.abandoned and outcome.error == "Worker.Abandoned"
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_stderr_streams_to_the_sink_as_it_comes() -> None:
    chunks: list[bytes] = []
    code = "import json, sys; sys.stderr.write('working\\n'); print(json.dumps(1))"
    outcome = run_command(py(code), "", stderr_sink=chunks.append)
    assert outcome.output == "1"
    assert b"".join(chunks) == b"working\n"


def test_the_command_environment_is_an_allow_list() -> None:
    base = {
        "PATH": "/bin",
        "HOME": "/home/me",
        "LC_ALL": "C",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_ACCESS_KEY_ID": "key",
        "DATABASE_URL": "postgres://me:pw@db",
    }
    assert command_environment((), base) == {"PATH": "/bin", "HOME": "/home/me", "LC_ALL": "C"}
    chosen = command_environment(("DATABASE_URL", "MODE=fast", "MISSING"), base)
    assert chosen["DATABASE_URL"] == "postgres://me:pw@db"
    assert chosen["MODE"] == "fast"
    assert "MISSING" not in chosen and "AWS_SECRET_ACCESS_KEY" not in chosen


def test_a_command_does_not_see_the_workers_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    code = "import json, os; print(json.dumps(sorted(os.environ)))"
    outcome = run_command(py(code), "")
    assert outcome.output is not None
    assert "AWS_SECRET_ACCESS_KEY" not in json.loads(outcome.output)
