"""Run-time failures of an execution.

All of them are :class:`asl.errors.StatesError` (an ASL ``error`` name and a ``cause``)::

    StatesError                    (asl.errors)
    ├── TaskFailure                the called service (or a mock) failed the task
    │   └── HeartbeatTimeout       no heartbeat within HeartbeatSeconds
    ├── UnservedTask               nothing may answer a Task (no mock, local function or
    │                              adapter; mocked responses ran out): States.Runtime
    ├── FailStateReached           a Fail state ended the scope
    ├── ExecutionTimedOut          the execution's TimeoutSeconds or the 1-year limit passed
    ├── MapRunFailure              a Map Run failed as a whole (threshold, reader, writer)
    └── DataLimitExceeded          a state's input or output (or a Parallel/Map result) is
                                   over 256 KiB: terminal, no Catch handles it
"""

from __future__ import annotations

from asl.errors import StatesError
from runtime.engine.events import json_chunks

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "DataLimitExceeded",
    "ExecutionTimedOut",
    "FailStateReached",
    "HeartbeatTimeout",
    "MapRunFailure",
    "PrefixedError",
    "TaskFailure",
    "UnservedTask",
    "check_output",
    "check_payload",
    "data_limit",
    "input_limit_problem",
    "measured_size",
    "payload_bytes",
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


class DataLimitExceeded(StatesError):
    """Raised when a state's effective input, its output, or the result a Parallel or Map
    state gathered is over 256 KiB of UTF-8.

    Terminal: AWS fails the execution and no Retry or Catch handles it, not even
    ``States.ALL`` (DG error handling: "can't catch the States.DataLimitExceeded terminal
    error"). A task's own oversized result is a :class:`TaskFailure` instead, which AWS
    lets a Catch handle (recorded: states_errors.task_lambda_catch_state_all_data_limit_*).
    The cause carries no state prefix, as AWS writes it.
    """

    def __init__(self, who: str) -> None:
        super().__init__("States.DataLimitExceeded", _limit_cause(who))


def _limit_cause(who: str) -> str:
    return (
        f"The state/task '{who}' returned a result with a size exceeding the maximum "
        "number of bytes service limit."
    )


def payload_bytes(value: object) -> int:
    """The size of ``value`` as AWS counts a payload: bytes of its compact UTF-8 JSON."""
    try:
        chunks = _chunks(value, 0)
    except RecursionError:
        raise _too_deep() from None
    text = chunks[0] if len(chunks) == 1 else "".join(chunks)
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _too_deep() -> StatesError:
    # Built deeper than any JSON writer goes (a recursive JSONata function can): it could
    # never be written to the history or sent anywhere.
    return StatesError("States.Runtime", "A value is nested too deeply to be written as JSON.")


#: Compact JSON text of a value in pieces, by one C encoder built once.
_chunks = json_chunks()


def input_limit_problem(size: int) -> str | None:
    """Why an execution input of ``size`` bytes cannot start, or None if it can.

    AWS refuses it before any execution exists: StartExecution's ``input`` is at most
    262,144 bytes of UTF-8 (botocore's model, shape ``SensitiveData``), so the call fails
    with ValidationException and nothing runs.
    """
    if size <= MAX_PAYLOAD_BYTES:
        return None
    return (
        f"the execution input is {size:,} bytes of UTF-8; AWS refuses an input over "
        f"{MAX_PAYLOAD_BYTES:,} bytes (StartExecution: ValidationException)"
    )


#: The last value :func:`check_payload` measured and its size: a state's output often
#: holds its effective input or result as is, which then need not be measured again.
_measured: tuple[object, int] = (None, 4)


def check_payload(value: object, who: str) -> int:
    """Raise :class:`DataLimitExceeded` naming ``who`` if ``value`` is over 256 KiB;
    return its size."""
    global _measured
    try:  # payload_bytes inline: this is on the hot path
        chunks = _chunks(value, 0)
    except RecursionError:
        raise _too_deep() from None
    text = chunks[0] if len(chunks) == 1 else "".join(chunks)
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_PAYLOAD_BYTES:
        raise DataLimitExceeded(who)
    _measured = (value, size)
    return size


def measured_size(value: object) -> int:
    """The size :func:`check_payload` found for ``value`` if it was the last value it
    measured, else -1."""
    measured, size = _measured
    return size if value is measured else -1


def check_output(value: object, previous: object, previous_size: int, who: str) -> int:
    """:func:`check_payload` for a state's output; return its size or an upper bound.

    ``previous`` is the state's input and ``previous_size`` its size or a bound on it (-1
    when unknown). An output object that keeps most members of the input object as they
    are (a ResultPath such as ``$.result``) is bounded by the input's size plus its new
    members, so the whole output is serialised only when that bound is over the quota:
    the check costs no full serialisation per transition.
    """
    measured, measured_size = _measured
    if value is measured:  # the effective input or result, passed on as it is
        return measured_size
    if previous_size >= 0 and type(value) is dict and type(previous) is dict:
        bound = previous_size
        for key, item in value.items():
            if previous.get(key, _ABSENT) is item:
                continue
            # A key's JSON is at most 6 bytes a character (\uXXXX), plus ':' and ','.
            bound += 6 * len(key) + 4
            bound += measured_size if item is measured else _bytes_bound(item)
            if bound > MAX_PAYLOAD_BYTES:
                break
        if bound <= MAX_PAYLOAD_BYTES:
            return bound
    return check_payload(value, who)


def _bytes_bound(value: object) -> int:
    """Bytes of ``value`` as JSON, or an upper bound for a scalar (no serialisation)."""
    kind = type(value)
    if kind is str:
        return 6 * len(value) + 2  # type: ignore[arg-type]
    if kind is int or kind is float:
        return len(repr(value)) + 4  # a float's JSON text is its repr ("1e+16" and such)
    if value is None or kind is bool:
        return 5
    return payload_bytes(value)


_ABSENT = object()


def state_error(exc: StatesError, state: str, entered_id: int) -> StatesError:
    """Give an interpreter-raised error the prefix AWS puts on it.

    AWS: "An error occurred while executing the state '<name>' (entered at the event id
    #<n>). <detail>" (LS-SNAP ``test_catch_states_runtime``, ``base/test_wait``).
    """
    if isinstance(
        exc,
        TaskFailure
        | FailStateReached
        | ExecutionTimedOut
        | MapRunFailure
        | PrefixedError
        | DataLimitExceeded,
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
    if payload_bytes(value) <= MAX_PAYLOAD_BYTES:
        return None
    return TaskFailure("States.DataLimitExceeded", _limit_cause(who))
