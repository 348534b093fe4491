"""TestState, offline: run one state, with a mocked result or error, and say what AWS's
TestState API would answer (``status``, ``nextState``, ``output``, ``error``, ``cause``,
``inspectionData``).

    >>> import anyio
    >>> state = {"Type": "Pass", "Parameters": {"b.$": "$.a"}, "Next": "After"}
    >>> result = anyio.run(run_test_state, state, {"a": 1})
    >>> result.status, result.next_state, result.output
    ('SUCCEEDED', 'After', {'b': 1})

How it runs: the state becomes the start of a small machine whose transition targets
(``Next``, ``Default``, Choice rules' and catchers' ``Next``) are Succeed states, so the
state's data flow, Choice rules and Catch run in the real interpreter, with
``inspect=True`` for the stages. TestState does not retry (AWS: it reports the error as
``RETRIABLE`` when a retrier would handle it, with ``errorDetails``): the ``Retry`` field
is taken out before the run and applied here to the error, as attempt
``retrierRetryCount + 1``. A Task with a ``mock`` never calls its service.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from asl.errors import DefinitionError
from runtime.engine.clock import VirtualClock
from runtime.engine.events import HistoryEvent, dumps
from runtime.engine.retry import find_catcher, find_retrier
from runtime.testing.teststate_mocks import (
    THRESHOLD_CAUSE,
    THRESHOLD_ERROR,
    StateConfiguration,
    StateTestError,
    TestMock,
    as_mocked_task,
    exceeds_tolerance,
    fanout_stages,
    inner_states,
    read_mock,
)

__all__ = ["StateConfiguration", "StateTestError", "StateTestResult", "run_test_state"]

#: The name a single-state definition runs under.
DEFAULT_NAME = "TestState"
_VARIABLES_STATE = "TestState.Variables"
#: inspectionData's members that are numbers (a Map's settings), not JSON text.
_NUMBERS = frozenset({"maxConcurrency", "toleratedFailureCount", "toleratedFailurePercentage"})
#: inspectionData's members that are objects as they are (an HTTP Task's exchange), shown
#: at the TRACE level only.
_HTTP = frozenset({"request", "response"})
#: The data-flow stages ``inspectionData`` reports, as the engine names them.
_STAGES = (
    "input",
    "afterArguments",
    "afterInputPath",
    "afterParameters",
    "result",
    "afterResultSelector",
    "afterResultPath",
    "afterItemsPath",
    "afterItemSelector",
)


@dataclass(frozen=True, slots=True)
class StateTestResult:
    """What TestState answers."""

    #: SUCCEEDED, FAILED, RETRIABLE or CAUGHT_ERROR.
    status: str
    #: The state the execution would go to next (None at an End, or when it failed).
    next_state: str | None = None
    #: The state's output (SUCCEEDED), or the catcher's output (CAUGHT_ERROR).
    output: Any = None
    error: str | None = None
    cause: str | None = None
    #: The data-flow stages by AWS's names (values as JSON values), and ``errorDetails``.
    inspection: Mapping[str, Any] = field(default_factory=dict)

    def to_aws(self, level: str = "INFO") -> dict[str, Any]:
        """The TestState response body for ``inspectionLevel`` INFO, DEBUG or TRACE."""
        out: dict[str, Any] = {"status": self.status}
        if self.status in ("SUCCEEDED", "CAUGHT_ERROR"):
            out["output"] = dumps(self.output)
        if self.next_state is not None:
            out["nextState"] = self.next_state
        if self.error is not None:
            out["error"] = self.error
        if self.cause is not None:
            out["cause"] = self.cause
        data: dict[str, Any] = {}
        if level != "INFO":  # AWS: INFO answers without inspectionData
            for key, value in self.inspection.items():
                if key in _HTTP:
                    if level == "TRACE":
                        data[key] = dict(value)
                elif key == "errorDetails":
                    data[key] = dict(value)
                elif key in _NUMBERS:  # numbers in the API's shape, not JSON text
                    data[key] = value
                else:
                    data[key] = dumps(value)
        if data:
            out["inspectionData"] = data
        return out


def _split(definition: Mapping[str, Any], state_name: str | None) -> tuple[str, Any, str | None]:
    """(name, state, machine QueryLanguage) of a state or of a state of a machine."""
    if "States" not in definition:
        name = state_name or DEFAULT_NAME
        while name in inner_states(definition):  # a Map's own state may be "TestState"
            name = f"{name}_"
        return name, copy.deepcopy(dict(definition)), None
    if state_name is None:
        raise StateTestError(
            "ValidationException", "stateName is required when definition is a state machine"
        )
    states = definition.get("States")
    if not isinstance(states, Mapping) or state_name not in states:
        raise StateTestError(
            "ValidationException", f"State '{state_name}' is not in the definition's States"
        )
    return state_name, copy.deepcopy(dict(states[state_name])), definition.get("QueryLanguage")


def _targets(state: Mapping[str, Any]) -> list[str]:
    """Every state this one may go to."""
    found = [state.get("Next"), state.get("Default")]
    found += [rule.get("Next") for rule in state.get("Choices") or [] if isinstance(rule, dict)]
    found += [c.get("Next") for c in state.get("Catch") or [] if isinstance(c, dict)]
    return list(dict.fromkeys(t for t in found if isinstance(t, str)))


def _machine(
    name: str, state: dict[str, Any], language: str | None, variables: Any
) -> dict[str, Any]:
    states: dict[str, Any] = {}
    start = name
    if variables:
        states[_VARIABLES_STATE] = {
            "Type": "Pass",
            "QueryLanguage": "JSONPath",
            "Assign": variables,
            "Next": name,
        }
        start = _VARIABLES_STATE
    states[name] = state
    for target in _targets(state):
        if target != name:
            states.setdefault(target, {"Type": "Succeed"})
    machine = {"StartAt": start, "States": states}
    if language is not None:
        machine["QueryLanguage"] = language
    return machine


async def run_test_state(
    definition: Mapping[str, Any],
    input: Any = None,
    *,
    state_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    mock: Mapping[str, Any] | None = None,
    retrier_retry_count: int = 0,
    configuration: StateConfiguration | None = None,
    context: Mapping[str, Any] | None = None,
    reveal_secrets: bool = False,
    services: Any = None,
) -> StateTestResult:
    """Run one state as TestState does (see the module docstring).

    ``definition`` is one state, or a state machine with ``state_name``; ``mock`` is
    TestState's ``{"result": JSON text}`` or ``{"errorOutput": {"error", "cause"}}``, with
    ``fieldValidationMode``; ``configuration`` is its ``stateConfiguration`` (or just
    ``retrier_retry_count``); ``context`` sets fields of the context object's
    ``Execution`` and ``StateMachine``.
    Raises :class:`StateTestError` (``InvalidDefinition``, ``ValidationException``).
    Waits take no time (a virtual clock).

    An HTTP Task (``http:invoke``) without a mock really sends its request when
    ``services`` has EventBridge connections (``runtime.adapters.http``); the exchange is
    kept as ``inspection["request"]``/``["response"]`` (shown at TRACE), the connection's
    secrets masked unless ``reveal_secrets``.
    """
    from runtime.api import run

    configuration = configuration or StateConfiguration(retrier_retry_count=retrier_retry_count)
    name, state, language = _split(definition, state_name)
    mocked = read_mock(name, state, mock, configuration, reveal_secrets)
    original = state
    if mocked is not None and state.get("Type") in ("Map", "Parallel"):
        _compile(_machine(name, state, language, dict(variables or {})))  # the real one
        state = as_mocked_task(state)
        mocked = _threshold(original, mocked, configuration)
    document = _machine(name, state, language, dict(variables or {}))
    compiled = _compile(document)  # with the Retry field, to apply it below
    retriers = getattr(compiled.states[name], "retry", ())
    catchers = getattr(compiled.states[name], "catch", ())
    state.pop("Retry", None)
    runnable = _compile(document)
    exchanges: list[Any] = []
    if services is not None and getattr(services, "connections", None) is not None:
        services.http_observer = exchanges.append
    result = await run(
        runnable,
        {} if input is None else input,
        clock=VirtualClock(),
        services=services,
        mocks=mocked,
        state_machine_name="TestState",
        inspect=True,
        context=_context(context),
    )
    targets = set(_targets(state)) - {name}
    outcome = _outcome(name, targets, result, retriers, catchers, configuration.retrier_retry_count)
    inspection = dict(outcome.inspection)
    if mocked is not None and outcome.error is not None:
        before = await _stages_before_call(name, state, language, variables, input, context)
        inspection = {**before, **inspection}
    if exchanges:  # the last attempt's request and response
        inspection.update(exchanges[-1].inspection(reveal_secrets))
    if original is not state:  # a mocked Map or Parallel reports no raw result
        inspection.pop("result", None)
        inspection.update(fanout_stages(original, inspection))
    return replace(outcome, inspection=inspection)


async def _stages_before_call(
    name: str,
    state: Mapping[str, Any],
    language: str | None,
    variables: Mapping[str, Any] | None,
    input: Any,
    context: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The stages a mocked Task reached before its call failed (AWS reports them):
    the same state again, up to its call only, answered by an empty result."""
    from runtime.api import run

    kept = ("Type", "QueryLanguage", "Resource", "InputPath", "Parameters", "Arguments")
    task = {key: state[key] for key in kept if key in state}
    task["End"] = True
    result = await run(
        _compile(_machine(name, task, language, dict(variables or {}))),
        {} if input is None else input,
        clock=VirtualClock(),
        mocks=TestMock(name, {}, None),
        state_machine_name="TestState",
        inspect=True,
        context=_context(context),
    )
    exited = next(
        (e for e in result.history if e.type.endswith("StateExited") and _named(e, name)), None
    )
    stages = dict(exited.inspection or {}) if exited is not None else {}
    return {
        k: stages[k]
        for k in ("input", "afterInputPath", "afterParameters", "afterArguments")
        if k in stages
    }


