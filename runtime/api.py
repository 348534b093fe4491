"""The library API: run a state machine in one call, from async code or sync tests.

>>> from runtime import run_sync
>>> result = run_sync({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
...                   {"x": 1})
>>> result.status, result.output
('SUCCEEDED', {'x': 1})
"""

from __future__ import annotations

import functools
import inspect
import operator
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from asl.model import StateMachine
from runtime.adapters import Services
from runtime.adapters.base import Adapter, AdapterRegistry, own_copy
from runtime.callbacks.registry import valid_name
from runtime.engine.clock import Clock, VirtualClock
from runtime.engine.errors import input_limit_problem, payload_bytes
from runtime.engine.events import HistoryEvent
from runtime.engine.execution import Execution, ExecutionOptions, Observer
from runtime.engine.interpreter import run_execution
from runtime.engine.replay import Replay

__all__ = ["ExecutionResult", "load_machine", "partial_run_problems", "run", "run_sync"]

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
    #: Each Distributed Map run, as DescribeMapRun shows it (counters, dates as epoch s).
    map_runs: tuple[dict[str, Any], ...] = field(default=(), repr=False)

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
    """Validate and compile a definition given as a dict, JSON/YAML text or a file path
    (a template with one state machine too; see :func:`asl.templates.read_definition`).

    Raises :class:`asl.errors.DefinitionError` (every problem found) or
    :class:`asl.errors.SourceError` (unreadable text).
    """
    if isinstance(definition, StateMachine):
        return definition
    from asl import compile_definition
    from asl.source import load_definition
    from asl.templates import read_definition

    if isinstance(definition, Path):  # a definition, or a template holding only one
        definition = read_definition(definition).document.value
    elif isinstance(definition, str):
        definition = load_definition(definition).value
    return compile_definition(definition)


def _local_functions(functions: Mapping[str, Callable[..., Any]]) -> Any:
    """``functions=`` as local Lambda handlers, matched by function name (legacy ARN or
    ``lambda:invoke`` FunctionName). One-argument callables get the event only."""
    from runtime.adapters.local_lambda import LocalFunctions

    local = LocalFunctions()
    for name, fn in functions.items():
        local.add(name, _as_handler(fn))
    return local


def _as_handler(fn: Callable[..., Any]) -> Callable[..., Any]:
    try:
        takes_context = len(inspect.signature(fn).parameters) >= 2
    except (TypeError, ValueError):
        takes_context = False
    if takes_context:
        return fn
    if inspect.iscoroutinefunction(fn):

        async def async_handler(event: Any, context: Any) -> Any:
            return await fn(event)

        return async_handler
    return lambda event, context: fn(event)


@functools.lru_cache(maxsize=1)
def _default_registry() -> AdapterRegistry:
    """The offline registry of runs given no adapters, services or functions: built once
    per process (its callback registry and activity queues are shared by those runs)."""
    from runtime.adapters import build_registry

    return build_registry(Services.create())


#: Why a mocked run does not call AWS, said when a Task would.
_AWS_REFUSED = (
    "a run with mocks calls no AWS service unless AWS is allowed (--allow-aws, or "
    "allow_aws=True); give the state a mock in the test case, or a local function."
)


def _registry(
    adapters: AdapterRegistry | None,
    services: Services | None,
    functions: Mapping[str, Callable[..., Any]] | None,
    mocks: Adapter | None,
    mocked_states: Iterable[str],
) -> AdapterRegistry:
    if adapters is None:
        from runtime.adapters import build_registry

        if services is None and not functions:
            registry = _default_registry().copy()
        else:
            if services is None:
                services = Services.create()
            if functions:
                services.functions = _local_functions(functions)
            registry = build_registry(services)
    else:
        registry = adapters.copy()
        if functions:
            _local_functions(functions).register(registry)
    if mocks is not None:
        for state in mocked_states:
            registry.register_state(state, mocks)
    return registry


