"""Nested executions: ``arn:aws:states:::states:startExecution`` (+ ``.sync``, ``.sync:2``).

A child whose state machine is known locally runs in this runtime, on the parent's clock
and adapters (DG "Start workflow executions from a task state"):

* request-response: the child starts in the background; the result is
  ``{ExecutionArn, SdkHttpMetadata, SdkResponseMetadata, StartDate}``
  (recorded ``sfn_task_service.start_execution_input_json``);
* ``.sync``: the result is the child's DescribeExecution with ``Input``/``Output`` as JSON
  text; ``.sync:2``: the same with them parsed (``base_callbacks.sfn_start_execution_sync``);
  a child that does not succeed fails the task with ``States.TaskFailed`` and that
  DescribeExecution as JSON cause (``callback.start_execution_sync_delegate_failure``);
  cancelling the parent's task aborts the child (status ABORTED);
* an unknown state machine fails with ``StepFunctions.StateMachineDoesNotExistException``
  (``task_service_sfn.start_execution_no_such_arn``).

``.waitForTaskToken`` is left to the callback helper: :meth:`NestedExecutions.submit`.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from asl.model import StateMachine
from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.adapters.simple import sdk_http_metadata
from runtime.clock import Clock, RealClock
from runtime.errors import TaskFailure
from runtime.events import dumps

__all__ = ["ChildExecution", "NestedExecutions", "register"]

#: A resolver: state machine ARN → its definition (anything ``runtime.api.run`` takes).
Resolver = Callable[[str], Any]


@dataclass(slots=True)
class ChildExecution:
    """A nested execution started by a task, and what DescribeExecution says of it."""

    arn: str
    state_machine_arn: str
    name: str
    input: Any
    start: float
    status: str = "RUNNING"
    stop: float | None = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def describe(self, parsed: bool = False) -> dict[str, Any]:
        """DescribeExecution as the optimized integration returns it.

        Dates are epoch milliseconds (the Java SDK v1 form of the optimized integrations);
        ``parsed`` gives ``.sync:2``'s Input/Output as JSON values instead of text.
        """
        text = (lambda value: value) if parsed else dumps
        out: dict[str, Any] = {}
        if self.status != "SUCCEEDED":
            if self.cause is not None:
                out["Cause"] = self.cause
            if self.error is not None:
                out["Error"] = self.error
        out.update(
            ExecutionArn=self.arn,
            Input=text(self.input),
            InputDetails={"Included": True},
            Name=self.name,
        )
        if self.status == "SUCCEEDED":
            out.update(Output=text(self.output), OutputDetails={"Included": True})
        out.update(_redrive(self.status))
        out.update(StartDate=_millis(self.start), StateMachineArn=self.state_machine_arn)
        out["Status"] = self.status
        if self.stop is not None:
            out["StopDate"] = _millis(self.stop)
        return out


def _millis(epoch: float) -> int:
    return round(epoch * 1000)


def _redrive(status: str) -> dict[str, Any]:
    if status == "RUNNING":
        return {"RedriveCount": 0}
    if status == "SUCCEEDED":
        return {
            "RedriveCount": 0,
            "RedriveStatus": "NOT_REDRIVABLE",
            "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        }
    return {"RedriveCount": 0, "RedriveStatus": "REDRIVABLE"}


def _sfn_error(code: str, message: str) -> TaskFailure:
    """A Step Functions API error in the optimized integration's (SDK v1) format."""
    return TaskFailure(
        f"StepFunctions.{code}Exception",
        f"{message} (Service: AWSStepFunctions; Status Code: 400; Error Code: {code}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)",
    )


def _child_input(params: Mapping[str, Any]) -> Any:
    """The child's input: ``Input`` as JSON text or a JSON value; absent or null is ``{}``."""
    given = params.get("Input")
    if given is None:
        return {}
    if not isinstance(given, str):
        return given
    try:
        return json.loads(given)
    except ValueError as exc:
        raise _sfn_error(
            "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{exc}'"
        ) from None


