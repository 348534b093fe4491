"""Retry and Catch around one state execution (Task, Parallel, Map).

SPEC §Retrying after an error: retriers are scanned in order and the first whose
ErrorEquals matches handles the error; each retrier keeps its own attempt counter for the
whole state execution. When no retrier applies (or it is exhausted) the catchers are
scanned; a matching catcher sends the raw input, with the Error Output at its ResultPath
(JSONPath) or its Output (JSONata), to its Next state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio

from asl.errors import StatesError
from asl.model import Catcher
from runtime.engine.dataflow import apply_result_path, jsonata_bindings
from runtime.engine.errors import HeartbeatTimeout, TaskFailure, state_error
from runtime.engine.retry import backoff_delay, find_catcher, find_retrier

if TYPE_CHECKING:
    from runtime.engine.scope import StateRun

__all__ = ["Attempt", "error_output", "with_recovery"]

#: One attempt of the state's work: takes the retry count, returns (next, output).
Attempt = Callable[[int], Awaitable[tuple[str | None, Any]]]


def error_output(exc: StatesError) -> dict[str, Any]:
    """The Error Output object a catcher receives."""
    out: dict[str, Any] = {"Error": exc.error}
    if exc.cause is not None:
        out["Cause"] = exc.cause
    return out


async def with_recovery(
    run: StateRun, attempt: Attempt, failed_event: str | None = None
) -> tuple[str | None, Any]:
    """Run ``attempt`` under the state's Retry and Catch.

    ``failed_event`` (``MapStateFailed``, ``ParallelStateFailed``) is written once the
    state has failed for good, before a catcher runs; AWS writes none between retries.
    """
    state = run.state
    retriers = getattr(state, "retry", ())
    catchers = getattr(state, "catch", ())
    counters = [0] * len(retriers)
    retry_count = 0
    while True:
        try:
            return await attempt(retry_count)
        except StatesError as exc:
            # A service may report States.DataLimitExceeded for its result; that one is
            # catchable (recorded: states_errors.task_lambda_catch_state_all_data_limit_...).
            if exc.terminal and not isinstance(exc, TaskFailure):
                raise
            heartbeat = isinstance(exc, HeartbeatTimeout)
            index = find_retrier(retriers, exc.error, heartbeat)
            if index is not None and counters[index] < retriers[index].max_attempts:
                delay = backoff_delay(retriers[index], counters[index], run.exe.rng)
                counters[index] += 1
                retry_count += 1
                # From the failure's time: a resumed execution keeps its original deadline.
                await run.exe.sleep_until(run.frame, run.frame.prev_time + delay)
                continue
            if failed_event is not None:
                run.emit(failed_event)
            catch_index = find_catcher(catchers, exc.error, heartbeat)
            if catch_index is None:
                raise
            return _caught(run, catchers[catch_index], state_error(exc, state.name, run.entered_id))


def _caught(run: StateRun, catcher: Catcher, exc: StatesError) -> tuple[str | None, Any]:
    err = error_output(exc)
    if run.state.query_language == "JSONata":
        bindings = jsonata_bindings(run.data, run.ctx, run.frame.view, errorOutput=err)
        with run.evaluating:
            output = catcher.output.evaluate(bindings) if catcher.output is not None else err
        assigned = run.assign(bindings, catcher.assign) if catcher.assign is not None else None
    else:
        output = apply_result_path(catcher.result_path, run.data, err)
        assigned = run.assign(err, catcher.assign) if catcher.assign is not None else None
    run.exit(output, assigned)
    return catcher.next, output


async def sleep_checkpoint() -> None:
    """Let other tasks run (used between Map iterations that never block)."""
    await anyio.lowlevel.checkpoint()
