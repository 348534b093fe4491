"""Parallel and Map: one anyio task group per state execution.

The first failing branch (or the iteration that breaks the failure tolerance) cancels its
siblings; their running states write ``<Type>StateAborted`` as AWS does. A failing
Parallel or Map state fails with the branch's or iteration's own error (LS-SNAP
``test_parallel_state_fail``), or ``States.ExceedToleratedFailureThreshold`` when a
tolerance was set and exceeded.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from asl.errors import StatesError
from asl.model import Branch, MapState, ParallelState
from runtime.distributed.maprun import MapRun, uses_map_run
from runtime.engine.dataflow import apply_path, effective_input, jsonata_bindings, state_output
from runtime.engine.errors import MapRunFailure
from runtime.engine.events import dumps
from runtime.engine.execution import Frame
from runtime.engine.fields import number_field
from runtime.engine.recovery import with_recovery
from runtime.engine.scope import StateRun, run_branch

__all__ = ["run_map", "run_parallel"]


async def run_parallel(run: StateRun) -> tuple[str | None, Any]:
    """Handler of Parallel states."""
    return await with_recovery(run, lambda n: _parallel_attempt(run, n), "ParallelStateFailed")


async def _parallel_attempt(run: StateRun, retry_count: int) -> tuple[str | None, Any]:
    state = run.state
    assert isinstance(state, ParallelState)
    with run.evaluating:
        effective = effective_input(state, run.data, run.ctx, run.frame.view, run.stages)
    started = run.emit("ParallelStateStarted")
    results: list[Any] = [None] * len(state.branches)
    jobs = [
        (run.frame.child(started, f"[{i}]"), branch, lambda: effective, i)
        for i, branch in enumerate(state.branches)
    ]
    failure = await _fan_out(run, jobs, results, limit=0)
    if failure is not None:
        raise failure
    run.emit("ParallelStateSucceeded")
    return _finish(run, state, results)


def _finish(run: StateRun, state: Any, results: Any) -> tuple[str | None, Any]:
    with run.evaluating:
        output, assign_input = state_output(
            state, run.data, results, run.ctx, run.frame.view, run.stages
        )
        assigned = run.assign(assign_input)
    run.exit(output, assigned)
    return state.next, output


class Hooks:
    """What a fan-out writes around each job; Parallel branches write nothing."""

    def started(self, index: int, frame: Frame) -> None:
        return None

    def succeeded(self, index: int, frame: Frame) -> None:
        return None

    def failed(self, index: int, frame: Frame, exc: StatesError) -> bool:
        """Record a failed job; True when the failure is tolerated."""
        return False

    def aborted(self, index: int, frame: Frame) -> None:
        return None


async def _fan_out(
    run: StateRun,
    jobs: Sequence[tuple[Frame, Branch, Callable[[], Any], int]],
    results: list[Any],
    limit: int,
    hooks: Hooks | None = None,
) -> StatesError | None:
    """Run each job's branch; return the error that failed the group, if any."""

    exe = run.exe
    clock = exe.clock
    hooks = hooks or Hooks()
    failure: StatesError | None = None
    remaining = len(jobs)
    if not remaining:
        return None
    if limit == 1 or remaining == 1 or not any(job[1].may_block for job in jobs):
        return await _in_order(run, jobs, results, hooks)
    limiter = anyio.CapacityLimiter(limit) if limit > 0 else None
    cancelled = anyio.get_cancelled_exc_class()

    async def one(frame: Frame, branch: Branch, data: Callable[[], Any], index: int) -> None:
        nonlocal failure, remaining
        try:
            if limiter is not None:
                await limiter.acquire()
            try:
                if failure is not None:
                    return
                hooks.started(index, frame)
                results[index] = await run_branch(exe, branch, data(), frame)
                hooks.succeeded(index, frame)
            except StatesError as exc:
                if hooks.failed(index, frame, exc):
                    return
                if failure is None:
                    failure = exc
                    group.cancel_scope.cancel()
            except cancelled:
                hooks.aborted(index, frame)
                raise
            finally:
                if limiter is not None:
                    limiter.release()
        finally:
            remaining -= 1
            if not remaining:
                clock.join()  # the waiting parent is runnable again
            if remaining < tokens:
                clock.leave()
            # else: a job still waits for the limiter; this job's place passes to it.

    # The parent hands its clock participation to the jobs that can run at once while it
    # waits on them; they are counted before they are scheduled, so virtual time cannot
    # jump meanwhile. A job waiting for MaxConcurrency's limiter is not counted: it waits
    # on its siblings, not on the clock, and takes over the place of one that ends.
    tokens = min(limit, remaining) if limit > 0 else remaining
    for _ in range(tokens):
        clock.join()
    clock.leave()
    async with anyio.create_task_group() as group:
        for frame, branch, data, index in jobs:
            group.start_soon(one, frame, branch, data, index)
    exe.flush_aborts()  # the siblings a failure cancelled, now marked aborted
    return failure


