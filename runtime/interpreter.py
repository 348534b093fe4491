"""The walk through states: one loop per scope, one handler per state type.

Handlers are looked up in :data:`HANDLERS` by the state's ``Type``; each takes a
:class:`StateRun` and returns ``(next state name or None, output)``. Errors are
:class:`~asl.errors.StatesError`; those the interpreter itself raises get AWS's
"An error occurred while executing the state ..." prefix at the scope loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio

from asl.errors import StatesError
from asl.model import DEFAULT, Branch, ChoiceState, FailState, PassState, State, WaitState
from runtime.dataflow import apply_path, effective_input, jsonata_bindings, state_output
from runtime.errors import ExecutionTimedOut, FailStateReached, state_error
from runtime.events import iso_timestamp
from runtime.execution import Execution, Frame
from runtime.waiting import wait_deadline

__all__ = ["HANDLERS", "StateRun", "run_branch", "run_execution"]

#: A year of 365 days: AWS's maximum duration of a Standard execution (DG quotas).
ONE_YEAR_SECONDS = 365 * 24 * 3600


class StateRun:
    """One visit of one state: what every handler needs."""

    __slots__ = (
        "ctx",
        "data",
        "entered",
        "entered_at",
        "entered_id",
        "exe",
        "frame",
        "stages",
        "state",
    )

    def __init__(
        self, exe: Execution, frame: Frame, state: State, data: Any, entered_id: int
    ) -> None:
        self.exe = exe
        self.frame = frame
        self.state = state
        self.data = data
        #: The StateEntered event: its id and time (epoch seconds and AWS's text).
        self.entered_id = entered_id
        self.entered_at = frame.prev_time
        self.entered = iso_timestamp(self.entered_at)
        #: Data-flow stages for inspection (TestState's names), when the execution asks.
        self.stages: dict[str, Any] | None = {"input": data} if exe.inspect else None
        self.ctx = (
            exe.context(frame, state.name, self.entered, self._retry_count())
            if state.uses_context
            else exe.base_context
        )

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


Handler = Callable[[StateRun], Awaitable[tuple[str | None, Any]]]


# -- the scope loop -----------------------------------------------------------------


async def run_branch(exe: Execution, branch: Branch, data: Any, frame: Frame) -> Any:
    """Run a scope from its StartAt to a terminal state; return its output."""
    states = branch.states
    name: str | None = branch.start_at
    cancelled = exe.cancelled
    while name is not None:
        state = states[name]
        exe.transitions += 1
        if not exe.transitions & 255:
            # A long run of states that never wait must not hold the event loop: other
            # executions, lease renewals and the trace get their turn.
            await anyio.lowlevel.checkpoint()
        entered_id = exe.emit(frame, _ENTERED[state.type], {"name": name, "input": data})
        run = StateRun(exe, frame, state, data, entered_id)
        try:
            name, data = await (HANDLERS.get(state.type) or _handler(state.type))(run)
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


_ABORTABLE = frozenset({"Task", "Wait", "Map", "Parallel"})
_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_ENTERED = {t: t + "StateEntered" for t in _TYPES}
_EXITED = {t: t + "StateExited" for t in _TYPES}


async def run_execution(exe: Execution) -> None:
    """Run ``exe`` to its end; the outcome is in ``exe.status`` and friends."""
    root = Frame()
    exe.cancelled = anyio.get_cancelled_exc_class()
    if exe.options.redrive_count and exe.replay is not None:
        # RedriveExecution: the history goes on after its closing event.
        redriven = Frame(prev=exe.replay.last_id)
        exe.emit(redriven, "ExecutionRedriven", {"redriveCount": exe.options.redrive_count})
    exe.emit(
        root,
        "ExecutionStarted",
        {"input": exe.input, "roleArn": exe.role_arn},
    )
    limit = ONE_YEAR_SECONDS
    if exe.machine.timeout_seconds is not None:
        limit = min(limit, exe.machine.timeout_seconds)
    deadline = exe.start_time + limit
    timed_out = False
    output: Any = None
    exe.clock.join()
    try:
        with anyio.CancelScope() as scope:

            def on_timeout() -> None:
                nonlocal timed_out
                timed_out = True
                scope.cancel()

            timer = exe.clock.call_at(deadline, on_timeout)
            exe.stop_scope = scope
            try:
                output = await run_branch(exe, exe.machine.root, exe.input, root)
            except StatesError as exc:
                _fail(exe, root, exc)
                return
            finally:
                timer.cancel()
    finally:
        exe.clock.leave()
        exe.stop_scope = None
    if exe.abort_request is not None:
        error, cause = exe.abort_request
        exe.flush_aborts()  # the states the stop interrupted
        details = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
        exe.emit(root, "ExecutionAborted", details)
        exe.finish("ABORTED", error=error, cause=cause)
        return
    if timed_out:
        err = ExecutionTimedOut("States.Timeout", None)
        exe.emit(root, "ExecutionTimedOut", {"error": err.error})
        exe.finish("TIMED_OUT", error=err.error, cause=err.cause)
        return
    exe.emit(root, "ExecutionSucceeded", {"output": output})
    exe.finish("SUCCEEDED", output=output)


def _fail(exe: Execution, frame: Frame, exc: StatesError) -> None:
    details: dict[str, Any] = {"error": exc.error}
    if exc.cause is not None:
        details["cause"] = exc.cause
    exe.emit(frame, "ExecutionFailed", details)
    exe.finish("FAILED", error=exc.error, cause=exc.cause)


# -- simple states --------------------------------------------------------------------


async def run_pass(run: StateRun) -> tuple[str | None, Any]:
    state = run.state
    assert isinstance(state, PassState)
    data, ctx, variables = run.data, run.ctx, run.frame.view
    if state.query_language == "JSONata":
        with run.evaluating:
            bindings = jsonata_bindings(data, ctx, variables)
            output = state.output.evaluate(bindings) if state.output is not None else data
            assigned = run.assign(bindings)
        run.exit(output, assigned)
        return state.next, output
    result = effective_input(state, data, ctx, variables, run.stages)
    if state.result is not DEFAULT:
        result = state.result
    output, assign_input = state_output(state, data, result, ctx, variables, run.stages)
    assigned = run.assign(assign_input)
    run.exit(output, assigned)
    return state.next, output


async def run_succeed(run: StateRun) -> tuple[str | None, Any]:
    state, data = run.state, run.data
    if state.query_language == "JSONata":
        with run.evaluating:
            bindings = jsonata_bindings(data, run.ctx, run.frame.view)
            output = state.output.evaluate(bindings) if state.output is not None else data
    else:
        selected = apply_path(state.input_path, data, run.ctx, run.frame.view)
        output = apply_path(state.output_path, selected, run.ctx, run.frame.view)
    run.exit(output)
    return None, output


async def run_fail(run: StateRun) -> tuple[str | None, Any]:
    state = run.state
    assert isinstance(state, FailState)
    error, cause = state.error, state.cause
    if state.query_language == "JSONata":
        bindings = jsonata_bindings(run.data, run.ctx, run.frame.view)
        with run.evaluating:
            if error is not None and not isinstance(error, str):
                error = error.evaluate(bindings)
            if cause is not None and not isinstance(cause, str):
                cause = cause.evaluate(bindings)
    else:
        if state.error_is_path:
            error = _fail_field(run, error, "ErrorPath")
        if state.cause_is_path:
            cause = _fail_field(run, cause, "CausePath")
    raise FailStateReached(error, cause)


def _fail_field(run: StateRun, compiled: Any, field: str) -> Any:
    from asl.paths import PathNotFound

    try:
        return compiled.evaluate(run.data, run.ctx, run.frame.view)
    except PathNotFound as exc:
        raise StatesError(
            "States.Runtime",
            f"The JSONPath '{exc.path}' specified for the field '{field}' could not be found "
            f"in the input '{_dumps(run.data)}'",
        ) from exc


def _dumps(value: Any) -> str:
    from runtime.events import dumps

    return dumps(value)


async def run_choice(run: StateRun) -> tuple[str | None, Any]:
    state = run.state
    assert isinstance(state, ChoiceState)
    data, ctx, variables = run.data, run.ctx, run.frame.view
    if state.query_language == "JSONata":
        return _choice_jsonata(run, state)
    effective = apply_path(state.input_path, data, ctx, variables)
    from asl.paths import PathNotFound

    for rule in state.choices:
        try:
            matched = rule.condition.evaluate(effective, ctx, variables)
        except PathNotFound as exc:
            raise StatesError(
                "States.Runtime", f"Invalid path '{exc.path}' : {exc.detail}"
            ) from exc
        if matched:
            output = apply_path(state.output_path, effective, ctx, variables)
            assigned = run.assign(effective, rule.assign) if rule.assign is not None else (None)
            run.exit(output, assigned)
            return rule.next, output
    return _choice_default(
        run, state, apply_path(state.output_path, effective, ctx, variables), effective
    )


def _choice_jsonata(run: StateRun, state: ChoiceState) -> tuple[str | None, Any]:
    bindings = jsonata_bindings(run.data, run.ctx, run.frame.view)
    with run.evaluating:
        for rule in state.choices:
            cond = rule.condition
            value = cond if isinstance(cond, bool) else cond.evaluate(bindings)
            if not isinstance(value, bool):
                raise StatesError(
                    "States.QueryEvaluationError",
                    "The Condition field evaluated to a non-boolean value.",
                )
            if value:
                output = rule.output.evaluate(bindings) if rule.output is not None else run.data
                assigned = run.assign(bindings, rule.assign) if rule.assign is not None else None
                run.exit(output, assigned)
                return rule.next, output
        output = state.output.evaluate(bindings) if state.output is not None else run.data
    return _choice_default(run, state, output, bindings)


def _choice_default(
    run: StateRun, state: ChoiceState, output: Any, assign_input: Any
) -> tuple[str | None, Any]:
    if state.default is None:
        raise StatesError(
            "States.NoChoiceMatched",
            "No Choice rule matched and there is no Default rule.",
        )
    assigned = run.assign(assign_input)
    run.exit(output, assigned)
    return state.default, output


async def run_wait(run: StateRun) -> tuple[str | None, Any]:
    state = run.state
    assert isinstance(state, WaitState)
    data, ctx, variables = run.data, run.ctx, run.frame.view
    bindings = None
    if state.query_language == "JSONata":
        bindings = jsonata_bindings(data, ctx, variables)
        with run.evaluating:
            deadline = wait_deadline(state, data, ctx, variables, bindings, run.entered_at)
    else:
        effective = apply_path(state.input_path, data, ctx, variables)
        deadline = wait_deadline(state, effective, ctx, variables, None, run.entered_at)
    await run.exe.sleep_until(run.frame, deadline)
    if bindings is not None:
        with run.evaluating:
            output = state.output.evaluate(bindings) if state.output is not None else data
            assigned = run.assign(bindings)
    else:
        output = apply_path(state.output_path, effective, ctx, variables)
        assigned = run.assign(effective)
    run.exit(output, assigned)
    return state.next, output


def _handlers() -> dict[str, Handler]:
    from runtime.fanout import run_map, run_parallel
    from runtime.task import run_task

    return {
        "Pass": run_pass,
        "Succeed": run_succeed,
        "Fail": run_fail,
        "Choice": run_choice,
        "Wait": run_wait,
        "Task": run_task,
        "Parallel": run_parallel,
        "Map": run_map,
    }


#: Handlers by state Type, filled on first use (the Task/Parallel/Map modules import this one).
HANDLERS: dict[str, Handler] = {}


def _handler(kind: str) -> Handler:
    """The handler of a state type, loading the table the first time."""
    if not HANDLERS:
        HANDLERS.update(_handlers())
    return HANDLERS[kind]