def _bind_activities(
    registry: AdapterRegistry, activities: Mapping[str, Callable[..., Any]]
) -> None:
    """Route each activity of ``activities`` (name or ARN) to its local worker."""
    from runtime.adapters.activity import LocalActivity, activity_arn_pattern, activity_name

    for key, work in activities.items():
        pattern = activity_arn_pattern(activity_name(key))
        registry.register(pattern, LocalActivity(work), source="activity")


def binding_problems(
    machine: StateMachine,
    functions: Mapping[str, Any] | None,
    activities: Mapping[str, Any] | None,
) -> list[str]:
    """What is wrong with ``functions=``/``activities=`` for this definition, one line each:
    an activity bound as a function (it would never be called), and activities no Task
    state of the definition uses (a misspelt name)."""
    if not functions and not activities:
        return []  # nothing bound: no walk of the definition on every run
    from runtime.adapters.activity import activity_name

    used = _activities_of(machine.definition)
    problems = []
    for key in functions or {}:
        name = key.rsplit(":activity:", 1)[-1] if ":activity:" in key else None
        if name is None and key in used and not _calls_function(machine.definition, key):
            name = key
        if name is not None:
            problems.append(
                f"functions={{{key!r}: ...}}: {name!r} is an activity of the definition, "
                f"not a Lambda function: bind it with activities={{{name!r}: ...}}"
            )
    for key in activities or {}:
        try:
            name = activity_name(key)
        except Exception as exc:
            problems.append(f"activities={{{key!r}: ...}}: {exc}")
            continue
        if name not in used:
            known = ", ".join(sorted(used)) or "none"
            problems.append(
                f"activities={{{key!r}: ...}}: no Task state uses the activity {name!r} "
                f"(activities used: {known})"
            )
    return problems


def _task_states(scope: Any) -> Iterable[Mapping[str, Any]]:
    states = scope.get("States") if isinstance(scope, Mapping) else None
    for state in (states or {}).values():
        if not isinstance(state, Mapping):
            continue
        for branch in state.get("Branches") or ():
            yield from _task_states(branch)
        for key in ("Iterator", "ItemProcessor"):
            yield from _task_states(state.get(key))
        if state.get("Type") == "Task":
            yield state


def _activities_of(definition: Any) -> set[str]:
    """The names of the activities the definition's Task states (nested ones too) use."""
    return {
        str(state["Resource"]).rsplit(":activity:", 1)[1]
        for state in _task_states(definition)
        if ":activity:" in str(state.get("Resource", ""))
    }


def _calls_function(definition: Any, name: str) -> bool:
    """True when a Task state may call the Lambda function ``name``."""
    for state in _task_states(definition):
        resource = str(state.get("Resource", ""))
        if resource.endswith(f":function:{name}") or ":states:::lambda:invoke" in resource:
            return True
    return False


def _strict_mocks(registry: AdapterRegistry, mocks: Any, allow_aws: bool) -> None:
    """A mocked run names the test case when a state has no mock, and refuses AWS."""
    case = getattr(mocks, "test_case", "")
    registry.unserved_note = (
        f"it has no mock in the test case '{case}'" if case else "it has no mock"
    ) + ", and no local function, local state machine or other adapter serves it."
    if not allow_aws:
        registry.refused["AWS"] = _AWS_REFUSED


