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

With AWS enabled (a :class:`~runtime.adapters.aws.ClientPool`), a state machine that is not
known locally runs remotely: :class:`RemoteExecutions` calls StartExecution through boto3
and, for ``.sync``/``.sync:2``, polls DescribeExecution on the execution's clock; the
results and failures have the same shapes as the local ones, API errors are AWS's
(``StepFunctions.<Code>Exception`` with the SDK v1 cause), and cancelling the task calls
StopExecution best effort.

``.waitForTaskToken`` is left to the callback helper: :meth:`NestedExecutions.submit`.

A ``.sync`` task has a task token too (``$$.Task.Token``), which the parent may pass to
the child in its input: AWS recorded a parent whose child forwarded that token to a
worker calling SendTaskSuccess, and the parent's ``startExecution.sync`` task ended with
that answer while the child was still waiting (LocalStack's AWS-validated
``test_callback.py::TestCallback::test_sync_with_task_token``, template
``sfn_start_execution_sync_with_task_token.json5``). So a local ``.sync`` child races its
parent's token: SendTaskSuccess/SendTaskFailure on it ends the parent's task with that
output or error, and the child runs on by itself (it is not stopped).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel

from asl.model import StateMachine
from runtime.adapters.aws import ClientPool, service_error
from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.adapters.jobs import Backoff, clock_of, jsonable, sdk_metadata
from runtime.adapters.simple import sdk_http_metadata
from runtime.callbacks.registry import CallbackRegistry, name_problem
from runtime.engine.clock import Clock, RealClock
from runtime.engine.errors import TaskFailure
from runtime.engine.events import dumps

__all__ = ["ChildExecution", "NestedExecutions", "RemoteExecutions", "register"]

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


