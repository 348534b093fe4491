"""One scope's walk: a visit of one state (:class:`StateRun`) and the loop from a
scope's StartAt to its end (:func:`run_branch`).

The handler of each state type comes from the table the execution carries
(``exe.handlers``, filled by :func:`runtime.engine.interpreter.run_execution`), so the
Parallel and Map handlers can run their branches through this module without any module
importing the interpreter back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from asl.errors import StatesError
from asl.model import Branch, State
from runtime.engine.errors import check_output, state_error
from runtime.engine.events import iso_timestamp
from runtime.engine.execution import Execution, Frame

__all__ = [
    "TURN_SECONDS",
    "Handler",
    "Outcome",
    "StateRun",
    "Step",
    "StepBuilder",
    "StepOutcome",
    "run_branch",
]

#: On the real clock, an execution that never waits lets the others run at least this
#: often (seconds of the event loop it holds at most, checked every 16 states).
TURN_SECONDS = 0.002
#: When the running execution's turn ends (real-clock epoch seconds), shared by all.
_turn = [0.0]


class StateRun:
    """One visit of one state: what every handler needs."""

    __slots__ = (
        "ctx",
        "data",
        "entered_at",
        "entered_id",
        "exe",
        "exited",
        "frame",
        "output_size",
        "size",
        "stages",
        "state",
    )

    def __init__(
        self,
        exe: Execution,
        frame: Frame,
        state: State,
        data: Any,
        entered_id: int,
        size: int = -1,
    ) -> None:
        self.exe = exe
        self.frame = frame
        self.state = state
        self.data = data
        #: Bytes of ``data`` as JSON, or an upper bound on them; -1 when not known.
        self.size = size
        #: The output :meth:`exit` checked, and its size (or a bound; -1 before).
        self.exited: Any = _NOT_EXITED
        self.output_size = -1
        #: The StateEntered event: its id and time (epoch seconds; AWS's text: ``entered``).
        self.entered_id = entered_id
        self.entered_at = frame.prev_time
        #: Data-flow stages for inspection (TestState's names), when the execution asks.
        self.stages: dict[str, Any] | None = {"input": data} if exe.inspect else None
        self.ctx = (
            exe.context(frame, state.name, self.entered, self._retry_count())
            if state.uses_context
            else exe.base_context
        )

    @property
    def entered(self) -> str:
        """When the state was entered, as AWS prints it (``$$.State.EnteredTime``)."""
        return iso_timestamp(self.entered_at)

    def _retry_count(self) -> int | None:
        return 0 if self.state.type in ("Task", "Parallel", "Map") else None

    @property
    def variables(self) -> Mapping[str, Any]:
        return self.frame.view

    def emit(self, type: str, details: Mapping[str, Any] | None = None) -> int:
        return self.exe.emit(self.frame, type, details)

    @property
    def evaluating(self) -> StateRun:
        """``with run.evaluating:`` records a JSONata failure as AWS does.

        AWS writes EvaluationFailed (with the prefixed cause) before the failure events.
        The run object is its own context manager, so entering costs no allocation.
        """
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if not isinstance(exc, StatesError) or exc.error != "States.QueryEvaluationError":
            return
        err = state_error(exc, self.state.name, self.entered_id)
        if err is exc:
            return
        self.emit(
            "EvaluationFailed",
            {
                "error": err.error,
                "cause": err.cause,
                "location": _location(exc),
                "state": self.state.name,
            },
        )
        raise err from exc

    def assign(self, assign_input: Any, assign: Any = None) -> dict[str, Any] | None:
        """Evaluate ``Assign`` (the state's, or a rule's/catcher's) and set the variables."""
        assign = self.state.assign if assign is None else assign
        if assign is None:
            return None
        with self.evaluating:
            if self.state.query_language == "JSONata":
                values = assign.evaluate(assign_input)
            else:
                values = assign.evaluate(assign_input, self.ctx, self.frame.view)
        self.frame.assign(values)
        return dict(values)

    def exit(self, output: Any, assigned: Mapping[str, Any] | None = None) -> None:
        # A state's output is at most 256 KiB (DG service quotas). An output that is the
        # input itself was measured when it was made: nothing to serialise then.
        if output is self.data:
            self.output_size = self.size
        else:
            self.output_size = check_output(output, self.data, self.size, self.state.name)
        self.exited = output
        details: dict[str, Any] = {"name": self.state.name, "output": output}
        if assigned is not None:
            details["assignedVariables"] = assigned
        stages = self.stages
        if stages is not None:
            stages["output"] = output
            if assigned is not None:
                stages["variables"] = assigned
        self.exe.emit(self.frame, _EXITED[self.state.type], details, stages)


def _location(exc: StatesError) -> str:
    return str(getattr(exc, "location", "") or "")


#: What a handler returns: the next state's name (None: the scope ends) and the output.
Outcome = tuple[str | None, Any]

#: A state type's handler. One whose states never wait (Pass, Choice, ...) is a plain
#: function returning its outcome, which saves a coroutine per visit; the others are
#: coroutine functions.
Handler = Callable[[StateRun], Outcome | Awaitable[Outcome]]

#: What a compiled step returns: the next state's name, the output and its size (or a
#: bound on it, -1 when not known).
StepOutcome = tuple[str | None, Any, int]

#: A state compiled into one call that needs no StateRun (a state that never waits):
#: ``step(exe, frame, data, size, entered_id)``, called right after the StateEntered
#: event, does the state's work and writes its StateExited event.
Step = Callable[[Execution, Frame, Any, int, int], StepOutcome]

#: Builds a state's step, or returns None when the state must take its handler.
StepBuilder = Callable[[State], Step | None]

_NOT_EXITED = object()


# -- the scope loop -----------------------------------------------------------------


async def run_branch(
    exe: Execution, branch: Branch, data: Any, frame: Frame, size: int = -1
) -> Any:
    """Run a scope from its StartAt to a terminal state; return its output.

    ``size`` is the bytes of ``data`` as JSON, or an upper bound on them (-1: unknown).
    """
    table = _table(branch.states, exe.steps)
    name: str | None = branch.start_at
    cancelled = exe.cancelled
    handlers = exe.handlers
    emit = exe.emit
    while name is not None:
        state, step = table[name]
        kind = state.type
        transitions = exe.transitions = exe.transitions + 1
        if not transitions & 15 and (
            not transitions & 255 or (not exe.clock.virtual and exe.clock.now() >= _turn[0])
        ):
            # A long run of states that never wait must not hold the event loop: other
            # executions, lease renewals and the trace get their turn every 256 states,
            # and on the real clock every TURN_SECONDS too (a state can be slow: a big
            # payload, a committed event), so short executions stay quick beside it.
            await anyio.lowlevel.checkpoint()
            _turn[0] = exe.clock.now() + TURN_SECONDS
        entered_id = emit(frame, _ENTERED[kind], {"name": name, "input": data})
        if step is not None:
            try:
                name, data, size = step(exe, frame, data, size, entered_id)
            except StatesError as exc:
                err = state_error(exc, state.name, entered_id)
                if err is exc:
                    raise
                raise err from exc
            continue
        run = StateRun(exe, frame, state, data, entered_id, size)
        try:
            outcome = handlers[kind](run)
            if type(outcome) is not tuple:
                outcome = await outcome
            name, data = outcome
            size = run.output_size if data is run.exited else -1
        except StatesError as exc:
            err = state_error(exc, state.name, run.entered_id)
            if err is exc:
                raise
            raise err from exc
        except cancelled:
            # A sibling failed: AWS marks the running state aborted. Written only by the
            # fan-out that absorbs the failure (not on a timeout, Ctrl-C or detach).
            if state.type in _ABORTABLE:
                exe.defer_abort(frame, state.type + "StateAborted")
            raise
    return data


class _Table(dict[str, tuple[State, "Step | None"]]):
    """A scope's states by name with their compiled steps (None: run by the handler),
    each built on the state's first visit: a state never visited costs nothing."""

    __slots__ = ("builders", "states")

    def __init__(
        self, states: Mapping[str, State], builders: Mapping[str, StepBuilder] | None
    ) -> None:
        super().__init__()
        self.states = states
        self.builders = builders

    def __missing__(self, name: str) -> tuple[State, Step | None]:
        state = self.states[name]
        builder = self.builders.get(state.type) if self.builders is not None else None
        entry = self[name] = (state, builder(state) if builder is not None else None)
        return entry


#: The table of each scope, by the id of its ``states`` mapping (held, so the id stays
#: its own) and of the step builders: built once per compiled scope and kept across runs,
#: for the scopes of the last few machines run (the oldest is dropped first).
_TABLES: dict[tuple[int, int], _Table] = {}
_MAX_TABLES = 64


def _table(
    states: Mapping[str, State], builders: Mapping[str, StepBuilder] | None
) -> Mapping[str, tuple[State, Step | None]]:
    key = (id(states), id(builders))
    table = _TABLES.get(key)
    if table is None or table.states is not states:
        if len(_TABLES) >= _MAX_TABLES:
            del _TABLES[next(iter(_TABLES))]
        table = _TABLES[key] = _Table(states, builders)
    return table


_ABORTABLE = frozenset({"Task", "Wait", "Map", "Parallel"})
_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_ENTERED = {t: t + "StateEntered" for t in _TYPES}
_EXITED = {t: t + "StateExited" for t in _TYPES}
