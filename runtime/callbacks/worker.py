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
* more than 256 KiB on stdout (the most a task output may hold) →
  ``Worker.OutputTooLarge``; only that much is ever held in memory;
* the command cannot start → ``Worker.CommandFailed`` (cause: the OS error);
* a heartbeat is refused (the task timed out or its execution stopped) → the command's
  process group gets SIGTERM, then SIGKILL after 5 s, and nothing is answered.

The command's stderr is streamed to the worker's as it comes. Its environment is an
allow-list (:data:`DEFAULT_ENVIRONMENT` and ``LC_*``) plus what ``--env`` names: AWS
credentials and other secrets of the worker reach it only when asked for.

The worker talks to any Step Functions API (the local endpoint or AWS itself) through
boto3, or to an in-process :class:`~runtime.adapters.activity.Activities` through
:class:`LocalSource`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Protocol

from runtime.adapters.activity import LONG_POLL_SECONDS, Activities
from runtime.callbacks.registry import MAX_CAUSE, StepFunctionsApiError

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "MAX_OUTPUT",
    "LocalSource",
    "Outcome",
    "TaskSource",
    "command_environment",
    "command_work",
    "is_api_error",
    "run_command",
    "run_worker",
]


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


#: The most a task output may hold (SendTaskSuccess's ``output``: 256 KiB).
MAX_OUTPUT = 262_144
#: Environment variables a command gets from the worker's own environment by default;
#: ``LC_*`` too. Anything else (AWS credentials above all) only when asked for by name.
DEFAULT_ENVIRONMENT = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TMPDIR",
    "TERM",
)
#: Seconds a command gets to exit after SIGTERM before it is killed.
STOP_GRACE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one run of the command yields: an output (JSON text) or an error and cause.

    ``abandoned`` is set when the task ended while the command ran (a heartbeat was
    refused: timed out or stopped); the command was stopped and nothing is answered.
    """

    output: str | None = None
    error: str | None = None
    cause: str = ""
    abandoned: bool = False


def command_environment(
    names: Sequence[str] = (), base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a command: :data:`DEFAULT_ENVIRONMENT` and ``LC_*`` from
    ``base`` (default: this process's), plus each of ``names``: ``NAME`` passes that
    variable through, ``NAME=VALUE`` sets it."""
    base = os.environ if base is None else base
    env = {k: v for k, v in base.items() if k in DEFAULT_ENVIRONMENT or k.startswith("LC_")}
    for name in names:
        key, sep, value = name.partition("=")
        if sep:
            env[key] = value
        elif key in base:
            env[key] = base[key]
    return env


def run_command(
    command: Sequence[str],
    input_text: str,
    heartbeat: Callable[[], None] = lambda: None,
    every: float = 0.0,
    *,
    env: Mapping[str, str] | None = None,
    stderr_sink: Callable[[bytes], None] | None = None,
) -> Outcome:
    """Run ``command`` (an argv list, no shell) with ``input_text`` on stdin.

    ``heartbeat`` is called every ``every`` seconds while it runs (0: never); when it
    fails, the task is gone and the command (its whole process group) is stopped.
    ``env`` defaults to :func:`command_environment`. Standard error goes to
    ``stderr_sink`` as it comes (its tail is the cause of a failure); standard output is
    read up to :data:`MAX_OUTPUT` bytes, the rest discarded.
    """
    try:
        proc = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(command_environment() if env is None else env),
            start_new_session=True,
        )
    except OSError as exc:
        return Outcome(error="Worker.CommandFailed", cause=f"{command[0]}: {exc.strerror or exc}")
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out = _Bounded(MAX_OUTPUT)
    err = _Bounded(MAX_CAUSE, keep_tail=True, sink=stderr_sink)
    done = threading.Event()
    gone = threading.Event()
    helpers = [
        threading.Thread(target=_feed, args=(proc.stdin, input_text), daemon=True),
        threading.Thread(target=out.drain, args=(proc.stdout,), daemon=True),
        threading.Thread(target=err.drain, args=(proc.stderr,), daemon=True),
    ]
    if every > 0:
        stop = functools.partial(_stop, proc)
        helpers.append(
            threading.Thread(target=_beat, args=(done, heartbeat, every, gone, stop), daemon=True)
        )
    for helper in helpers:
        helper.start()
    try:
        code = proc.wait()
    finally:
        done.set()
        for helper in helpers[:3]:
            helper.join()
    if gone.is_set():
        return Outcome(
            error="Worker.Abandoned",
            cause="The task ended while the command ran; the command was stopped.",
            abandoned=True,
        )
    if out.overflowed:
        cause = (
            f"The command wrote more than {MAX_OUTPUT} bytes to standard output, "
            "the most a task output may hold."
        )
        return Outcome(error="Worker.OutputTooLarge", cause=cause)
    return _outcome(code, out.data(), err.data())