def _compile(document: dict[str, Any]) -> Any:
    from runtime.api import load_machine

    try:
        return load_machine(document)
    except DefinitionError as exc:
        text = ", ".join(
            f"{d.code}: {d.message.rstrip('.')} at {d.location or '/'}" for d in exc.diagnostics
        )
        message = f"Invalid State Machine Definition: '{text}'"
        raise StateTestError("InvalidDefinition", message) from None


def _threshold(state: Mapping[str, Any], mocked: TestMock, config: StateConfiguration) -> TestMock:
    """The mock, or the threshold error when the failed iterations exceed the tolerance."""
    items = mocked.result if isinstance(mocked.result, list) else []
    if config.map_item_reader_data is not None:
        read = json.loads(config.map_item_reader_data)
        items = read if isinstance(read, list) else items
    if mocked.error is None and exceeds_tolerance(
        state, config.map_iteration_failure_count, len(items)
    ):
        return TestMock(mocked.state, None, {"error": THRESHOLD_ERROR, "cause": THRESHOLD_CAUSE})
    return mocked


def _context(context: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]] | None:
    """TestState's ``context``: the Execution and StateMachine objects it sets."""
    if not context:
        return None
    if not isinstance(context, Mapping):
        raise StateTestError("ValidationException", "context is not a JSON object")
    out: dict[str, Mapping[str, Any]] = {}
    for key, value in context.items():
        if key not in ("Execution", "StateMachine") or not isinstance(value, Mapping):
            message = (
                f"context.{key}: only the Execution and StateMachine objects of the context "
                "object can be set here"
            )
            raise StateTestError("ValidationException", message)
        out[key] = value
    return out


