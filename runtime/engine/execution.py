"""One execution of a state machine: its identity, history, context object and outcome.

The walk through states lives in :mod:`runtime.engine.interpreter`; this module holds what the
walk writes to: the event history (with AWS's ``id``/``previousEventId`` numbering), the
context object, the frames of variables, and the final status.
"""

from __future__ import annotations

import random
import uuid
from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from asl.errors import StatesError
from asl.model import StateMachine
from runtime.adapters.base import AdapterRegistry
from runtime.callbacks.tokens import TokenSigner, process_signer
from runtime.engine.clock import Clock
from runtime.engine.errors import payload_bytes
from runtime.engine.events import HistoryEvent, iso_timestamp
from runtime.engine.replay import Replay

__all__ = [
    "MAX_ASSIGN_BYTES",
    "MAX_HISTORY_EVENTS",
    "MAX_STORED_VARIABLES_BYTES",
    "MAX_VARIABLE_BYTES",
    "VARIABLE_LIMIT_ERROR",
    "Execution",
    "ExecutionOptions",
    "Frame",
    "Observer",
]

#: AWS quota: an execution with more history events fails (DG service quotas).
MAX_HISTORY_EVENTS = 25_000

#: AWS quotas on workflow variables, in bytes of UTF-8 JSON (DG workflow-variables; TK
#: "Variable Limits"): one variable, all values of one Assign, all variables stored.
MAX_VARIABLE_BYTES = 262_144
MAX_ASSIGN_BYTES = 262_144
MAX_STORED_VARIABLES_BYTES = 10 * 1_048_576
#: AWS does not publish the error of a breached variable quota; DataLimitExceeded is its
#: error for every other size quota (terminal, like States.Runtime). Not recorded.
VARIABLE_LIMIT_ERROR = "States.DataLimitExceeded"

_CLOSING_EVENTS = frozenset(
    {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}
)

#: Called for every event as it is written, with the frame (branch/iteration) it is in.
Observer = Callable[[HistoryEvent, "Frame"], None]


@dataclass(frozen=True, slots=True)
class ExecutionOptions:
    """Identity and environment of an execution."""

    name: str = ""
    state_machine_name: str = "StateMachine"
    account: str = "123456789012"
    region: str = "us-east-1"
    role_arn: str = ""
    #: Seed for JitterStrategy FULL (and other randomness), for repeatable runs.
    seed: int | None = None
    #: When the execution started (epoch seconds); the clock's now unless resuming.
    start_time: float | None = None
    #: How many times the execution was redriven (``$$.Execution.RedriveCount``).
    redrive_count: int = 0
    #: A partial run: the top-level state to start at instead of StartAt.
    start_at: str | None = None
    #: A partial run: the top-level state after which the execution succeeds with its output.
    stop_after: str | None = None
    #: Variables set before the first state (a partial run resumes a workflow's data).
    variables: Mapping[str, Any] | None = None
    #: Fields of the context object's ``Execution`` and ``StateMachine`` to use instead.
    context: Mapping[str, Mapping[str, Any]] | None = None
    #: Signs task tokens (the store's secret for stored executions); None: this
    #: process's secret (:func:`runtime.callbacks.tokens.process_signer`).
    tokens: TokenSigner | None = None
    #: Worker processes for the children of a Distributed Map (1: this process only).
    processes: int = 1


class Frame:
    """A thread of execution: the machine, a Parallel branch or a Map iteration.

    ``prev`` is the id of the last event written in this thread (AWS's previousEventId
    chain); ``variables`` is this scope's own variables, ``view`` what it can read.
    """

    __slots__ = (
        "_own_view",
        "label",
        "map_item",
        "muted",
        "parent",
        "prev",
        "prev_time",
        "sizes",
        "stored",
        "variables",
        "view",
    )

    def __init__(
        self,
        prev: int = 0,
        parent: Frame | None = None,
        map_item: Mapping[str, Any] | None = None,
        label: str = "",
        muted: bool = False,
    ) -> None:
        self.prev = prev
        #: The timestamp of event ``prev`` (0 before the first event of the execution).
        self.prev_time: float = parent.prev_time if parent is not None else 0.0
        #: Events of a muted frame are not written (Distributed Map child executions).
        self.muted = muted
        self.parent = parent
        self.map_item = map_item
        self.label = label
        self.variables: dict[str, Any] = {}
        #: Bytes of each variable of this scope, and their sum (the variable quotas).
        self.sizes: dict[str, int] = {}
        self.stored = 0
        # An inner scope reads its parent's variables through the parent's own view until it
        # assigns one itself (then a ChainMap keeps its assignments to itself).
        self.view: MutableMapping[str, Any] = self.variables if parent is None else parent.view
        self._own_view = False

    def child(self, prev: int, label: str, map_item: Mapping[str, Any] | None = None) -> Frame:
        """A nested scope (branch or iteration) whose events follow event ``prev``."""
        return Frame(prev, self, map_item, f"{self.label}{label}", self.muted)

    def assign(self, values: Mapping[str, Any]) -> None:
        """Set variables in this scope (all values computed before any is set).

        Raises StatesError when a variable quota would be exceeded. The execution-wide
        quota counts this scope and the scopes enclosing it: a finished branch or
        iteration's variables are gone, and concurrent siblings are not counted.
        """
        sizes = {name: _json_bytes(name, value) for name, value in values.items()}
        added = sum(sizes.values())
        if added > MAX_ASSIGN_BYTES:
            raise _variable_limit(
                f"The values assigned by this state total {added} bytes, exceeding the "
                f"maximum of {MAX_ASSIGN_BYTES} bytes for one Assign."
            )
        stored = self.stored + added - sum(self.sizes.get(name, 0) for name in sizes)
        total = stored + self._outer_stored()
        if total > MAX_STORED_VARIABLES_BYTES:
            raise _variable_limit(
                f"The variables stored by this execution would total {total} bytes, "
                f"exceeding the maximum of {MAX_STORED_VARIABLES_BYTES} bytes."
            )
        self.variables.update(values)
        self.sizes.update(sizes)
        self.stored = stored
        if self.parent is not None and self.view is not self.variables and not self._own_view:
            self.view = ChainMap(self.variables, self.parent.view)
            self._own_view = True

    def _outer_stored(self) -> int:
        total, frame = 0, self.parent
        while frame is not None:
            total, frame = total + frame.stored, frame.parent
        return total


