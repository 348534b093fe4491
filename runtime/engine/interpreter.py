"""Running one execution: the handler table by state type and :func:`run_execution`.

Each handler takes a :class:`~runtime.engine.scope.StateRun` and returns ``(next state
name or None, output)``. Errors are :class:`~asl.errors.StatesError`; those the engine
itself raises get AWS's "An error occurred while executing the state ..." prefix at the
scope loop (:func:`runtime.engine.scope.run_branch`).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import anyio

from asl.errors import StatesError
from asl.model import Branch, StateMachine
from runtime.adapters.base import AdapterRegistry
from runtime.callbacks.tokens import TokenSigner
from runtime.engine.clock import Clock
from runtime.engine.errors import ExecutionTimedOut
from runtime.engine.execution import Execution, ExecutionOptions, Frame
from runtime.engine.fanout import run_map, run_parallel
from runtime.engine.scope import Handler, Outcome, StateRun, run_branch
from runtime.engine.states import (
    STEPS,
    run_choice,
    run_fail,
    run_pass,
    run_succeed,
    run_wait,
)
from runtime.engine.task import run_task

__all__ = ["HANDLERS", "ONE_YEAR_SECONDS", "ChildResult", "run_child", "run_execution"]

#: A year of 365 days: AWS's maximum duration of a Standard execution (DG quotas).
ONE_YEAR_SECONDS = 365 * 24 * 3600

#: The handler of each state type; the execution carries it to every scope loop.
HANDLERS: dict[str, Handler] = {
    "Pass": run_pass,
    "Succeed": run_succeed,
    "Fail": run_fail,
    "Choice": run_choice,
    "Wait": run_wait,
    "Task": run_task,
    "Parallel": run_parallel,
    "Map": run_map,
}


async def run_execution(exe: Execution) -> None:
    """Run ``exe`` to its end; the outcome is in ``exe.status`` and friends."""
    root = Frame()
    exe.cancelled = anyio.get_cancelled_exc_class()
    options = exe.options
    exe.handlers = HANDLERS if options.stop_after is None else _stopping(exe, root)
    # Steps skip the StateRun that inspection (stages) and a partial run's stop need.
    exe.steps = STEPS if options.stop_after is None and not exe.inspect else None
    exe.run_child = functools.partial(run_child, tokens=options.tokens)
    if exe.options.redrive_count and exe.replay is not None:
        # RedriveExecution: the history goes on after its closing event.
        redriven = Frame(prev=exe.replay.last_id)
        exe.emit(redriven, "ExecutionRedriven", {"redriveCount": exe.options.redrive_count})
    # AWS's ExecutionStarted is dated at the execution's startDate, also for one that
    # waited in a queue (``asl start`` before ``asl serve`` took it).
    exe.emit(
        root,
        "ExecutionStarted",
        {"input": exe.input, "roleArn": exe.role_arn},
        at=None if exe.options.redrive_count else exe.start_time,
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
                if options.variables:
                    root.assign(options.variables)
                output = await run_branch(exe, _root(exe), exe.input, root, exe.input_size)
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


def _root(exe: Execution) -> Branch:
    """The top-level scope, from ``options.start_at`` in a partial run."""
    start = exe.options.start_at
    return exe.machine.root if start is None else Branch(start, exe.machine.states)


def _stopping(exe: Execution, root: Frame) -> dict[str, Handler]:
    """The handler table of a partial run: the execution ends after ``stop_after``.

    Only the handler of that state's type is wrapped, so other transitions pay nothing.
    """
    stop = exe.options.stop_after
    state = exe.machine.states.get(stop or "")
    if state is None:
        return HANDLERS
    kind = state.type
    inner = HANDLERS[kind]

    def stopped(run: StateRun, outcome: tuple[str | None, Any]) -> tuple[str | None, Any]:
        if run.frame is root and run.state.name == stop:
            return None, outcome[1]
        return outcome

    async def waited(run: StateRun, pending: Awaitable[tuple[str | None, Any]]) -> Outcome:
        return stopped(run, await pending)

    def stopping(run: StateRun) -> Outcome | Awaitable[Outcome]:
        outcome = inner(run)
        if type(outcome) is tuple:
            return stopped(run, outcome)
        return waited(run, outcome)  # type: ignore[arg-type]

    return {**HANDLERS, kind: stopping}


def _fail(exe: Execution, frame: Frame, exc: StatesError) -> None:
    details: dict[str, Any] = {"error": exc.error}
    if exc.cause is not None:
        details["cause"] = exc.cause
    exe.emit(frame, "ExecutionFailed", details)
    exe.finish("FAILED", error=exc.error, cause=exc.cause)


@dataclass(frozen=True, slots=True)
class ChildResult:
    """How a child execution started by a task ended."""

    status: str
    output: Any
    error: str | None
    cause: str | None
    stop_time: float


async def run_child(
    machine: StateMachine,
    input: Any,
    *,
    clock: Clock,
    adapters: AdapterRegistry,
    name: str,
    state_machine_name: str,
    tokens: TokenSigner | None = None,
) -> ChildResult:
    """Run a child execution to its end (the engine's
    :class:`~runtime.adapters.base.ChildRunner`, given to every task it calls); its
    task tokens are signed by ``tokens``, the parent's signer."""
    exe = Execution(
        machine,
        input,
        clock,
        adapters,
        ExecutionOptions(name=name, state_machine_name=state_machine_name, tokens=tokens),
    )
    await run_execution(exe)
    stop = exe.stop_time if exe.stop_time is not None else exe.start_time
    return ChildResult(exe.status, exe.output, exe.error, exe.cause, stop)