class NestedExecutions:
    """Starts child executions of locally known state machines in this runtime.

    ``machines`` maps a state machine ARN, or just its name (the last ARN part), to a
    definition (dict, JSON/YAML text, path or compiled machine); a callable resolver
    ``arn -> definition or None`` works too. ``registry`` gives the children the parent's
    adapters.
    """

    def __init__(
        self,
        machines: Mapping[str, Any] | Resolver,
        registry: AdapterRegistry,
    ) -> None:
        self._resolver = machines if callable(machines) else self._lookup(dict(machines))
        self._compiled: dict[str, StateMachine] = {}
        self.registry = registry
        #: Every child started, by execution ARN.
        self.executions: dict[str, ChildExecution] = {}
        self._background: set[asyncio.Task[None]] = set()

    @staticmethod
    def _lookup(machines: dict[str, Any]) -> Resolver:
        def resolve(arn: str) -> Any:
            return machines.get(arn, machines.get(arn.rsplit(":", 1)[-1]))

        return resolve

    def machine(self, arn: str) -> StateMachine | None:
        """The compiled state machine for ``arn`` (compiled once), or None if unknown."""
        compiled = self._compiled.get(arn)
        if compiled is None:
            definition = self._resolver(arn)
            if definition is None:
                return None
            from runtime.api import load_machine

            compiled = self._compiled[arn] = load_machine(definition)
        return compiled

    # -- the adapter ---------------------------------------------------------------------

    async def invoke(self, call: TaskCall) -> Any:
        """Start the child; for ``.sync``/``.sync:2`` wait for it and return its description.

        Cancellation (task timeout, parent stopped) aborts a ``.sync`` child and re-raises.
        """
        pattern = call.resource.pattern
        if pattern not in (".sync", ".sync:2"):
            return await self.submit(call)
        clock = call.clock or RealClock()
        machine, child = self._start(call, clock)
        call.on_submitted(self._start_result(child, clock))
        # The parent hands its clock participation to the child while it waits on it
        # (the child's run joins the clock itself before its first await).
        clock.leave()
        try:
            await self._run(machine, child, clock)
        finally:
            clock.join()
        described = child.describe(parsed=pattern == ".sync:2")
        if child.status != "SUCCEEDED":
            raise TaskFailure("States.TaskFailed", json.dumps(described))
        return described

    async def submit(self, call: TaskCall) -> Any:
        """Start the child in the background and return StartExecution's result."""
        clock = call.clock or RealClock()
        machine, child = self._start(call, clock)
        task = asyncio.get_running_loop().create_task(self._run(machine, child, clock))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return self._start_result(child, clock)

    async def wait_all(self) -> None:
        """Wait until every background child has ended."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def _start(self, call: TaskCall, clock: Clock) -> tuple[StateMachine, ChildExecution]:
        params = call.parameters if isinstance(call.parameters, Mapping) else {}
        sm_arn = str(params.get("StateMachineArn", ""))
        machine = self.machine(sm_arn)
        if machine is None:
            raise _sfn_error(
                "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{sm_arn}'"
            )
        name = str(params.get("Name") or uuid.uuid4())
        arn = sm_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name
        if arn in self.executions:
            raise _sfn_error("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
        child = ChildExecution(arn, sm_arn, name, _child_input(params), clock.now())
        self.executions[arn] = child
        return machine, child

    def _start_result(self, child: ChildExecution, clock: Clock) -> dict[str, Any]:
        body = {"executionArn": child.arn, "startDate": child.start}
        request_id = str(uuid.uuid4())
        return {
            "ExecutionArn": child.arn,
            **sdk_http_metadata("sfn", dumps(body), request_id, clock.now()),
            "StartDate": _millis(child.start),
        }

    async def _run(self, machine: StateMachine, child: ChildExecution, clock: Clock) -> None:
        from runtime.api import run

        cancelled = anyio.get_cancelled_exc_class()
        try:
            result = await run(
                machine,
                child.input,
                clock=clock,
                adapters=self.registry,
                name=child.name,
                state_machine_name=child.state_machine_arn.rsplit(":", 1)[-1],
            )
        except cancelled:
            child.status, child.stop = "ABORTED", clock.now()
            child.done.set()
            raise
        child.status, child.stop = result.status, result.stop_time
        child.output, child.error, child.cause = result.output, result.error, result.cause
        child.done.set()


def register(
    registry: AdapterRegistry,
    machines: Mapping[str, Any] | Resolver,
) -> NestedExecutions:
    """Route ``states:startExecution`` (request-response, ``.sync``, ``.sync:2``) to
    children run in this runtime. ``.waitForTaskToken`` is the callback helper's, through
    :meth:`NestedExecutions.submit`.
    """
    nested = NestedExecutions(machines, registry)
    registry.register(r"^arn:[^:]+:states:::states:startExecution(\.sync(:2)?)?$", nested)
    return nested
