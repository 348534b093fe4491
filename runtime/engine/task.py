"""The Task state: resolve the adapter, call it under timeouts, write AWS's events.

Event families by resource (SPEC.md C.3):

* legacy Lambda ARN: LambdaFunctionScheduled → LambdaFunctionStarted → LambdaFunction
  Succeeded | Failed | TimedOut;
* activity ARN: ActivityScheduled → ActivityStarted → ActivitySucceeded | Failed | TimedOut;
* service integrations: TaskScheduled → TaskStarted → (TaskSubmitted) → TaskSucceeded |
  TaskFailed | TaskTimedOut.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import anyio

from asl.errors import StatesError
from asl.model import TaskState
from runtime.adapters.base import Resource, TaskCall, parse_resource
from runtime.engine.dataflow import effective_input, jsonata_bindings, state_output
from runtime.engine.errors import HeartbeatTimeout, TaskFailure, UnservedTask, data_limit
from runtime.engine.events import dumps
from runtime.engine.fields import number_field
from runtime.engine.recovery import with_recovery
from runtime.engine.replay import UNKNOWN_OUTCOME

if TYPE_CHECKING:
    from runtime.engine.scope import StateRun

__all__ = ["resolve_seconds", "run_task"]

_parse_resource = functools.lru_cache(maxsize=1024)(parse_resource)


def resolve_seconds(run: StateRun, spec: Any, field: str) -> int | None:
    """TimeoutSeconds / HeartbeatSeconds (literal, ``...Path`` or JSONata) in seconds."""
    seconds = number_field(run, spec, field, integer=True)
    if seconds is None:
        return None
    if seconds <= 0:
        error = "States.QueryEvaluationError" if spec[0] == "jsonata" else "States.Runtime"
        raise StatesError(error, f"The {field} field must be a positive integer: {seconds:g}")
    return int(seconds)


class _Events:
    """Names and details of the events of one resource family."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        kind = resource.kind
        self.prefix = (
            "LambdaFunction" if kind == "function" else "Activity" if kind == "activity" else "Task"
        )

    def _ids(self) -> dict[str, Any]:
        if self.prefix != "Task":
            return {}
        return {"resourceType": self.resource.resource_type, "resource": self.resource.resource}

    def scheduled(
        self, params: Any, timeout: int | None, heartbeat: int | None, credentials: Any = None
    ) -> dict[str, Any]:
        if self.prefix == "Task":
            details: dict[str, Any] = {
                **self._ids(),
                "region": self.resource.region,
                "parameters": dumps(params),
            }
        else:
            details = {"resource": self.resource.arn, "input": params}
        if timeout is not None:
            details["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            details["heartbeatInSeconds"] = heartbeat
        if isinstance(credentials, dict) and "RoleArn" in credentials and self.prefix != "Activity":
            details["taskCredentials"] = {"roleArn": credentials["RoleArn"]}
        return details

    def started(self) -> dict[str, Any] | None:
        if self.prefix == "LambdaFunction":
            return None
        if self.prefix == "Activity":
            return {"workerName": "asl-runtime"}
        return self._ids()

    def outcome(self, **fields: Any) -> dict[str, Any]:
        return {**self._ids(), **fields}


def _sync_child(resource: Resource) -> bool:
    """A ``states:startExecution.sync`` task: AWS gives it a task token the parent may
    pass to its child (see :mod:`runtime.adapters.nested`)."""
    return (
        resource.kind == "states"
        and resource.action == "startExecution"
        and (resource.pattern in (".sync", ".sync:2"))
    )


async def run_task(run: StateRun) -> tuple[str | None, Any]:
    """Handler of Task states."""
    return await with_recovery(run, lambda n: _attempt(run, n))


async def _attempt(run: StateRun, retry_count: int) -> tuple[str | None, Any]:
    state = run.state
    assert isinstance(state, TaskState)
    exe = run.exe
    resource = _parse_resource(state.resource, exe.options.region)
    token = (
        exe.task_token(run.entered_id, retry_count)
        if resource.pattern == ".waitForTaskToken"
        or resource.kind == "activity"
        or _sync_child(resource)
        else None
    )
    if retry_count or token is not None:
        run.ctx = exe.context(run.frame, state.name, run.entered, retry_count, token)
    with run.evaluating:
        params = effective_input(state, run.data, run.ctx, run.frame.view, run.stages)
    timeout = resolve_seconds(run, state.timeout_seconds, "TimeoutSeconds")
    heartbeat = resolve_seconds(run, state.heartbeat_seconds, "HeartbeatSeconds")
    credentials = _credentials(run, state)
    events = _Events(resource)
    activity = resource.kind == "activity"

    def submitted(output: Any) -> None:
        run.emit("TaskSubmitted", events.outcome(output=output if output is not None else {}))

    call = TaskCall(
        resource=resource,
        parameters=params,
        state_name=state.name,
        context=run.ctx,
        attempt=retry_count,
        timeout_seconds=timeout,
        heartbeat_seconds=heartbeat,
        task_token=token,
        on_submitted=submitted,
        credentials=credentials,
        clock=exe.clock,
        on_started=functools.partial(_activity_started, run),
        run_child=exe.run_child,
    )
    scheduled = events.scheduled(params, timeout, heartbeat, credentials)
    try:
        adapter, source = exe.adapters.route(state.name, resource, call)
    except UnservedTask as exc:
        _not_started(run, events, scheduled, exc)
        raise
    # An adapter may know the resource is gone (a deleted activity): AWS then fails the
    # execution before scheduling, with States.Runtime behind the state's prefix.
    missing = getattr(adapter, "missing", None)
    why = missing(call) if missing is not None else None
    if why is not None:
        raise StatesError("States.Runtime", why)
    # Where the answer comes from rides on the event for the trace (never exported).
    exe.emit(run.frame, events.prefix + "Scheduled", scheduled, _SOURCES[source])
    if not activity:  # an activity starts when a worker takes it (ActivityStarted)
        run.emit(events.prefix + "Started", events.started())
    try:
        if exe.replaying(run.frame):
            result = await _replayed(run, adapter, call, timeout, heartbeat, not activity)
        else:
            result = await _call(run, adapter, call, timeout, heartbeat, not activity)
        too_big = data_limit(
            result, resource.arn if resource.kind == "function" else resource.resource_type
        )
        if too_big is not None:
            raise too_big
    except (TaskFailure, UnservedTask) as exc:
        kind = "TimedOut" if exc.error == "States.Timeout" else "Failed"
        details = events.outcome(error=exc.error)
        if exc.cause is not None:
            details["cause"] = exc.cause
        run.emit(events.prefix + kind, details)
        raise
    run.emit(events.prefix + "Succeeded", events.outcome(output=result))
    output, assign_input = state_output(
        state, run.data, result, run.ctx, run.frame.view, run.stages
    )
    assigned = run.assign(assign_input)
    run.exit(output, assigned)
    return state.next, output


class _SourceNotes(dict[str, Mapping[str, Any]]):
    """The ``inspection`` of a Scheduled event, ``{"source": ...}``: one per source."""

    def __missing__(self, source: str) -> Mapping[str, Any]:
        note = self[source] = MappingProxyType({"source": source})
        return note


_SOURCES = _SourceNotes()


def _not_started(
    run: StateRun, events: _Events, scheduled: dict[str, Any], exc: StatesError
) -> None:
    """Nothing may serve the task: AWS's events for a task that could not start.

    A Lambda function or an activity that cannot be scheduled writes
    ``LambdaFunctionScheduleFailed``/``ActivityScheduleFailed``; a service integration
    writes TaskScheduled then ``TaskStartFailed``.
    """
    outcome = events.outcome(error=exc.error, cause=exc.cause)
    if events.prefix == "Task":
        run.emit("TaskScheduled", scheduled)
        run.emit("TaskStartFailed", outcome)
    else:
        run.emit(events.prefix + "ScheduleFailed", outcome)


def _activity_started(run: StateRun, worker: str) -> None:
    run.emit("ActivityStarted", {"workerName": worker})


def _credentials(run: StateRun, state: TaskState) -> Any:
    """The task's ``Credentials`` (role to assume), evaluated like a payload template."""
    spec = state.credentials
    if spec is None:
        return None
    if state.query_language == "JSONata":
        with run.evaluating:
            return spec.evaluate(jsonata_bindings(run.data, run.ctx, run.frame.view))
    return spec.evaluate(run.data, run.ctx, run.frame.view)


async def _replayed(
    run: StateRun,
    adapter: Any,
    call: TaskCall,
    timeout: int | None,
    heartbeat: int | None,
    heartbeat_now: bool,
) -> Any:
    """A resumed task attempt: its recorded outcome, or an honest unknown (see replay)."""
    replay = run.exe.replay
    assert replay is not None
    pending = replay.pending(run.frame.prev)
    if call.resource.kind == "activity" and not pending:
        # Scheduled, but no worker took it before the restart: nothing ran, so the task
        # is queued again under its token and waits for a worker, its TimeoutSeconds
        # counted from the recorded ActivityScheduled.
        return await _call(
            run, adapter, call, timeout, heartbeat, heartbeat_now, since=run.frame.prev_time
        )
    for event in pending:
        if event.type == "ActivityStarted":  # a worker had taken the activity task
            call.on_started(str(event.details.get("workerName", "")))
            break
    recorded = replay.outcome(run.frame.prev)
    replayed = getattr(adapter, "replayed", None) or (lambda _call: None)
    if recorded is None or recorded[0] != "submitted":
        replayed(call)  # e.g. a mock counts the invocation the first run made
    if recorded is None:
        raise TaskFailure(*UNKNOWN_OUTCOME)
    kind, value = recorded
    if kind == "succeeded":
        return value
    if kind == "failed":
        raise TaskFailure(*value)
    resume = getattr(adapter, "resume", None)
    call.on_submitted(value)  # matches the recorded TaskSubmitted
    if resume is None:
        replayed(call)
        raise TaskFailure(*UNKNOWN_OUTCOME)
    # A .sync job or a callback submitted before the restart: wait for it, never resubmit.
    call.on_submitted = lambda _output: None
    adapter_view = _Resuming(resume, value)
    return await _call(run, adapter_view, call, timeout, heartbeat, heartbeat_now)


class _Resuming:
    """Presents ``adapter.resume(call, submitted_output)`` as an ``invoke``."""

    def __init__(self, resume: Any, submitted: Any) -> None:
        self.resume = resume
        self.submitted = submitted

    async def invoke(self, call: TaskCall) -> Any:
        return await self.resume(call, self.submitted)


class _Limits:
    """TimeoutSeconds and HeartbeatSeconds of one attempt, as clock timers.

    The timeout clock starts when the task starts; the heartbeat clock restarts at every
    :meth:`beat` (``TaskCall.heartbeat``, SendTaskHeartbeat). Either cancels the call.
    """

    def __init__(
        self,
        run: StateRun,
        scope: anyio.CancelScope,
        timeout: int | None,
        heartbeat: int | None,
        heartbeat_now: bool = True,
        since: float | None = None,
    ) -> None:
        self.clock = run.exe.clock
        self.scope = scope
        self.heartbeat = heartbeat
        self.fired: TaskFailure | None = None
        now = self.clock.now()
        self.timers = []
        if timeout is not None:
            start = now if since is None else min(since, now)
            self.timers.append(self.clock.call_at(start + timeout, self._timed_out))
        # An activity's heartbeat clock starts when a worker takes the task (its first beat).
        self.beat_timer = (
            self.clock.call_at(now + heartbeat, self._missed)
            if heartbeat is not None and heartbeat_now
            else None
        )

    def _timed_out(self) -> None:
        self.fired = self.fired or TaskFailure("States.Timeout", None)
        self.scope.cancel()

    def _missed(self) -> None:
        self.fired = self.fired or HeartbeatTimeout()
        self.scope.cancel()

    def beat(self) -> None:
        if self.heartbeat is None or self.fired is not None:
            return
        if self.beat_timer is not None:
            self.beat_timer.cancel()
        self.beat_timer = self.clock.call_at(self.clock.now() + self.heartbeat, self._missed)

    def cancel(self) -> None:
        for timer in self.timers:
            timer.cancel()
        if self.beat_timer is not None:
            self.beat_timer.cancel()


async def _call(
    run: StateRun,
    adapter: Any,
    call: TaskCall,
    timeout: int | None,
    heartbeat: int | None,
    heartbeat_now: bool,
    since: float | None = None,
) -> Any:
    """Invoke the task under its limits; ``since`` is when its TimeoutSeconds started
    (default now)."""
    if timeout is None and heartbeat is None:
        return await adapter.invoke(call)
    with anyio.CancelScope() as scope:
        limits = _Limits(run, scope, timeout, heartbeat, heartbeat_now, since)
        call.heartbeat = limits.beat
        try:
            return await adapter.invoke(call)
        finally:
            limits.cancel()
    if limits.fired is not None:
        raise limits.fired
    raise TaskFailure("States.Runtime", "The task was cancelled.")
