"""What the store holds about an execution, and its AWS API shapes.

Times are seconds since the Unix epoch (the clock's unit); JSON documents are kept as
text and parsed only when asked for, so listing executions never parses a definition.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from runtime.engine.events import iso_timestamp

__all__ = [
    "CLOSING_STATUS",
    "ExecutionInfo",
    "ExecutionRecord",
    "ExecutionSummary",
    "RunningExecution",
]

#: The closing event of a history and the execution status it sets.
CLOSING_STATUS: Mapping[str, str] = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}


class RunningExecution(Protocol):
    """What :meth:`ExecutionInfo.of` reads from a :class:`runtime.engine.execution.Execution`."""

    arn: str
    name: str
    state_machine_arn: str
    input: Any
    start_time: float

    @property
    def machine(self) -> Any: ...

    @property
    def options(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """The identity of an execution, known before its first event."""

    #: ``arn:aws:states:<region>:<account>:execution:<machine>:<name>``.
    arn: str
    #: The execution name (the ARN's last part).
    name: str
    #: ``arn:aws:states:<region>:<account>:stateMachine:<machine>``.
    state_machine_arn: str
    #: The state machine name.
    state_machine_name: str
    #: The definition as a JSON-ready mapping.
    definition: Mapping[str, Any]
    #: How many times the execution was redriven (0 for a first run).
    redrive_count: int = 0
    #: How it was started (clock, mocks, local functions...), for ``asl resume``.
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls, execution: RunningExecution, options: Mapping[str, Any] | None = None
    ) -> ExecutionInfo:
        """The identity of a :class:`runtime.engine.execution.Execution` about to run."""
        return cls(
            arn=execution.arn,
            name=execution.name,
            state_machine_arn=execution.state_machine_arn,
            state_machine_name=execution.options.state_machine_name,
            definition=execution.machine.definition,
            options=dict(options or {}),
        )


@dataclass(frozen=True, slots=True)
class ExecutionSummary:
    """One row of ``asl executions``: identity, status and times."""

    arn: str
    name: str
    state_machine_name: str
    state_machine_arn: str
    #: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE.
    status: str
    #: Epoch seconds.
    start_time: float
    #: Epoch seconds; None while RUNNING.
    stop_time: float | None
    redrive_count: int
    #: ASL error name and cause (FAILED, TIMED_OUT, ABORTED).
    error: str | None
    cause: str | None

    @property
    def duration(self) -> float | None:
        """Seconds from start to stop; None while running."""
        return None if self.stop_time is None else self.stop_time - self.start_time

    def to_aws(self, time: Callable[[float], Any] = iso_timestamp) -> dict[str, Any]:
        """This execution as one item of ``ListExecutions``'s ``executions``; ``time``
        writes the dates (RFC 3339 text by default, as the CLI prints them; the API's
        wire format is epoch seconds)."""
        out: dict[str, Any] = {
            "executionArn": self.arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": time(self.start_time),
        }
        if self.stop_time is not None:
            out["stopDate"] = time(self.stop_time)
        out["redriveCount"] = self.redrive_count
        return out


@dataclass(frozen=True, slots=True)
class ExecutionRecord(ExecutionSummary):
    """Everything ``asl describe`` shows: the summary plus the JSON documents (as text)."""

    #: The definition, input and output as JSON text (output None unless SUCCEEDED).
    definition_json: str
    input_json: str
    output_json: str | None

    @property
    def input(self) -> Any:
        """The execution input, parsed."""
        return json.loads(self.input_json)

    @property
    def output(self) -> Any:
        """The execution output, parsed (None unless SUCCEEDED)."""
        return None if self.output_json is None else json.loads(self.output_json)

    @property
    def definition(self) -> Any:
        """The state machine definition, parsed."""
        return json.loads(self.definition_json)

    def to_describe(self, time: Callable[[float], Any] = iso_timestamp) -> dict[str, Any]:
        """This execution as ``DescribeExecution`` returns it (documents as JSON text)."""
        out = ExecutionSummary.to_aws(self, time)
        redrives = out.pop("redriveCount")
        out["input"] = self.input_json
        out["inputDetails"] = {"included": True}
        if self.output_json is not None:
            out["output"] = self.output_json
            out["outputDetails"] = {"included": True}
        if self.error is not None:
            out["error"] = self.error
        if self.cause is not None:
            out["cause"] = self.cause
        out["redriveCount"] = redrives
        return out