class _Bounded:
    """Reads a pipe to its end, keeping at most ``limit`` bytes (the first ones, or the
    last ones with ``keep_tail``) and passing every chunk to ``sink``."""

    def __init__(
        self, limit: int, keep_tail: bool = False, sink: Callable[[bytes], None] | None = None
    ) -> None:
        self.limit = limit
        self.keep_tail = keep_tail
        self.sink = sink
        self.overflowed = False
        self._kept = bytearray()

    def drain(self, pipe: IO[bytes]) -> None:
        with pipe:
            while chunk := os.read(pipe.fileno(), 65_536):
                if self.sink is not None:
                    with contextlib.suppress(Exception):  # a closed terminal must not stop us
                        self.sink(chunk)
                self._keep(chunk)

    def _keep(self, chunk: bytes) -> None:
        if self.keep_tail:
            self._kept += chunk
            del self._kept[: max(0, len(self._kept) - self.limit)]
        elif len(self._kept) + len(chunk) > self.limit:
            self.overflowed = True
            self._kept += chunk[: self.limit - len(self._kept)]
        else:
            self._kept += chunk

    def data(self) -> bytes:
        return bytes(self._kept)


def _feed(pipe: IO[bytes], text: str) -> None:
    """Write the task input to the command's stdin; a command that does not read it is
    no error."""
    with contextlib.suppress(BrokenPipeError, OSError), pipe:
        pipe.write(text.encode("utf-8"))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the command's process group, SIGKILL after the grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


def _beat(
    done: threading.Event,
    heartbeat: Callable[[], None],
    every: float,
    gone: threading.Event,
    stop: Callable[[], None],
) -> None:
    """Call ``heartbeat`` every ``every`` seconds until ``done``; when one is refused the
    task is gone (timed out, stopped): mark it and stop the command."""
    while not done.wait(every):
        try:
            heartbeat()
        except Exception:
            gone.set()
            stop()
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
    env: Mapping[str, str] | None = None,
    stderr_sink: Callable[[bytes], None] | None = None,
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
            env=env,
            stderr_sink=stderr_sink,
        )
        done += 1
        if outcome.abandoned:
            report("task abandoned: it ended while the command ran; the command was stopped")
            continue
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


def command_work(
    command: Sequence[str], env: Mapping[str, str] | None = None
) -> Callable[[Any], Any]:
    """``work(input) -> output`` running ``command`` once per task as ``asl worker`` does
    (input JSON on stdin, output JSON from stdout, stderr streamed to this process's), for
    :class:`runtime.adapters.activity.LocalActivity` (``asl exec --activity``). A failure
    raises :class:`runtime.TaskFailure` with the worker's error and cause."""
    import sys

    from runtime.engine.errors import TaskFailure
    from runtime.engine.events import dumps, loads

    def to_stderr(data: bytes) -> None:
        sys.stderr.write(data.decode("utf-8", errors="replace"))
        sys.stderr.flush()

    def work(task_input: Any) -> Any:
        outcome = run_command(command, dumps(task_input), env=env, stderr_sink=to_stderr)
        if outcome.output is None:
            raise TaskFailure(outcome.error or "Worker.Failed", outcome.cause)
        return loads(outcome.output)

    return work
