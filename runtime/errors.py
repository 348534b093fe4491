"""Run-time failures of an execution.

All of them are :class:`asl.errors.StatesError` (an ASL ``error`` name and a ``cause``)::

    StatesError                    (asl.errors)
    ├── TaskFailure                the called service (or a mock) failed the task
    ├── FailStateReached           a Fail state ended the scope
    └── ExecutionTimedOut          the execution's TimeoutSeconds or the 1-year limit passed
"""

from __future__ import annotations

from asl.errors import StatesError

__all__ = ["ExecutionTimedOut", "FailStateReached", "TaskFailure", "state_error"]


class TaskFailure(StatesError):
    """Raised when a task's resource reports a failure; its cause is the service's own."""


class FailStateReached(StatesError):
    """Raised when a Fail state is reached; ends its branch, iteration or execution."""


class ExecutionTimedOut(StatesError):
    """Raised when the execution outlives its TimeoutSeconds or the 1-year maximum."""


def state_error(exc: StatesError, state: str, entered_id: int) -> StatesError:
    """Give an interpreter-raised error the prefix AWS puts on it.

    AWS: "An error occurred while executing the state '<name>' (entered at the event id
    #<n>). <detail>" (LS-SNAP ``test_catch_states_runtime``, ``base/test_wait``).
    """
    if isinstance(exc, TaskFailure | FailStateReached | ExecutionTimedOut | PrefixedError):
        return exc
    prefix = (
        f"An error occurred while executing the state '{state}' "
        f"(entered at the event id #{entered_id})."
    )
    cause = f"{prefix} {exc.cause}" if exc.cause else prefix
    return PrefixedError(exc.error, cause)


class PrefixedError(StatesError):
    """An interpreter error that already carries AWS's state prefix."""