async def run(
    definition: Definition,
    input: Any = None,
    *,
    clock: Clock | None = None,
    adapters: AdapterRegistry | None = None,
    services: Services | None = None,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    activities: Mapping[str, Callable[..., Any]] | None = None,
    mocks: Any = None,
    name: str = "",
    state_machine_name: str = "StateMachine",
    observers: Iterable[Observer] = (),
    seed: int | None = None,
    account: str = "123456789012",
    region: str = "us-east-1",
    inspect: bool = False,
    replay: Replay | None = None,
    start_time: float | None = None,
    redrive_count: int = 0,
    allow_aws: bool = False,
    start_at: str | None = None,
    stop_after: str | None = None,
    variables: Mapping[str, Any] | None = None,
    context: Mapping[str, Mapping[str, Any]] | None = None,
    processes: int = 1,
) -> ExecutionResult:
    """Run one execution to its end and return its result.

    ``input`` defaults to ``{}``. ``clock`` defaults to a :class:`VirtualClock`, so Waits and
    retry delays take no wall time.

    Tasks go to, in order of precedence: ``mocks`` (a
    :class:`runtime.adapters.mock_config.MockedTasks`, one MockConfigFile test case);
    ``functions``, which maps a Lambda function name to a Python callable (``fn(event)`` or
    Lambda's ``fn(event, context)``; an exception fails the task as Lambda reports it,
    :class:`runtime.TaskFailure` fails it with its own error and cause); ``activities``,
    which maps an activity name (or ARN) to the Python callable a worker would run,
    ``fn(input) -> output`` (ActivityStarted, then ActivitySucceeded with its return value;
    :class:`runtime.TaskFailure` or another exception gives ActivityFailed; the virtual
    clock waits while it runs); then ``adapters``,
    or when that is None a registry built from ``services`` (default: offline, with
    callbacks and activities; see :class:`runtime.adapters.Services` for AWS).
    A run with ``mocks`` is strict: a state of the test case that is not a Task state of
    the definition raises :class:`runtime.MockConfigError` before the run (every problem,
    one line each); a Task with no mock that nothing else serves, or whose mocked
    responses run out, fails the execution with ``States.Runtime`` naming the state (no
    Catch handles it); and no Task calls AWS unless ``allow_aws``.
    A partial run tests a stretch of a workflow: it starts at the top-level state
    ``start_at`` (not StartAt) with ``input`` and ``variables`` as that state would see
    them, and succeeds with the output of the top-level state ``stop_after`` once that
    state is done; ``context`` sets fields of ``$$.Execution`` and ``$$.StateMachine``. A
    state that is not a top-level state, or a ``stop_after`` not reachable from the
    start, raises ValueError naming it; so does a ``functions`` key naming an activity of
    the definition, or an ``activities`` key no Task state uses.
    ``name`` (the execution's; empty makes a UUID) and ``state_machine_name`` follow
    AWS's rule for names (1 to 80 characters, no white space, brackets, wildcards,
    ``" # % \\ ^ | ~ ` $ & , ; : /`` or control characters): another raises
    :class:`runtime.callbacks.registry.InvalidName` before anything runs. An ``input``
    over 256 KiB of UTF-8 JSON raises ValueError, as AWS's StartExecution refuses it
    (ValidationException).
    ``replay`` and ``start_time`` resume an execution from its recorded history (see
    :func:`runtime.durable.resume.resume`). ``inspect`` records each state's data-flow stages (as
    AWS's TestState API names them) on its StateExited event's ``inspection``.
    ``processes`` above 1 runs the children of a Distributed Map whose processor never
    waits across that many processes, this one and ``processes - 1`` workers (see
    :mod:`runtime.distributed.workers`); results and history are the same as with one.
    Cancelling the calling task cancels the execution.
    """
    if name:  # AWS's rule for StartExecution's name (empty: a UUID is made)
        valid_name(name)
    valid_name(state_machine_name)
    machine = load_machine(definition)
    # The execution's own copy: the caller may change its dict afterwards (AWS reads the
    # input as JSON text), and the output, which may share parts of it, is the caller's.
    input = {} if input is None else own_copy(input)
    input_size = payload_bytes(input)
    too_big = input_limit_problem(input_size)
    if too_big:
        raise ValueError(too_big)
    mocked = mocks.states() if mocks is not None else ()
    check = getattr(mocks, "check", None)
    if check is not None:
        problems = check(machine)
        if problems:
            from runtime.adapters.mock_config import MockConfigError

            raise MockConfigError(problems)
    bounds = partial_run_problems(machine, start_at, stop_after, context)
    if bounds:
        raise ValueError("\n".join(f"{option} {message}" for option, message in bounds))
    problems = binding_problems(machine, functions, activities)
    if problems:
        raise ValueError("\n".join(problems))
    registry = _registry(adapters, services, functions, mocks, mocked)
    if activities:
        _bind_activities(registry, activities)
    if mocks is not None:
        _strict_mocks(registry, mocks, allow_aws)
    exe = Execution(
        machine,
        input,
        clock or VirtualClock(),
        registry,
        ExecutionOptions(
            name=name,
            state_machine_name=state_machine_name,
            seed=seed,
            account=account,
            region=region,
            start_time=start_time,
            redrive_count=redrive_count,
            start_at=start_at,
            stop_after=stop_after,
            variables=variables,
            context=context,
            # Tokens are signed with the secret the callback registry checks them with.
            tokens=services.callbacks.signer if services is not None else None,
            processes=processes,
        ),
        tuple(observers),
        inspect=inspect,
        replay=replay,
    )
    exe.input_size = input_size
    for observer in exe.observers:
        attach = getattr(observer, "attach", None)
        if attach is not None:
            attach(exe)  # e.g. the store's recorder learns the execution before event 1
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
        output=own_copy(exe.output),
        error=exe.error,
        cause=exe.cause,
        name=exe.name,
        arn=exe.arn,
        start_time=exe.start_time,
        stop_time=exe.stop_time if exe.stop_time is not None else exe.start_time,
        transitions=exe.transitions,
        history=tuple(sorted(exe.history, key=_EVENT_ID)),
        map_runs=tuple(record.describe() for record in exe.map_runs),
    )