async def _in_order(
    run: StateRun,
    jobs: Sequence[tuple[Frame, Branch, Callable[[], Any], int]],
    results: list[Any],
    hooks: Hooks,
) -> StatesError | None:
    """Run jobs one after the other in this task.

    Equivalent to the task group when at most one job may run at a time (MaxConcurrency
    1, a single branch) or when no job can block: each would then run to its end before
    the next one started anyway. It saves a task per iteration.
    """

    exe = run.exe
    cancelled = exe.cancelled
    for frame, branch, data, index in jobs:
        try:
            hooks.started(index, frame)
            results[index] = await run_branch(exe, branch, data(), frame)
            hooks.succeeded(index, frame)
        except StatesError as exc:
            if not hooks.failed(index, frame, exc):
                return exc
        except cancelled:
            hooks.aborted(index, frame)
            raise
    return None


# -- Map -----------------------------------------------------------------------------


async def run_map(run: StateRun) -> tuple[str | None, Any]:
    """Handler of Map states."""
    return await with_recovery(run, lambda n: _map_attempt(run, n), "MapStateFailed")


def _items(run: StateRun, state: MapState, effective: Any) -> list[Any]:
    if state.query_language == "JSONata":
        if state.items is None:
            items = run.data
        elif isinstance(state.items, list):
            items = state.items
        else:
            with run.evaluating:
                items = state.items.evaluate(jsonata_bindings(run.data, run.ctx, run.frame.view))
                _check_items_type(state.items, items)
        if not isinstance(items, list):
            with run.evaluating:
                raise StatesError(
                    "States.QueryEvaluationError",
                    f"Map state input must be an array but was: {dumps(items)}",
                )
        return items
    items = apply_path(state.items_path, effective, run.ctx, run.frame.view)
    if not isinstance(items, list):
        raise StatesError(
            "States.Runtime",
            f"Map state input must be an array but was: {dumps(items)}",
        )
    return items


def _check_items_type(expr: Any, items: Any) -> None:
    if isinstance(items, list):
        return
    from asl.jsonata import type_name

    text = getattr(expr, "text", "")
    raise StatesError(
        "States.QueryEvaluationError",
        f"The JSONata expression '{text}' specified for the field 'Items' returned an "
        f"unexpected result type. Expected 'array', but was '{type_name(items)}' for value: "
        f"{dumps(items)}",
    )


def _tolerance(run: StateRun, state: MapState) -> tuple[float | None, float | None]:
    count = number_field(run, state.tolerated_failure_count, "ToleratedFailureCount", integer=True)
    pct = number_field(
        run, state.tolerated_failure_percentage, "ToleratedFailurePercentage", integer=False
    )
    if pct is not None and not 0 <= pct <= 100:
        raise StatesError("States.Runtime", "ToleratedFailurePercentage must be between 0 and 100.")
    if count is not None and count < 0:
        raise StatesError("States.Runtime", "ToleratedFailureCount cannot be negative.")
    return count, pct