def _params(call: TaskCall) -> Mapping[str, Any]:
    return call.parameters if isinstance(call.parameters, Mapping) else {}


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
    adapters. ``remote`` (AWS enabled) starts the state machines not known locally.
    """

    def __init__(
        self,
        machines: Mapping[str, Any] | Resolver,
        registry: AdapterRegistry,
        remote: RemoteExecutions | None = None,
        callbacks: CallbackRegistry | None = None,
    ) -> None:
        #: Where the answers to a ``.sync`` task's token arrive (None: not listened to).
        self.callbacks = callbacks
        self._resolver = machines if callable(machines) else self._lookup(dict(machines))
        self._compiled: dict[str, StateMachine] = {}
        self.registry = registry
        self.remote = remote
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
            compiled = self._compiled[arn] = _compile(definition)
        return compiled

    # -- the adapter ---------------------------------------------------------------------

    async def invoke(self, call: TaskCall) -> Any:
        """Start the child; for ``.sync``/``.sync:2`` wait for it and return its description.

        Cancellation (task timeout, parent stopped) aborts a ``.sync`` child and re-raises.
        """
        pattern = call.resource.pattern
        if pattern not in (".sync", ".sync:2"):
            return await self.submit(call)
        remote = self._remote_for(call)
        if remote is not None:
            return await remote.run(call, parsed=pattern == ".sync:2")
        clock = call.clock or RealClock()
        machine, child = self._start(call, clock)
        call.on_submitted(self._start_result(child, clock))
        # The parent hands its clock participation to the child while it waits on it
        # (the child's run joins the clock itself before its first await).
        clock.leave()
        try:
            if call.task_token is not None and self.callbacks is not None:
                answered, answer = await self._race(call, machine, child, clock)
                if answered:
                    return answer
            else:
                await self._run(call, machine, child, clock)
        finally:
            clock.join()
        described = child.describe(parsed=pattern == ".sync:2")
        if child.status != "SUCCEEDED":
            raise TaskFailure("States.TaskFailed", json.dumps(described))
        return described

    async def _race(
        self, call: TaskCall, machine: StateMachine, child: ChildExecution, clock: Clock
    ) -> tuple[bool, Any]:
        """Run the child until it ends or the task's token is answered, whichever is first.

        (True, output) when SendTaskSuccess came first (SendTaskFailure raises its
        TaskFailure); the child then runs on in the background. (False, None) when the
        child ended first.
        """
        assert self.callbacks is not None and call.task_token is not None
        loop = asyncio.get_running_loop()
        with self.callbacks.expect(call.task_token) as pending:
            with clock.busy():  # no time passes until the child's task has joined the clock
                run = loop.create_task(self._run(call, machine, child, clock))
                await anyio.lowlevel.checkpoint()
            answer = loop.create_task(pending.wait())
            try:
                done, _ = await asyncio.wait({run, answer}, return_when=asyncio.FIRST_COMPLETED)
            except BaseException:  # the parent's task was cancelled: abort the child
                answer.cancel()
                run.cancel()
                await asyncio.gather(run, answer, return_exceptions=True)
                raise
            if run in done:
                answer.cancel()
                await asyncio.gather(answer, return_exceptions=True)
                run.result()
                return False, None
        self._background.add(run)
        run.add_done_callback(self._background.discard)
        return True, answer.result()

    async def submit(self, call: TaskCall) -> Any:
        """Start the child in the background and return StartExecution's result."""
        remote = self._remote_for(call)
        if remote is not None:
            return await remote.start(call)
        clock = call.clock or RealClock()
        machine, child = self._start(call, clock)
        task = asyncio.get_running_loop().create_task(self._run(call, machine, child, clock))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return self._start_result(child, clock)

    def source_for(self, call: TaskCall) -> str:
        """The source: "AWS" for a machine started remotely, else "local machine"."""
        return "AWS" if self._remote_for(call) is not None else "local machine"

    async def wait_all(self) -> None:
        """Wait until every background child has ended."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def _remote_for(self, call: TaskCall) -> RemoteExecutions | None:
        """The remote starter when AWS is enabled and the state machine is not local."""
        if self.remote is None:
            return None
        sm_arn = str(_params(call).get("StateMachineArn", ""))
        return self.remote if self.machine(sm_arn) is None else None

    def _start(self, call: TaskCall, clock: Clock) -> tuple[StateMachine, ChildExecution]:
        if call.run_child is None:
            raise TaskFailure(
                "States.Runtime", "No engine is attached to this task to run a child execution."
            )
        params = _params(call)
        sm_arn = str(params.get("StateMachineArn", ""))
        machine = self.machine(sm_arn)
        if machine is None:
            raise _sfn_error(
                "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{sm_arn}'"
            )
        name = str(params.get("Name") or uuid.uuid4())
        if name_problem(name) is not None:  # StartExecution's rule for names
            raise _sfn_error("InvalidName", f"Invalid Name: '{name}'")
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

    async def _run(
        self, call: TaskCall, machine: StateMachine, child: ChildExecution, clock: Clock
    ) -> None:
        assert call.run_child is not None  # checked by _start
        cancelled = anyio.get_cancelled_exc_class()
        try:
            result = await call.run_child(
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


#: Polling a remote child: AWS itself learns of the child's end from an event, so start
#: short (children often last seconds) and back off to stay under DescribeExecution's quota.
REMOTE_BACKOFF = Backoff(initial=1.0, maximum=30.0)
#: DescribeExecution statuses of a child that has not ended yet.
_NOT_ENDED = frozenset({"RUNNING", "PENDING_REDRIVE"})


@dataclass(frozen=True, slots=True)
class RemoteExecutions:
    """Children started on AWS Step Functions through boto3 (state machines not local)."""

    pool: ClientPool
    #: Delays between two DescribeExecution calls of a ``.sync`` wait.
    backoff: Backoff = REMOTE_BACKOFF

    async def start(self, call: TaskCall) -> dict[str, Any]:
        """StartExecution; its result as the optimized integration returns it."""
        return _start_result(await self._start(call))

    async def run(self, call: TaskCall, parsed: bool) -> dict[str, Any]:
        """Start the child, wait for its end, return its DescribeExecution.

        Raises TaskFailure: AWS's error for a failed API call, ``States.TaskFailed`` with
        the description (JSON) as cause for a child that did not succeed. Cancellation:
        StopExecution (errors ignored), then re-raise.
        """
        started = await self._start(call)
        call.on_submitted(_start_result(started))
        arn = str(started["executionArn"])
        try:
            final = await self._wait(call, arn)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True), contextlib.suppress(TaskFailure):
                await self._call(call, "stop_execution", {"executionArn": arn}, arn)
            raise
        described = _described(final, parsed)
        if final.get("status") != "SUCCEEDED":
            raise TaskFailure("States.TaskFailed", json.dumps(described))
        return described

    async def _start(self, call: TaskCall) -> dict[str, Any]:
        request = _start_request(_params(call))
        return await self._call(call, "start_execution", request, request["stateMachineArn"])

    async def _wait(self, call: TaskCall, arn: str) -> dict[str, Any]:
        clock = clock_of(call)
        request = {"executionArn": arn}
        for delay in self.backoff.delays():
            await clock.sleep_until(clock.now() + delay)
            described = await self._call(call, "describe_execution", request, arn)
            if described.get("status") not in _NOT_ENDED:
                return described
        raise AssertionError("unreachable: backoff delays never end")  # pragma: no cover

    async def _call(
        self, call: TaskCall, method: str, params: Mapping[str, Any], arn: str
    ) -> dict[str, Any]:
        """One Step Functions API call in the region of ``arn`` (the task's by default)."""
        parts = arn.split(":")
        region = parts[3] if len(parts) > 3 and parts[3] else call.resource.region
        try:
            result: dict[str, Any] = await self.pool.call(
                clock_of(call), "stepfunctions", method, params, region
            )
        except Exception as exc:  # botocore's tree and parameter validation alike
            raise service_error("stepfunctions", exc) from None
        return result


def _start_request(params: Mapping[str, Any]) -> dict[str, Any]:
    """StartExecution's request: Input text passes as given (the service validates it)."""
    given = params.get("Input")
    text = "{}" if given is None else given if isinstance(given, str) else dumps(given)
    request = {"stateMachineArn": str(params.get("StateMachineArn", "")), "input": text}
    for key, field_name in (("Name", "name"), ("TraceHeader", "traceHeader")):
        if params.get(key) is not None:
            request[field_name] = str(params[key])
    return request


def _start_result(response: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ExecutionArn": response["executionArn"],
        **sdk_metadata(response.get("ResponseMetadata") or {}),
        "StartDate": jsonable(response["startDate"]),
    }


def _described(response: Mapping[str, Any], parsed: bool) -> dict[str, Any]:
    """boto3's DescribeExecution as the integration returns it: the Java SDK v1's field
    names (capitalised, in alphabetical order), dates in epoch milliseconds, and for
    ``.sync:2`` Input/Output parsed (recorded ``base_callbacks.sfn_start_execution_sync``).
    """
    out = {
        _pascal(key): _capitalised(jsonable(value))
        for key, value in sorted(response.items(), key=lambda item: item[0].lower())
        if key != "ResponseMetadata" and value is not None
    }
    if parsed:
        for key in ("Input", "Output"):
            if isinstance(out.get(key), str):
                out[key] = json.loads(out[key])
    return out


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _capitalised(value: Any) -> Any:
    """Nested structures (``inputDetails``) get the SDK v1's capitalised names too."""
    if isinstance(value, dict):
        return {_pascal(key): _capitalised(item) for key, item in value.items()}
    return value


def register(
    registry: AdapterRegistry,
    machines: Mapping[str, Any] | Resolver,
    pool: ClientPool | None = None,
    backoff: Backoff | None = None,
    callbacks: CallbackRegistry | None = None,
) -> NestedExecutions:
    """Route ``states:startExecution`` (request-response, ``.sync``, ``.sync:2``) to
    children run in this runtime, or through ``pool`` on AWS for the state machines not
    known locally. ``.waitForTaskToken`` is the callback helper's, through
    :meth:`NestedExecutions.submit`. ``callbacks`` lets a local ``.sync`` task be
    answered by its token (see the module docstring).
    """
    remote = None if pool is None else RemoteExecutions(pool, backoff or REMOTE_BACKOFF)
    nested = NestedExecutions(machines, registry, remote, callbacks)
    registry.register(r"^arn:[^:]+:states:::states:startExecution(\.sync(:2)?)?$", nested)
    return nested


def _compile(definition: Any) -> StateMachine:
    """A child's definition (a compiled machine, a dict, JSON/YAML text or a file path)."""
    if isinstance(definition, StateMachine):
        return definition
    from pathlib import Path

    from asl import compile_definition
    from asl.source import load_definition, load_file

    if isinstance(definition, Path):
        definition = load_file(definition).value
    elif isinstance(definition, str):
        definition = load_definition(definition).value
    return compile_definition(definition)
