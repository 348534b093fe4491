"""Run-time failures of an execution.

All of them are :class:`asl.errors.StatesError` (an ASL ``error`` name and a ``cause``)::

    StatesError                    (asl.errors)
    ├── TaskFailure                the called service (or a mock) failed the task
    │   └── HeartbeatTimeout       no heartbeat within HeartbeatSeconds
    ├── UnservedTask               nothing may answer a Task (no mock, local function or
    │                              adapter; mocked responses ran out): States.Runtime
    ├── FailStateReached           a Fail state ended the scope
    ├── ExecutionTimedOut          the execution's TimeoutSeconds or the 1-year limit passed
    └── MapRunFailure              a Map Run failed as a whole (threshold, reader, writer)
"""

from __future__ import annotations

from asl.errors import StatesError

__all__ = [
    "ExecutionTimedOut",
    "FailStateReached",
    "HeartbeatTimeout",
    "MapRunFailure",
    "PrefixedError",
    "TaskFailure",
    "UnservedTask",
    "data_limit",
    "state_error",
]

#: AWS's limit on a task result, a state's input or output, and the execution's input
#: or output: 256 KiB of UTF-8 (DG service quotas).
MAX_PAYLOAD_BYTES = 262_144


class TaskFailure(StatesError):
    """Raised when a task's resource reports a failure; its cause is the service's own."""


class HeartbeatTimeout(TaskFailure):
    """Raised when a task sent no heartbeat within its HeartbeatSeconds.

    AWS records it as ``States.Timeout``; ``States.HeartbeatTimeout`` in ErrorEquals
    matches it too (DG error handling).
    """

    def __init__(self) -> None:
        super().__init__("States.Timeout", None)


class UnservedTask(StatesError):
    """Raised when nothing may answer a Task: no mock, local function or adapter serves it,
    or its mocked responses ran out.

    A mistake in the run's setup, not a failure of the service: it is ``States.Runtime``,
    which no Retry or Catch handles (not even ``States.ALL``), so a test cannot pass by
    catching it. The cause names the state.
    """

    def __init__(self, cause: str) -> None:
        super().__init__("States.Runtime", cause)


class FailStateReached(StatesError):
    """Raised when a Fail state is reached; ends its branch, iteration or execution."""


class ExecutionTimedOut(StatesError):
    """Raised when the execution outlives its TimeoutSeconds or the 1-year maximum."""


class MapRunFailure(StatesError):
    """Raised when a Map Run fails as a whole (its failure threshold, reader or writer)."""


def state_error(exc: StatesError, state: str, entered_id: int) -> StatesError:
    """Give an interpreter-raised error the prefix AWS puts on it.

    AWS: "An error occurred while executing the state '<name>' (entered at the event id
    #<n>). <detail>" (LS-SNAP ``test_catch_states_runtime``, ``base/test_wait``).
    """
    if isinstance(
        exc, TaskFailure | FailStateReached | ExecutionTimedOut | MapRunFailure | PrefixedError
    ):
        return exc
    prefix = (
        f"An error occurred while executing the state '{state}' "
        f"(entered at the event id #{entered_id})."
    )
    cause = f"{prefix} {exc.cause}" if exc.cause else prefix
    return PrefixedError(exc.error, cause)


class PrefixedError(StatesError):
    """An interpreter error that already carries AWS's state prefix."""


def data_limit(value: object, who: str) -> TaskFailure | None:
    """The DataLimitExceeded failure for ``value`` if it is over 256 KiB, else None.

    ``who`` is what AWS names in the cause: the Lambda ARN, the service, or the state.
    """
    from runtime.engine.events import dumps

    if len(dumps(value).encode("utf-8")) <= MAX_PAYLOAD_BYTES:
        return None
    return TaskFailure(
        "States.DataLimitExceeded",
        f"The state/task '{who}' returned a result with a size exceeding the maximum "
        "number of bytes service limit.",
    )
