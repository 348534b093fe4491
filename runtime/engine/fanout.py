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
from collections.abc import Callable, Iterable
from typing import Any

import anyio

from asl.errors import StatesError
from asl.model import DEFAULT, Branch, MapState, ParallelState, thaw
from runtime.engine.dataflow import apply_path, effective_input, jsonata_bindings, state_output
from runtime.engine.errors import MapRunFailure, check_payload, measured_size
from runtime.engine.events import dumps
from runtime.engine.execution import Frame
from runtime.engine.fields import number_field
from runtime.engine.recovery import with_recovery
from runtime.engine.scope import StateRun, run_branch

__all__ = ["run_map", "run_parallel"]

#: One branch or iteration to run: its frame, its branch, its input and the input's size
#: in bytes of JSON or a bound on it (-1: unknown), built when it starts, and its index
#: in the results.
Job = tuple[Frame, Branch, Callable[[], tuple[Any, int]], int]


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
    sized = (effective, run.size if effective is run.data else measured_size(effective))
    jobs = [
        (run.frame.child(started, f"[{i}]"), branch, lambda: sized, i)
        for i, branch in enumerate(state.branches)
    ]
    failure = await _fan_out(
        run,
        jobs,
        results,
        limit=0,
        count=len(jobs),
        may_block=any(branch.may_block for branch in state.branches),
    )
    if failure is not None:
        raise failure
    run.emit("ParallelStateSucceeded")
    return _finish(run, state, results)


def _finish(run: StateRun, state: Any, results: Any) -> tuple[str | None, Any]:
    # The gathered results are the state's result: over 256 KiB the execution fails,
    # whatever ResultSelector or ResultPath would keep of them (terminal, like AWS).
    check_payload(results, state.name)
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
    jobs: Iterable[Job],
    results: list[Any],
    limit: int,
    hooks: Hooks | None = None,
    *,
    count: int,
    may_block: bool,
) -> StatesError | None:
    """Run each job's branch; return the error that failed the group, if any.

    ``jobs`` is consumed lazily: a job (its frame, its input) is built when a worker takes
    it, so a Map over a million items holds only the iterations running at once, and the
    history quota can end it long before the last item is looked at.
    """

    exe = run.exe
    clock = exe.clock
    hooks = hooks or Hooks()
    failure: StatesError | None = None
    if not count:
        return None
    if limit == 1 or count == 1 or not may_block:
        return await _in_order(run, jobs, results, hooks)
    cancelled = anyio.get_cancelled_exc_class()
    pending = iter(jobs)
    width = min(limit, count) if limit > 0 else count
    workers = width

    async def one(
        frame: Frame, branch: Branch, data: Callable[[], tuple[Any, int]], index: int
    ) -> None:
        nonlocal failure
        try:
            hooks.started(index, frame)
            value, size = data()
            results[index] = await run_branch(exe, branch, value, frame, size)
            hooks.succeeded(index, frame)
        except StatesError as exc:
            # Recording the failure writes an event, which may itself break the history
            # quota: that error then fails the group, never escapes the task group.
            try:
                tolerated = hooks.failed(index, frame, exc)
            except StatesError as quota:
                exc, tolerated = quota, False
            if not tolerated and failure is None:
                failure = exc
                group.cancel_scope.cancel()
        except cancelled:
            hooks.aborted(index, frame)
            raise

    async def worker() -> None:
        nonlocal workers
        try:
            while failure is None and (job := next(pending, None)) is not None:
                await one(*job)
        finally:
            workers -= 1
            if not workers:
                clock.join()  # the waiting parent is runnable again
            clock.leave()

    # The parent hands its clock participation to the workers while it waits on them;
    # they are counted before they are scheduled, so virtual time cannot jump meanwhile.
    # MaxConcurrency is the number of workers; each takes the next job when it is free.
    for _ in range(width):
        clock.join()
    clock.leave()
    async with anyio.create_task_group() as group:
        for started in range(1, width + 1):
            group.start_soon(worker)
            if not started & 63:
                # Let the workers already scheduled run: a failure (or the history
                # quota) then stops the fan-out before every worker exists.
                await anyio.lowlevel.checkpoint()
                if failure is not None:
                    break
    exe.flush_aborts()  # the siblings a failure cancelled, now marked aborted
    return failure


