"""TestState's ``mock`` and ``stateConfiguration``: what is accepted, and how a mocked Map
or Parallel state runs.

AWS's rules, as recorded against AWS (the messages are AWS's):

- a mock applies to Task, Map and Parallel states ("State type 'Pass' is not supported
  when a mock is specified"), and Map and Parallel states need one ("TestState API does
  not support Map or Parallel states. Supported state types include: [...]");
- ``result`` and ``errorOutput`` exclude each other; ``result`` is JSON text (also with
  ``fieldValidationMode`` NONE); ``revealSecrets`` is refused with a mock;
- a Map's mocked result is an array (an object when it has a ResultWriter); a Parallel's
  is an array with one item per branch.

A mocked Map or Parallel runs its own data flow around the mocked result (InputPath,
ResultSelector, ResultPath, OutputPath, Assign, Output, Retry, Catch) and never its
iterations or branches: it runs as a Task whose answer is the mock. Its Map stages
(``afterItemsPath``, ``maxConcurrency``, ``toleratedFailureCount``,
``toleratedFailurePercentage``) are added by :func:`fanout_stages`.
``mapIterationFailureCount`` above the Map's tolerated failures fails the state with
``States.ExceedToleratedFailureThreshold`` (a Map without a tolerance ignores it, as
AWS does).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asl.errors import ASLError
from runtime.engine.errors import TaskFailure
from runtime.testing.mock_shapes import MODES, check_mock_result

__all__ = [
    "MOCK_RESOURCE",
    "StateConfiguration",
    "StateTestError",
    "TestMock",
    "as_mocked_task",
    "configuration_from",
    "exceeds_tolerance",
    "fanout_stages",
    "inner_states",
    "read_mock",
]

#: The resource a mocked Map or Parallel runs as (never called: the mock answers).
MOCK_RESOURCE = "arn:aws:states:::aws-sdk:sfn:testStateMock"
_MOCKABLE = ("Task", "Map", "Parallel")
_UNSUPPORTED = (
    "TestState API does not support Map or Parallel states. "
    "Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]"
)
THRESHOLD_ERROR = "States.ExceedToleratedFailureThreshold"
THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"
#: What a mocked Map or Parallel keeps of its fields when it runs as a Task.
_KEPT = (
    "Type",
    "Comment",
    "QueryLanguage",
    "InputPath",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "Assign",
    "Output",
    "Retry",
    "Catch",
    "Next",
    "End",
)


class StateTestError(ASLError):
    """Raised when a TestState request cannot run (``code`` is AWS's error name)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True, slots=True)
class StateConfiguration:
    """TestState's ``stateConfiguration``."""

    #: Retries already made by the retrier that handles the mocked error.
    retrier_retry_count: int = 0
    #: The state inside a Map or Parallel that raised the mocked error.
    error_caused_by_state: str | None = None
    #: How many Map iterations failed.
    map_iteration_failure_count: int | None = None
    #: What a Distributed Map's ItemReader read (JSON text).
    map_item_reader_data: str | None = None


_CONFIGURATION = {
    "retrierRetryCount": ("retrier_retry_count", int),
    "errorCausedByState": ("error_caused_by_state", str),
    "mapIterationFailureCount": ("map_iteration_failure_count", int),
    "mapItemReaderData": ("map_item_reader_data", str),
}


def configuration_from(value: Any) -> StateConfiguration:
    """``stateConfiguration`` as the API takes it; an unknown field or a wrong type is a
    ValidationException naming the field."""
    if value is None:
        return StateConfiguration()
    if not isinstance(value, Mapping):
        raise StateTestError("ValidationException", "stateConfiguration is not a JSON object")
    fields: dict[str, Any] = {}
    for key, item in value.items():
        if key not in _CONFIGURATION:
            known = ", ".join(_CONFIGURATION)
            message = f"stateConfiguration.{key} is not a field (known: {known})"
            raise StateTestError("ValidationException", message)
        attribute, kind = _CONFIGURATION[key]
        if item is None:
            continue
        negative = isinstance(item, int) and item < 0
        if not isinstance(item, kind) or isinstance(item, bool) or negative:
            wanted = "a non-negative integer" if kind is int else "a string"
            raise StateTestError(
                "ValidationException", f"stateConfiguration.{key} must be {wanted}"
            )
        fields[attribute] = item
    return StateConfiguration(**fields)


@dataclass(slots=True)
class TestMock:
    """A mocked answer: ``mock.result`` (JSON value) or ``mock.errorOutput``."""

    __test__ = False  # not a pytest class

    state: str
    result: Any
    error: Mapping[str, Any] | None

    def states(self) -> list[str]:
        return [self.state]

    def replayed(self, call: Any) -> None:
        """Nothing to count: one answer for every call."""

    async def invoke(self, call: Any) -> Any:
        if call.resource.kind == "activity":
            call.on_started("mock")
        if call.resource.pattern:
            call.on_submitted(None)
        if self.error is not None:
            raise TaskFailure(str(self.error.get("error") or ""), self.error.get("cause"))
        return self.result


def read_mock(
    name: str,
    state: Mapping[str, Any],
    mock: Mapping[str, Any] | None,
    configuration: StateConfiguration,
    reveal_secrets: bool = False,
) -> TestMock | None:
    """Check ``mock`` and ``stateConfiguration`` against the state; the mock to run."""
    kind = state.get("Type")
    if not mock or (mock.get("result") is None and mock.get("errorOutput") is None):
        if kind in ("Map", "Parallel"):
            raise StateTestError("InvalidDefinition", _UNSUPPORTED)
        _check_configuration(name, state, configuration)
        return None
    if kind not in _MOCKABLE:
        message = f"State type '{kind}' is not supported when a mock is specified"
        raise StateTestError("ValidationException", message)
    if mock.get("result") is not None and mock.get("errorOutput") is not None:
        message = "A test mock should have only one of the following fields: [result, errorOutput]."
        raise StateTestError("ValidationException", message)
    if reveal_secrets:
        message = "TestState does not support RevealSecrets when a mock is specified."
        raise StateTestError("ValidationException", message)
    mode = mock.get("fieldValidationMode") or "STRICT"
    if mode not in MODES:
        message = f"mock.fieldValidationMode '{mode}' is not one of {', '.join(MODES)}"
        raise StateTestError("ValidationException", message)
    _check_configuration(name, state, configuration)
    error = mock.get("errorOutput")
    if error is not None:
        if not isinstance(error, Mapping) or not error.get("error"):
            message = "mock.errorOutput.error is required when mock.errorOutput is specified"
            raise StateTestError("ValidationException", message)
        return TestMock(name, None, error)
    return TestMock(name, _result(state, mock["result"], mode), None)


def _result(state: Mapping[str, Any], text: Any, mode: str) -> Any:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        raise StateTestError("ValidationException", "Mocked result must be valid JSON.") from None
    kind = state.get("Type")
    if kind == "Map":
        writes = state.get("ResultWriter") is not None
        if writes and not isinstance(value, dict):
            raise StateTestError("ValidationException", "Mocked result must be a JSON object.")
        if not writes and not isinstance(value, list):
            raise StateTestError("ValidationException", "Mocked result must be an array.")
    elif kind == "Parallel":
        if not isinstance(value, list):
            raise StateTestError("ValidationException", "Mocked result must be an array.")
        if len(value) != len(state.get("Branches") or []):
            message = (
                "Mocked result must contain the same number of items as number of "
                "Parallel branches."
            )
            raise StateTestError("ValidationException", message)
    else:
        problem = check_mock_result(value, str(state.get("Resource") or ""), mode)
        if problem is not None:
            raise StateTestError("ValidationException", problem)
    return value


def inner_states(state: Mapping[str, Any]) -> set[str]:
    """Every state name inside a Map's processor or a Parallel's branches, at any depth."""
    found: set[str] = set()
    blocks = [state.get("ItemProcessor") or state.get("Iterator") or {}]
    blocks += list(state.get("Branches") or [])
    for block in blocks:
        for inner_name, inner in (block.get("States") or {}).items():
            found.add(inner_name)
            if isinstance(inner, Mapping):
                found |= inner_states(inner)
    return found


def _check_configuration(
    name: str, state: Mapping[str, Any], configuration: StateConfiguration
) -> None:
    """Each stateConfiguration field applies to some states only: say which, naming it."""
    kind = state.get("Type")
    caused_by = configuration.error_caused_by_state
    if caused_by is not None:
        if kind not in ("Map", "Parallel"):
            message = (
                "stateConfiguration.errorCausedByState applies to a Map or Parallel state; "
                f"'{name}' is a {kind} state"
            )
            raise StateTestError("ValidationException", message)
        if caused_by not in inner_states(state) and caused_by != name:
            message = (
                f"stateConfiguration.errorCausedByState '{caused_by}' names no state inside "
                f"this {kind} state"
            )
            raise StateTestError("ValidationException", message)
    for field, value in (
        ("mapIterationFailureCount", configuration.map_iteration_failure_count),
        ("mapItemReaderData", configuration.map_item_reader_data),
    ):
        if value is not None and kind != "Map":
            message = (
                f"stateConfiguration.{field} applies to a Map state; '{name}' is a {kind} state"
            )
            raise StateTestError("ValidationException", message)
    if configuration.map_item_reader_data is not None:
        if state.get("ItemReader") is None:
            message = f"stateConfiguration.mapItemReaderData: Map state '{name}' has no ItemReader"
            raise StateTestError("ValidationException", message)
        try:
            json.loads(configuration.map_item_reader_data)
        except ValueError:
            message = "stateConfiguration.mapItemReaderData is not JSON"
            raise StateTestError("ValidationException", message) from None


def as_mocked_task(state: Mapping[str, Any]) -> dict[str, Any]:
    """A mocked Map or Parallel as the Task that runs its data flow around the mock."""
    task = {key: state[key] for key in _KEPT if key in state}
    task["Type"] = "Task"
    task["Resource"] = MOCK_RESOURCE
    return task


def fanout_stages(state: Mapping[str, Any], stages: Mapping[str, Any]) -> dict[str, Any]:
    """A mocked Map's own inspection stages, from its input after InputPath."""
    if state.get("Type") != "Map":
        return {}
    from asl.paths import compile_path

    out: dict[str, Any] = {}
    data = stages.get("afterInputPath", stages.get("input"))
    items_path = state.get("ItemsPath")
    if (
        state.get("ItemReader") is None
        and isinstance(items_path, str)
        and state.get("QueryLanguage") != "JSONata"
    ):
        with contextlib.suppress(Exception):  # the run itself reports a bad path
            out["afterItemsPath"] = compile_path(items_path).get(data, {}, {})
    concurrency = state.get("MaxConcurrency", 0)
    if isinstance(concurrency, int):
        out["maxConcurrency"] = concurrency
    for field, key in (
        ("ToleratedFailureCount", "toleratedFailureCount"),
        ("ToleratedFailurePercentage", "toleratedFailurePercentage"),
    ):
        if isinstance(state.get(field), int | float):
            out[key] = state[field]
    return out


def exceeds_tolerance(state: Mapping[str, Any], failures: int | None, items: int) -> bool:
    """Whether ``failures`` failed iterations of ``items`` exceed the Map's tolerance."""
    if failures is None or state.get("Type") != "Map":
        return False
    count = state.get("ToleratedFailureCount")
    percentage = state.get("ToleratedFailurePercentage")
    if not isinstance(count, int | float) and not isinstance(percentage, int | float):
        return False  # no tolerance: AWS lets the count pass
    over_count = isinstance(count, int | float) and failures > count
    over_share = (
        isinstance(percentage, int | float) and items > 0 and failures * 100 / items > percentage
    )
    return over_count or over_share
