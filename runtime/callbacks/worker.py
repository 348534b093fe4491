"""An activity worker that runs a command for each task (``asl worker``).

For each task of the activity (GetActivityTask long polls), the command runs once, never
through a shell: the task's input JSON on its stdin, its stdout taken as the task's
output (must be JSON). While it runs, SendTaskHeartbeat is sent every ``--heartbeat``
seconds (GetActivityTask does not tell a worker the task's HeartbeatSeconds, so pick less
than it). Outcomes:

* exit code 0 and JSON on stdout → SendTaskSuccess with that output;
* exit code N > 0 → SendTaskFailure, error ``Worker.ExitCode<N>``, cause the last 32,768
  characters of stderr (AWS's cause limit); killed by signal S → ``Worker.Signal<S>``;
* exit code 0 but stdout not JSON → ``Worker.InvalidOutput``;
* the command cannot start → ``Worker.CommandFailed`` (cause: the OS error).

The worker talks to any Step Functions API (the local endpoint or AWS itself) through
boto3, or to an in-process :class:`~runtime.adapters.activity.Activities` through
:class:`LocalSource`.
"""

from __future__ import annotations

import functools
import json
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from runtime.adapters.activity import LONG_POLL_SECONDS, Activities
from runtime.callbacks.registry import MAX_CAUSE, StepFunctionsApiError

__all__ = ["LocalSource", "Outcome", "TaskSource", "is_api_error", "run_command", "run_worker"]


class TaskSource(Protocol):
    """The four Step Functions calls a worker makes (a boto3 ``stepfunctions`` client)."""

    def get_activity_task(self, *, activityArn: str, workerName: str) -> dict[str, Any]: ...

    def send_task_success(self, *, taskToken: str, output: str) -> Any: ...

    def send_task_failure(self, *, taskToken: str, error: str, cause: str) -> Any: ...

    def send_task_heartbeat(self, *, taskToken: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class LocalSource:
    """A :class:`TaskSource` on in-process activities, for workers in the same process."""

    activities: Activities
    poll_seconds: float = LONG_POLL_SECONDS

    def get_activity_task(self, *, activityArn: str, workerName: str) -> dict[str, Any]:
        found = self.activities.get_activity_task(activityArn, workerName, self.poll_seconds)
        return found or {}

    def send_task_success(self, *, taskToken: str, output: str) -> Any:
        self.activities.callbacks.send_task_success(taskToken, output)

    def send_task_failure(self, *, taskToken: str, error: str, cause: str) -> Any:
        self.activities.callbacks.send_task_failure(taskToken, error, cause)

    def send_task_heartbeat(self, *, taskToken: str) -> Any:
        self.activities.callbacks.send_task_heartbeat(taskToken)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one run of the command yields: an output (JSON text) or an error and cause."""

    output: str | None = None
    error: str | None = None
    cause: str = ""


def run_command(
    command: Sequence[str],
    input_text: str,
    heartbeat: Callable[[], None] = lambda: None,
    every: float = 0.0,
) -> Outcome:
    """Run ``command`` (an argv list, no shell) with ``input_text`` on stdin.

    ``heartbeat`` is called every ``every`` seconds while it runs (0: never).
    """
    try:
        proc = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        return Outcome(error="Worker.CommandFailed", cause=f"{command[0]}: {exc.strerror or exc}")
    done = threading.Event()
    beats = threading.Thread(target=_beat, args=(done, heartbeat, every), daemon=True)
    if every > 0:
        beats.start()
    try:
        stdout, stderr = proc.communicate(input_text.encode("utf-8"))
    finally:
        done.set()
    return _outcome(proc.returncode, stdout, stderr)


def _beat(done: threading.Event, heartbeat: Callable[[], None], every: float) -> None:
    """Call ``heartbeat`` every ``every`` seconds until ``done``; stop at its first error."""
    while not done.wait(every):
        try:
            heartbeat()
        except Exception:  # the task is gone (timed out): the command's result is moot
            return


def _tail(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")[-MAX_CAUSE:]


def _outcome(code: int, stdout: bytes, stderr: bytes) -> Outcome:
    if code < 0:
        return Outcome(error=f"Worker.Signal{-code}", cause=_tail(stderr))
    if code > 0:
        cause = _tail(stderr) or f"The command exited with code {code}."
        return Outcome(error=f"Worker.ExitCode{code}", cause=cause)
    text = stdout.decode("utf-8", errors="replace").strip()
    try:
        json.loads(text)
    except ValueError:
        cause = "The command's standard output is not JSON: " + text
        return Outcome(error="Worker.InvalidOutput", cause=cause[:MAX_CAUSE])
    return Outcome(output=text)


def run_worker(
    source: TaskSource,
    activity_arn: str,
    command: Sequence[str],
    *,
    worker_name: str = "asl-worker",
    max_tasks: int | None = None,
    heartbeat_seconds: float = 0.0,
    report: Callable[[str], None] = lambda _line: None,
) -> int:
    """Poll ``activity_arn`` and run ``command`` per task; return the number of tasks run.

    Runs until ``max_tasks`` tasks were run (forever if None). Answers the API refuses
    (the task timed out meanwhile: TaskTimedOut) are reported and skipped.
    """
    done = 0
    while max_tasks is None or done < max_tasks:
        task = source.get_activity_task(activityArn=activity_arn, workerName=worker_name)
        token = task.get("taskToken")
        if not token:
            continue
        outcome = run_command(
            command,
            task.get("input") or "{}",
            functools.partial(source.send_task_heartbeat, taskToken=token),
            heartbeat_seconds,
        )
        done += 1
        _answer(source, token, outcome, report)
    return done


def _answer(
    source: TaskSource, token: str, outcome: Outcome, report: Callable[[str], None]
) -> None:
    try:
        if outcome.output is not None:
            source.send_task_success(taskToken=token, output=outcome.output)
            report("task succeeded")
        else:
            assert outcome.error is not None
            source.send_task_failure(taskToken=token, error=outcome.error, cause=outcome.cause)
            report(f"task failed: {outcome.error}")
    except Exception as exc:
        if not is_api_error(exc):
            raise
        report(f"the answer was refused: {exc}")


def is_api_error(exc: Exception) -> bool:
    if isinstance(exc, StepFunctionsApiError):
        return True
    from botocore.exceptions import ClientError

    return isinstance(exc, ClientError)