def _select(run: StateRun, state: MapState, effective: Any, index: int, item: Any) -> Any:
    selector = state.item_selector
    if selector is None:
        return item
    ctx = dict(run.ctx)
    ctx["Map"] = {"Item": {"Index": index, "Value": item}}
    if state.query_language == "JSONata":
        with run.evaluating:
            return selector.evaluate(jsonata_bindings(run.data, ctx, run.frame.view))
    return selector.evaluate(effective, ctx, run.frame.view)


async def _map_attempt(run: StateRun, retry_count: int) -> tuple[str | None, Any]:
    state = run.state
    assert isinstance(state, MapState)
    effective = apply_path(state.input_path, run.data, run.ctx, run.frame.view)
    if uses_map_run(state):
        map_run = MapRun(
            run,
            effective,
            _map_run_arn(run),
            functools.partial(_select, run, state, effective),
            lambda: _items(run, state, effective),
            lambda: _tolerance(run, state),
        )
        return _finish(run, state, await map_run.run())
    items = _items(run, state, effective)
    limit = number_field(run, state.max_concurrency, "MaxConcurrency", integer=True)
    started = run.emit("MapStateStarted", {"length": len(items)})
    count, pct = _tolerance(run, state)
    results: list[Any] = [None] * len(items)
    hooks = _MapHooks(run, state, len(items), count, pct)
    jobs = [
        (
            run.frame.child(started, f"[{index}]"),
            state.processor,
            functools.partial(_select, run, state, effective, index, item),
            index,
        )
        for index, item in enumerate(items)
    ]
    failure = await _fan_out(run, jobs, results, int(limit or 0), hooks)
    if failure is not None:
        if hooks.tolerant:
            failure = MapRunFailure(
                "States.ExceedToleratedFailureThreshold",
                "The specified tolerated failure threshold was exceeded",
            )
        raise failure
    run.emit("MapStateSucceeded")
    return _finish(run, state, results)


class _MapHooks(Hooks):
    """Inline Map iterations write MapIteration* events and count failures."""

    def __init__(
        self,
        run: StateRun,
        state: MapState,
        total: int,
        count: float | None,
        pct: float | None,
    ) -> None:
        self.exe = run.exe
        self.name = state.name
        self.total = total
        self.count = count
        self.pct = pct
        self.tolerant = count is not None or pct is not None
        self.failures = 0

    def _emit(self, kind: str, index: int, frame: Frame) -> None:
        self.exe.emit(frame, "MapIteration" + kind, {"name": self.name, "index": index})

    def started(self, index: int, frame: Frame) -> None:
        self._emit("Started", index, frame)

    def succeeded(self, index: int, frame: Frame) -> None:
        self._emit("Succeeded", index, frame)

    def aborted(self, index: int, frame: Frame) -> None:
        self.exe.defer_abort(frame, "MapIterationAborted", {"name": self.name, "index": index})

    def failed(self, index: int, frame: Frame, exc: StatesError) -> bool:
        self.failures += 1
        self._emit("Failed", index, frame)
        if not self.tolerant:
            return False
        over_count = self.count is not None and self.failures > self.count
        over_pct = self.pct is not None and 100.0 * self.failures / self.total > self.pct
        return not (over_count or over_pct)


def _map_run_arn(run: StateRun) -> str:
    """``arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/LABEL:ID`` (DG: state-map-distributed,
    ``Label``); the id is derived from the execution and the state visit, so a resumed or
    redriven execution finds the same Map Run."""
    exe = run.exe
    label = getattr(run.state, "label", None) or run.state.name
    visit = f"{exe.arn}#{run.frame.label}#{run.entered_id}"
    return (
        f"arn:aws:states:{exe.options.region}:{exe.options.account}:mapRun:"
        f"{exe.options.state_machine_name}/{label}:{uuid.uuid5(uuid.NAMESPACE_URL, visit)}"
    )