async def _in_order(
    run: StateRun,
    jobs: Iterable[Job],
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
            value, size = data()
            results[index] = await run_branch(exe, branch, value, frame, size)
            hooks.succeeded(index, frame)
        except StatesError as exc:
            try:
                if not hooks.failed(index, frame, exc):
                    return exc
            except StatesError as quota:
                return quota
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
            items = thaw(state.items)  # the model's copy is read-only; data stays plain
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
            selected = selector.evaluate(jsonata_bindings(run.data, ctx, run.frame.view))
    else:
        selected = selector.evaluate(effective, ctx, run.frame.view)
    check_payload(selected, state.name)  # an iteration's input: 256 KiB at most
    return selected


def _sized_item(
    run: StateRun, state: MapState, effective: Any, bound: int, index: int, item: Any
) -> tuple[Any, int]:
    """An inline iteration's input and its size, or a bound on it (-1: unknown)."""
    if state.item_selector is None:
        return item, bound
    selected = _select(run, state, effective, index, item)
    return selected, measured_size(selected)


def _item_bound(run: StateRun, state: MapState) -> int:
    """A bound on the size of each item: the state input's size when the items are part
    of it (reached by ``$`` paths that select one node each), else -1."""
    if run.size < 0 or state.query_language == "JSONata":
        return -1
    for path in (state.input_path, state.items_path):
        if path is DEFAULT:
            continue
        if not getattr(path, "is_reference", False) or getattr(path, "root", "") != "input":
            return -1
    return run.size


async def _map_attempt(run: StateRun, retry_count: int) -> tuple[str | None, Any]:
    state = run.state
    assert isinstance(state, MapState)
    effective = apply_path(state.input_path, run.data, run.ctx, run.frame.view)
    if state.processor.mode == "DISTRIBUTED":  # as runtime.distributed.maprun.uses_map_run
        # Imported here: an execution without a Distributed Map never loads its modules.
        from runtime.distributed.maprun import MapRun

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
    bound = _item_bound(run, state)
    jobs = (
        (
            _iteration_frame(run, started, index),
            state.processor,
            functools.partial(_sized_item, run, state, effective, bound, index, item),
            index,
        )
        for index, item in enumerate(items)
    )
    failure = await _fan_out(
        run,
        jobs,
        results,
        int(limit or 0),
        hooks,
        count=len(items),
        may_block=state.processor.may_block,
    )
    if failure is not None:
        if hooks.tolerant:
            failure = MapRunFailure(
                "States.ExceedToleratedFailureThreshold",
                "The specified tolerated failure threshold was exceeded",
            )
        raise failure
    run.emit("MapStateSucceeded")
    return _finish(run, state, results)


def _iteration_frame(run: StateRun, started: int, index: int) -> Frame:
    """An inline Map iteration's frame, built when the iteration is about to run."""
    return run.frame.child(started, f"[{index}]")


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
    ``Label``; without one, the label AWS generates: :func:`~runtime.distributed.runs.
    default_label`); the id is derived from the execution and the state visit, so a resumed
    or redriven execution finds the same Map Run."""
    from runtime.distributed.runs import default_label

    exe = run.exe
    label = getattr(run.state, "label", None) or default_label(run.state.name)
    visit = f"{exe.arn}#{run.frame.label}#{run.entered_id}"
    return (
        f"arn:aws:states:{exe.options.region}:{exe.options.account}:mapRun:"
        f"{exe.options.state_machine_name}/{label}:{uuid.uuid5(uuid.NAMESPACE_URL, visit)}"
    )