def _outcome(
    name: str,
    targets: set[str],
    result: Any,
    retriers: Any,
    catchers: Any,
    retry_count: int,
) -> StateTestResult:
    history = result.history
    exited = next((e for e in history if e.type.endswith("StateExited") and _named(e, name)), None)
    stages = dict(exited.inspection or {}) if exited is not None else {}
    inspection = {k: stages[k] for k in _STAGES if k in stages}
    if "variables" in stages:
        inspection["variables"] = stages["variables"]
    if "input" not in inspection:  # it failed before exiting: its input is still known
        started = next(
            (e for e in history if e.type.endswith("StateEntered") and _named(e, name)), None
        )
        if started is not None:
            inspection["input"] = (started.details or {}).get("input")
    entered = [e for e in history if e.type.endswith("StateEntered") and _state_name(e) in targets]
    next_entered = entered[0] if entered else None
    error, cause = _error(history, result)
    if error is not None:
        retry = find_retrier(retriers, error)
        if retry is not None and retry_count < retriers[retry].max_attempts:
            delay = retriers[retry].interval_seconds * retriers[retry].backoff_rate ** retry_count
            if retriers[retry].max_delay_seconds is not None:
                delay = min(delay, retriers[retry].max_delay_seconds)
            details = {"retryIndex": retry, "retryBackoffIntervalSeconds": int(delay)}
            inspection["errorDetails"] = details
            return StateTestResult("RETRIABLE", None, None, error, cause, inspection)
        catch = find_catcher(catchers, error)
        if catch is not None and next_entered is not None:
            inspection["errorDetails"] = {"catchIndex": catch}
            caught = (next_entered.details or {}).get("input")
            target = _state_name(next_entered)
            return StateTestResult("CAUGHT_ERROR", target, caught, error, cause, inspection)
        if retry is not None:  # its retrier is spent: AWS still names it
            inspection["errorDetails"] = {"retryIndex": retry}
        return StateTestResult("FAILED", None, None, error, cause, inspection)
    target = _state_name(next_entered) if next_entered is not None else None
    output = stages.get("output", result.output)
    return StateTestResult("SUCCEEDED", target, output, None, None, inspection)


def _named(event: HistoryEvent, name: str) -> bool:
    return (event.details or {}).get("name") == name


def _state_name(event: HistoryEvent) -> str | None:
    value = (event.details or {}).get("name")
    return value if isinstance(value, str) else None


def _error(history: tuple[HistoryEvent, ...], result: Any) -> tuple[str | None, str | None]:
    """The error the state raised, if it raised one (caught or not)."""
    if result.status != "SUCCEEDED":
        return result.error, result.cause
    for event in history:
        details = event.details or {}
        if event.type.endswith("Failed") and "error" in details:
            return str(details["error"]), details.get("cause")
    return None, None
