"""What the trace knows about frames and state visits, and which events mean what.

Event names are AWS's (SPEC.md C); a frame is a Parallel branch or Map iteration, known
by its label (``[1]``, ``[1][3]``).
"""

from __future__ import annotations

from typing import Any

from runtime.trace.stats import StateStats

__all__ = ["ATTEMPT_STARTS", "BLOCKING", "ENDS", "FAILURES", "Scope", "Visit"]

#: On a real clock, what follows these events may take a while: show the lines so far.
BLOCKING = frozenset(
    {
        "WaitStateEntered",
        "TaskStarted",
        "TaskSubmitted",
        "LambdaFunctionStarted",
        "ActivityStarted",
        "TaskFailed",
        "TaskTimedOut",
        "LambdaFunctionFailed",
        "LambdaFunctionTimedOut",
        "ActivityFailed",
        "ActivityTimedOut",
        "MapStateFailed",
        "ParallelStateFailed",
    }
)

ATTEMPT_STARTS = frozenset(
    {
        "TaskScheduled",
        "LambdaFunctionScheduled",
        "ActivityScheduled",
        "MapStateStarted",
        "ParallelStateStarted",
    }
)

FAILURES = frozenset(
    {
        "TaskFailed",
        "TaskTimedOut",
        "TaskStartFailed",
        "TaskSubmitFailed",
        "LambdaFunctionFailed",
        "LambdaFunctionTimedOut",
        "LambdaFunctionStartFailed",
        "LambdaFunctionScheduleFailed",
        "ActivityFailed",
        "ActivityTimedOut",
        "ActivityScheduleFailed",
        "MapStateFailed",
        "ParallelStateFailed",
        "EvaluationFailed",
    }
)

ENDS = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"})


class Visit:
    """One visit of one state in one frame."""

    __slots__ = (
        "attempt",
        "done",
        "entered",
        "error",
        "failed",
        "failed_at",
        "failed_items",
        "hidden",
        "hidden_retries",
        "input",
        "item_error",
        "name",
        "row",
        "source",
        "total",
        "type",
    )

    def __init__(self, name: str, type: str, entered: float, row: StateStats) -> None:
        self.name = name
        self.type = type
        self.entered = entered
        #: The state's counters in the summary.
        self.row = row
        self.attempt = 0
        self.failed = False
        self.failed_at = entered
        self.error: str | None = None
        #: Map only: iterations not shown in detail, [succeeded, failed], and the retries
        #: inside them.
        self.hidden = [0, 0]
        self.hidden_retries = 0
        #: Map only: its items, the iterations ended, and the indexes of failed ones.
        self.total = 0
        self.done = 0
        self.failed_items: list[int] = []
        #: Map only: the (error, cause) of its first failed iteration.
        self.item_error: tuple[str, str | None] | None = None
        #: The state's input (kept with ``inspect`` only, for the input/output fallback).
        self.input: Any = None
        #: A Task's: where its answer came from (mock, local function, AWS...), or "".
        self.source = ""


class Scope:
    """A frame as the trace sees it: its label, nesting and current visit."""

    __slots__ = (
        "depth",
        "error",
        "hidden",
        "index",
        "label",
        "parent",
        "pending",
        "staged",
        "visit",
    )

    def __init__(self, label: str, parent: Scope | None) -> None:
        self.label = label
        self.parent = parent
        self.depth = label.count("[")
        self.index = int(label[label.rfind("[") + 1 : -1]) if label else 0
        self.hidden = False
        self.visit: Visit | None = None
        #: The last failure in this frame or a frame nested in it: (error, cause).
        self.error: tuple[str, str | None] | None = None
        #: A Catch seen at the last exit: (state, error, duration, assigned variables text),
        #: shown when the next state of this frame is entered.
        self.pending: tuple[str, str, float, str] | None = None
        #: With ``inspect``: the caught visit's StateExited event and input, whose stages
        #: are shown after the catch line.
        self.staged: tuple[Any, Any] | None = None
