"""The library API: run a state machine in one call, from async code or sync tests.

>>> from runtime import run_sync
>>> result = run_sync({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
...                   {"x": 1})
>>> result.status, result.output
('SUCCEEDED', {'x': 1})
"""

from __future__ import annotations

import functools
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from asl.model import StateMachine
from runtime.adapters.base import Adapter, AdapterRegistry, FunctionAdapter
from runtime.clock import Clock, VirtualClock
from runtime.events import HistoryEvent
from runtime.execution import Execution, ExecutionOptions, Observer
from runtime.interpreter import run_execution

__all__ = ["ExecutionResult", "load_machine", "run", "run_sync"]

Definition = Mapping[str, Any] | str | Path | StateMachine


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """The outcome of one execution."""

    #: SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    status: str
    #: The execution output (SUCCEEDED only).
    output: Any
    #: ASL error name and cause (FAILED, TIMED_OUT).
    error: str | None
    cause: str | None
    name: str
    arn: str
    start_time: float
    stop_time: float
    #: States entered, nested ones included.
    transitions: int
    history: tuple[HistoryEvent, ...] = field(repr=False)

    @property
    def succeeded(self) -> bool:
        """True when the status is SUCCEEDED."""
        return self.status == "SUCCEEDED"

    @property
    def event_types(self) -> list[str]:
        """The history's event types, in order."""
        return [event.type for event in self.history]

    def history_json(self) -> list[dict[str, Any]]:
        """The history as ``GetExecutionHistory`` returns its ``events``."""
        return [event.to_aws() for event in self.history]


def load_machine(definition: Definition) -> StateMachine:
    """Validate and compile a definition given as a dict, JSON/YAML text or a file path.

    Raises :class:`asl.errors.DefinitionError` (every problem found) or
    :class:`asl.errors.SourceError` (unreadable text).
    """
    if isinstance(definition, StateMachine):
        return definition
    from asl import compile_definition
    from asl.source import load_definition, load_file

    if isinstance(definition, Path):
        definition = load_file(definition).value
    elif isinstance(definition, str):
        definition = load_definition(definition).value
    return compile_definition(definition)


def _registry(
    adapters: AdapterRegistry | None,
    functions: Mapping[str, Callable[[Any], Any]] | None,
    mocks: Adapter | None,
    mocked_states: Iterable[str],
) -> AdapterRegistry:
    registry = adapters or AdapterRegistry()
    for name, fn in (functions or {}).items():
        # A function name matches the legacy ARN form and lambda:invoke's FunctionName.
        registry.register(rf"(^|:){name}(:|$)", FunctionAdapter(fn))
    if mocks is not None:
        for state in mocked_states:
            registry.register_state(state, mocks)
    return registry


async def run(
    definition: Definition,
    input: Any = None,
    *,
    clock: Clock | None = None,
    adapters: AdapterRegistry | None = None,
    functions: Mapping[str, Callable[[Any], Any] | Callable[[Any], Awaitable[Any]]] | None = None,
    mocks: Any = None,
    name: str = "",
    state_machine_name: str = "StateMachine",
    observers: Iterable[Observer] = (),
    seed: int | None = None,
) -> ExecutionResult:
    """Run one execution to its end and return its result.

    ``input`` defaults to ``{}``. ``clock`` defaults to a :class:`VirtualClock`, so Waits and
    retry delays take no wall time. ``functions`` maps a resource name (e.g. a Lambda
    function name) to a Python callable that receives the task's effective input;
    ``mocks`` is a :class:`runtime.adapters.mock_config.MockedTasks` (one MockConfigFile
    test case). Cancelling the calling task cancels the execution.
    """
    machine = load_machine(definition)
    mocked = mocks.states() if mocks is not None else ()
    registry = _registry(adapters, functions, mocks, mocked)
    exe = Execution(
        machine,
        {} if input is None else input,
        clock or VirtualClock(),
        registry,
        ExecutionOptions(name=name, state_machine_name=state_machine_name, seed=seed),
        tuple(observers),
    )
    if seed is None:
        await run_execution(exe)
    else:
        # Seeded runs also repeat unseeded States.MathRandom/States.UUID values. The hook is
        # process-wide: seeded executions running side by side share one sequence.
        from asl.intrinsics import use_random

        previous = use_random(random.Random(seed))
        try:
            await run_execution(exe)
        finally:
            use_random(previous)
    return ExecutionResult(
        status=exe.status,
        output=exe.output,
        error=exe.error,
        cause=exe.cause,
        name=exe.name,
        arn=exe.arn,
        start_time=exe.start_time,
        stop_time=exe.stop_time if exe.stop_time is not None else exe.start_time,
        transitions=exe.transitions,
        history=tuple(exe.history),
    )


def run_sync(definition: Definition, input: Any = None, **options: Any) -> ExecutionResult:
    """:func:`run` for synchronous code: starts an event loop, runs, returns the result."""
    return anyio.run(functools.partial(run, definition, input, **options))
