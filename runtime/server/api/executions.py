"""Execution operations: StartExecution, DescribeExecution,
DescribeStateMachineForExecution, ListExecutions, StopExecution.

StartExecution stores a RUNNING execution with its launch options and wakes the serve
loop, which runs it (:mod:`runtime.durable.serve`): the execution is durable from the
moment StartExecution answers, exactly like one stored by ``asl start``.

``<stateMachineArn>#<TestCase>`` picks a test case of the server's MockConfigFile, as
Step Functions Local does: the test cases of the file's ``StateMachines`` entry named
after the state machine.
"""

from __future__ import annotations

import json
from typing import Any

from asl.errors import ASLError
from runtime.durable.store import ExecutionAlreadyExists as StoredAlready
from runtime.durable.store.batches import NOBODY
from runtime.durable.store.records import ExecutionInfo, ExecutionRecord, ExecutionSummary
from runtime.engine.clock import RealClock
from runtime.engine.events import HistoryEvent
from runtime.server.api.backend import Backend
from runtime.server.api.errors import (
    ExecutionAlreadyExists,
    InvalidExecutionInput,
    StateMachineTypeNotSupported,
    ValidationException,
)
from runtime.server.api.machines import describe
from runtime.server.api.protocol import one_of, optional, page, required
from runtime.server.api.versions import Target

__all__ = ["OPERATIONS", "check_test_case", "launch_options", "read_input", "start_stored"]

_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
#: How long StopExecution waits for the runner to write ExecutionAborted.
STOP_WAIT_SECONDS = 10.0
#: AWS: the input is at most 256 KiB of UTF-8.
MAX_INPUT_BYTES = 262_144


def launch_options(b: Backend, test_case: str | None) -> dict[str, Any]:
    """The options an API execution is stored with (as ``asl exec`` stores its own)."""
    return {
        "clock": b.clock,
        "mock_config": b.mock_config if test_case else None,
        "test_case": test_case,
        "state_machine": None,
        "lambdas": [],
        "config": b.config,
        "machines": [],
        "offline": False,
        "region": b.region,
        "endpoints": list(b.endpoints),
        "seed": None,
        "connections": b.connections,
    }


def check_test_case(b: Backend, options: dict[str, Any], machine: str) -> None:
    """Refuse a ``#TestCase`` the MockConfigFile does not have before storing anything."""
    if b.mock_config is None:
        raise ValidationException(
            f"Test case '{options['test_case']}' requested, but the server has no "
            "MockConfigFile (--mock-config, SFN_MOCK_CONFIG)"
        )
    from runtime.durable.launch import mocks_from

    try:
        mocks_from(options, machine)
    except ASLError as exc:
        raise ValidationException(f"MockConfigFile: {exc}") from None


def read_input(body: dict[str, Any]) -> tuple[str, Any]:
    """StartExecution's ``input``: (JSON text, value); InvalidExecutionInput if not JSON."""
    text = optional(body, "input")
    if text is None:
        return "{}", {}
    if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        # The model's length constraint (shape SensitiveData, max 262144), which AWS
        # checks before the operation: a ValidationException that never shows a
        # sensitive value, only the member's name.
        raise ValidationException(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_INPUT_BYTES}"
        )
    try:
        return text, json.loads(text)
    except ValueError as exc:
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from None


def start_stored(
    b: Backend, target: Target, name: str, payload: Any, test_case: str
) -> dict[str, Any]:
    """StartExecution of a STANDARD state machine (``target``): same name and input as a
    RUNNING execution returns it again; otherwise a taken name is ExecutionAlreadyExists
    (API reference, StartExecution). The request is parsed by
    :func:`runtime.server.api.express.start_execution`, which runs EXPRESS ones itself."""
    machine = target.machine
    arn = b.execution_arn(machine.name, name)
    existing = b.machines.execution(arn)
    if existing is not None:
        return _again(existing, payload)
    options = launch_options(b, test_case or None)
    if test_case:
        check_test_case(b, options, machine.name)
    options["version_arn"], options["alias_arn"] = target.version_arn, target.alias_arn
    info = ExecutionInfo(
        arn=arn,
        name=name,
        state_machine_arn=machine.arn,
        state_machine_name=machine.name,
        definition=json.loads(target.definition),
        options=options,
    )
    start = RealClock().now()
    try:
        b.store.begin_execution(info, payload, start)
    except StoredAlready:
        existing = b.machines.execution(arn)
        assert existing is not None
        return _again(existing, payload)
    b.nudge.set()
    return {"executionArn": arn, "startDate": start}


def _again(existing: ExecutionRecord, payload: Any) -> dict[str, Any]:
    if existing.status == "RUNNING" and existing.input == payload:
        return {"executionArn": existing.arn, "startDate": existing.start_time}
    raise ExecutionAlreadyExists(f"Execution Already Exists: '{existing.arn}'")


def _summary(row: ExecutionSummary) -> dict[str, Any]:
    """An execution as ListExecutions lists it (times as epoch seconds)."""
    out = row.to_aws(time=float)
    if not row.redrive_count:
        del out["redriveCount"]
    return out