def _json_bytes(name: str, value: Any) -> int:
    """Size of ``value`` as UTF-8 JSON; StatesError when one variable is over its quota."""
    size = payload_bytes(value)  # measured as every other payload quota is
    if size > MAX_VARIABLE_BYTES:
        raise _variable_limit(
            f"The value of the variable '{name}' is {size} bytes, exceeding the maximum of "
            f"{MAX_VARIABLE_BYTES} bytes for one variable."
        )
    return size


def _variable_limit(cause: str) -> StatesError:
    return StatesError(VARIABLE_LIMIT_ERROR, cause)


class Execution:
    """State and history of one run; see :func:`runtime.engine.interpreter.run_execution`."""

    def __init__(
        self,
        machine: StateMachine,
        input: Any,
        clock: Clock,
        adapters: AdapterRegistry,
        options: ExecutionOptions,
        observers: tuple[Observer, ...] = (),
        inspect: bool = False,
        replay: Replay | None = None,
    ) -> None:
        self.machine = machine
        #: Record each state's data-flow stages on its StateExited event (``inspection``).
        self.inspect = inspect
        self.input = input
        #: Bytes of ``input`` as JSON when the caller measured them (-1: not measured).
        self.input_size = -1
        self.clock = clock
        self.adapters = adapters
        self.options = options
        self.observers = observers
        self._rng: random.Random | None = None
        # Always fresh (not from the seed): a store keeps names unique, as AWS does.
        self.name = options.name or str(uuid.uuid4())
        sm = options.state_machine_name
        prefix = f"arn:aws:states:{options.region}:{options.account}"
        self.state_machine_arn = f"{prefix}:stateMachine:{sm}"
        self.arn = f"{prefix}:execution:{sm}:{self.name}"
        self.role_arn = options.role_arn or f"arn:aws:iam::{options.account}:role/StepFunctionsRole"
        self.history: list[HistoryEvent] = []
        self._now = clock.now
        #: Aborted events noted while cancellation unwinds (see :meth:`defer_abort`).
        self.aborts: list[tuple[Frame, str, Mapping[str, Any] | None]] = []
        #: The recorded history being replayed when this execution is resumed.
        self.replay = replay
        self._next_id = replay.last_id + 1 if replay is not None else 1
        self.transitions = 0
        self.start_time = options.start_time if options.start_time is not None else clock.now()
        self.stop_time: float | None = None
        self.status = "RUNNING"
        #: StopExecution's (error, cause) once :meth:`abort` was called.
        self.abort_request: tuple[str | None, str | None] | None = None
        #: The cancel scope of the running execution (set by the interpreter).
        self.stop_scope: Any = None
        #: The event loop's cancellation exception class (set when the run starts).
        self.cancelled: type[BaseException] = BaseException
        #: The handler of each state type, set by the interpreter when the run starts.
        self.handlers: Mapping[str, Any] = {}
        #: The step builders of state types compiled into one call (None: every state
        #: takes its handler), set with the handlers (see runtime.engine.scope.Step).
        self.steps: Mapping[str, Any] | None = None
        #: Runs a child execution (nested executions), set with the handlers.
        self.run_child: Any = None
        self.output: Any = None
        #: The Map Runs of this execution's Distributed Map states, as they started
        #: (:class:`runtime.distributed.runs.MapRunRecord`).
        self.map_runs: list[Any] = []
        self.error: str | None = None
        self.cause: str | None = None
        self._ctx_execution = {
            "Id": self.arn,
            "Input": input,
            "StartTime": iso_timestamp(self.start_time),
            "Name": self.name,
            "RoleArn": self.role_arn,
            "RedriveCount": options.redrive_count,
        }
        if options.redrive_count:
            self._ctx_execution["RedriveTime"] = iso_timestamp(clock.now())
        self._ctx_machine = {"Id": self.state_machine_arn, "Name": sm}
        if options.context:
            self._ctx_execution.update(options.context.get("Execution") or {})
            self._ctx_machine.update(options.context.get("StateMachine") or {})
        #: Given to states that never read the context object (see State.uses_context).
        self.base_context = {"Execution": self._ctx_execution, "StateMachine": self._ctx_machine}

    # -- history -------------------------------------------------------------------

    def emit(
        self,
        frame: Frame,
        type: str,
        details: Mapping[str, Any] | None = None,
        inspection: Mapping[str, Any] | None = None,
        at: float | None = None,
    ) -> int:
        """Write one event in ``frame``'s chain (now, or ``at``); return its id.

        While resuming, an event the history already holds is matched, not written again
        (see :mod:`runtime.engine.replay`); observers hear only new events.
        """
        if frame.muted:
            # Not written, but Wait and retry delays count from this event's time.
            frame.prev_time = self._now()
            return 0
        if self.replay is not None:
            recorded = self.replay.match(frame.prev, type, details)
            if recorded is not None:
                event = HistoryEvent(
                    recorded.id, recorded.previous_event_id, type, recorded.timestamp, details
                )
                self.history.append(event)
                frame.prev, frame.prev_time = recorded.id, recorded.timestamp
                return event.id
        event_id = self._next_id
        if event_id >= MAX_HISTORY_EVENTS and type not in _CLOSING_EVENTS:
            # The execution fails; the closing event itself is still written.
            raise StatesError(
                "States.Runtime",
                f"The execution reached the maximum number of history events "
                f"({MAX_HISTORY_EVENTS}).",
            )
        self._next_id = event_id + 1
        if at is None:
            at = self._now()
        event = HistoryEvent(event_id, frame.prev, type, at, details, inspection)
        self.history.append(event)
        frame.prev = event_id
        frame.prev_time = at
        if self.observers:
            for observer in self.observers:
                observer(event, frame)
        return event_id

    def abort(self, error: str | None = None, cause: str | None = None) -> None:
        """Stop the execution as StopExecution does: it ends ABORTED (ExecutionAborted);
        running tasks are cancelled, so ``.sync`` jobs are stopped best effort."""
        if self.abort_request is None and self.status == "RUNNING":
            self.abort_request = (error, cause)
            if self.stop_scope is not None:
                self.stop_scope.cancel()

    def defer_abort(
        self, frame: Frame, type: str, details: Mapping[str, Any] | None = None
    ) -> None:
        """Note an aborted state or iteration, written if a sibling's failure caused it."""
        self.aborts.append((frame, type, details))

    def flush_aborts(self) -> None:
        """Write the aborted events noted while a failing fan-out cancelled its siblings."""
        aborts, self.aborts = self.aborts, []
        for frame, type, details in aborts:
            self.emit(frame, type, details)

    def replaying(self, frame: Frame) -> bool:
        """True when ``frame``'s last event came from the recorded history (resuming)."""
        return self.replay is not None and 0 < frame.prev <= self.replay.last_id

    async def sleep_until(self, frame: Frame, deadline: float) -> None:
        """Sleep on the clock, unless the history already records what came after."""
        if self.replay is not None and self.replay.ahead(frame.prev):
            return
        parkable = getattr(self.clock, "sleep_parkable", None)  # asl serve's ParkingClock
        if parkable is not None:
            await parkable(deadline, self.arn)
            return
        await self.clock.sleep_until(deadline)

    # -- context object --------------------------------------------------------------

    def context(
        self,
        frame: Frame,
        state_name: str,
        entered: str,
        retry_count: int | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """The context object (``$$``) as a state sees it (DG input-output-contextobject)."""
        state: dict[str, Any] = {"EnteredTime": entered, "Name": state_name}
        if retry_count is not None:
            state["RetryCount"] = retry_count
        ctx: dict[str, Any] = {
            "Execution": self._ctx_execution,
            "State": state,
            "StateMachine": self._ctx_machine,
        }
        if token is not None:
            ctx["Task"] = {"Token": token}
        if frame.map_item is not None:
            ctx["Map"] = {"Item": frame.map_item}
        return ctx

    @property
    def rng(self) -> random.Random:
        """Randomness of this execution (jitter, tokens), seeded by ``options.seed``."""
        if self._rng is None:
            self._rng = random.Random(self.options.seed)
        return self._rng

    def task_token(self, entered_id: int, attempt: int) -> str:
        """The task token of one attempt of a task (``$$.Task.Token``).

        Signed over the execution, the state visit and the attempt
        (:mod:`runtime.callbacks.tokens`): nobody can compute it without the secret, and
        a resumed execution waits on the token the service was given before the restart.
        """
        signer = self.options.tokens or process_signer()
        return signer.make(self.arn, entered_id, attempt)

    # -- outcome -------------------------------------------------------------------

    def finish(
        self, status: str, output: Any = None, error: str | None = None, cause: str | None = None
    ) -> None:
        self.status = status
        self.output = output
        self.error = error
        self.cause = cause
        self.stop_time = self.clock.now()