#: The sort key of history events (in C: no Python call per event).
_EVENT_ID = operator.attrgetter("id")


def partial_run_problems(
    machine: StateMachine,
    start_at: str | None,
    stop_after: str | None,
    context: Mapping[str, Any] | None = None,
) -> list[tuple[str, str]]:
    """What is wrong with a partial run's bounds and context: (option, message) pairs."""
    problems = []
    for option, name in (("start_at", start_at), ("stop_after", stop_after)):
        if name is not None and name not in machine.states:
            problems.append((option, f"{name!r}: {_not_top_level(machine, name)}"))
    if not problems and stop_after is not None:
        start = start_at if start_at is not None else machine.start_at
        if stop_after not in _reachable(machine, start):
            problems.append(("stop_after", f"{stop_after!r}: not reachable from {start!r}"))
    for key, value in (context or {}).items():
        if key not in ("Execution", "StateMachine") or not isinstance(value, Mapping):
            message = f"{key!r}: only the Execution and StateMachine objects can be given"
            problems.append(("context", message))
    return problems


def _not_top_level(machine: StateMachine, name: str) -> str:
    if name in machine.all_states:
        return "it is inside a Parallel or Map state; give a top-level state"
    import difflib

    close = difflib.get_close_matches(name, list(machine.states), n=1)
    return "no such top-level state" + (f" (did you mean {close[0]!r}?)" if close else "")


def _reachable(machine: StateMachine, start: str) -> set[str]:
    """Top-level states reachable from ``start`` by Next, Choice rules, Default and Catch."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in machine.states:
            continue
        seen.add(name)
        state = machine.states[name]
        todo += [state.next] if state.next else []
        todo += [rule.next for rule in getattr(state, "choices", ())]
        todo += [getattr(state, "default", None) or name]
        todo += [catcher.next for catcher in getattr(state, "catch", ())]
    return seen


def run_sync(definition: Definition, input: Any = None, **options: Any) -> ExecutionResult:
    """:func:`run` for synchronous code: starts an event loop, runs, returns the result."""
    return anyio.run(functools.partial(run, definition, input, **options))