async def describe_execution(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeExecution."""
    record = b.execution(required(body, "executionArn"))
    out: dict[str, Any] = record.to_describe(time=float)
    options = b.store.launch_options(record.arn)
    for option, key in (
        ("version_arn", "stateMachineVersionArn"),
        ("alias_arn", "stateMachineAliasArn"),
    ):
        if options.get(option):
            out[key] = options[option]
    if record.status == "RUNNING" or record.status == "SUCCEEDED":
        out["redriveStatus"] = "NOT_REDRIVABLE"
        out["redriveStatusReason"] = f"Execution is {record.status} and cannot be redriven"
    else:
        out["redriveStatus"] = "REDRIVABLE"
    return out


async def describe_state_machine_for_execution(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeStateMachineForExecution: the definition the execution runs."""
    record = b.execution(required(body, "executionArn"))
    machine = b.machines.get(record.state_machine_arn)
    out: dict[str, Any] = {
        "stateMachineArn": record.state_machine_arn,
        "name": record.state_machine_name,
        "definition": record.definition_json,
        "roleArn": "",
        "updateDate": record.start_time,
    }
    if machine is not None:
        shown = describe(machine)
        out["roleArn"] = shown["roleArn"]
        out["updateDate"] = machine.update_date
        out["revisionId"] = machine.revision_id
        for key in ("loggingConfiguration", "tracingConfiguration"):
            out[key] = shown[key]
        if json.loads(machine.definition) == record.definition:
            out["definition"] = machine.definition  # the text exactly as it was sent
    return out


async def list_executions(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListExecutions of one state machine, newest first; ``statusFilter``,
    ``redriveFilter``, paged. With ``mapRunArn`` the request never comes here:
    :func:`runtime.server.api.maprun.list_executions` answers it and calls this one for
    the rest."""
    machine_arn = required(body, "stateMachineArn")
    status = one_of(body, "statusFilter", _STATUSES)
    redrive = one_of(body, "redriveFilter", ("REDRIVEN", "NOT_REDRIVEN"))
    if b.machine(machine_arn).type == "EXPRESS":  # AWS keeps no list of Express executions
        raise StateMachineTypeNotSupported(
            "This operation is not supported by this type of state machine"
        )
    rows = b.store.list_executions(state_machine=machine_arn, status=status, limit=None)
    if redrive is not None:
        rows = [row for row in rows if (row.redrive_count > 0) == (redrive == "REDRIVEN")]
    items = [_summary(row) for row in rows]
    return page(items, body, f"ListExecutions|{machine_arn}|{status}|{redrive}", "executions")


async def stop_execution(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """StopExecution: abort a RUNNING execution; a closed one is left as it is."""
    record = b.execution(required(body, "executionArn"))
    error, cause = optional(body, "error"), optional(body, "cause")
    clock = RealClock()
    if record.status == "RUNNING":
        lease = b.running.get(record.arn)
        if lease is not None and lease.on_stop is not None:
            lease.on_stop(error, cause)
        elif b.store.parked_until(record.arn, clock.now()) is not None:
            # Parked by asl serve (every branch in a long Wait): due now, with the stop
            # request, so a serve loop resumes it and aborts it as a running one is
            # (WaitStateAborted, then ExecutionAborted), as ``asl stop`` does.
            b.store.request_stop(record.arn, error, cause, clock.now())
            b.store.release_lease(record.arn, NOBODY)
            b.nudge.set()
        elif b.store.lease_owner(record.arn, clock.now()) is not None:
            b.store.request_stop(record.arn, error, cause, clock.now())
        else:
            _abort_unclaimed(b, record.arn, error, cause)
        record = await _closed(b, record.arn, clock)
    return {"stopDate": record.stop_time if record.stop_time is not None else clock.now()}


def _abort_unclaimed(b: Backend, arn: str, error: str | None, cause: str | None) -> None:
    """Close an execution nobody runs yet with ExecutionAborted (as ``asl stop`` does),
    after its ExecutionStarted if no runner wrote that yet."""
    from runtime.durable.store.lease import Lease, LeaseLost

    clock = RealClock()
    lease = Lease(b.store)
    try:
        lease.hold(arn)
    except LeaseLost:
        b.store.request_stop(arn, error, cause, clock.now())
        return
    try:
        last = max((e.id for e in b.store.recorded(arn)), default=0)
        if last == 0:
            record = b.machines.execution(arn)
            machine = None if record is None else b.machines.get(record.state_machine_arn)
            started = {
                "input": None if record is None else record.input,
                "roleArn": "" if machine is None else machine.role_arn,
            }
            b.store.record(
                arn,
                HistoryEvent(1, 0, "ExecutionStarted", clock.now(), started),
                fence=lease.generation,
            )
            last = 1
        details = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
        aborted = HistoryEvent(last + 1, last, "ExecutionAborted", clock.now(), details)
        b.store.record(arn, aborted, fence=lease.generation)
    finally:
        lease.release()


async def _closed(b: Backend, arn: str, clock: RealClock) -> ExecutionRecord:
    """The execution once it left RUNNING (or as it is after STOP_WAIT_SECONDS)."""
    deadline = clock.now() + STOP_WAIT_SECONDS
    while True:
        record = b.machines.execution(arn)
        assert record is not None
        if record.status != "RUNNING" or clock.now() >= deadline:
            return record
        await clock.sleep_until(clock.now() + 0.01)


OPERATIONS = {
    "DescribeExecution": describe_execution,
    "DescribeStateMachineForExecution": describe_state_machine_for_execution,
    "ListExecutions": list_executions,
    "StopExecution": stop_execution,
}
