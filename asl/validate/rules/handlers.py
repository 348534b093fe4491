"""Rules on Retry and Catch: ``States.ALL`` placement and reserved error names.

SPEC §Retrying after error / §Fallback states: "States.ALL ... MUST appear alone in the
ErrorEquals array and MUST appear in the last Retrier/Catcher"; SPEC §Errors: error names
starting with ``States.`` are reserved for the predefined ones (SPEC Appendix A).

AWS does not enforce that reservation: its published sample
aws-samples/step-functions-workflows-collection ``quorum-with-parallel-pattern`` deploys
(SAM, ``statemachine/statemachine.asl.json``) Fail states with ``"Error":
"States.QuorumMet"`` and ``"States.RanOutOfTime"`` and a Parallel state catching exactly
those names. So such a name is a WARNING (most often a typo of a predefined name), and it
is the same warning in a Fail state's ``Error`` as in a Retrier's or Catcher's
``ErrorEquals``: a machine can raise and catch its own ``States.``-prefixed errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from asl.validate.diagnostics import Diagnostic, error, warning
from asl.validate.rules.walk import Machine, StateRef

__all__ = ["PREDEFINED_ERRORS", "check_error_names", "check_states_all"]

#: SPEC Appendix A and DG:concepts-error-handling (SPEC.md A.10).
PREDEFINED_ERRORS = frozenset(
    {
        "States.ALL",
        "States.Timeout",
        "States.HeartbeatTimeout",
        "States.TaskFailed",
        "States.Permissions",
        "States.ResultPathMatchFailure",
        "States.ParameterPathFailure",
        "States.BranchFailed",
        "States.NoChoiceMatched",
        "States.IntrinsicFailure",
        "States.ExceedToleratedFailureThreshold",
        "States.ItemReaderFailed",
        "States.ResultWriterFailed",
        "States.QueryEvaluationError",
        "States.DataLimitExceeded",
        "States.Runtime",
        "States.Http.Socket",
    }
)
_SCHEMA = "SCHEMA_VALIDATION_FAILED"


def _error_names(state: StateRef) -> Iterator[tuple[str, Any]]:
    """Yield (pointer, name) for every literal error name a state raises or handles."""
    for field, index, _last, errors in _handlers(state):
        for position, name in enumerate(errors):
            yield state.at(field, index, "ErrorEquals", position), name
    if state.type == "Fail" and "Error" in state.body:
        yield state.at("Error"), state.body["Error"]


def _handlers(state: StateRef) -> list[tuple[str, int, bool, list[Any]]]:
    """(field, index, is_last, ErrorEquals) for each retrier and catcher."""
    body = state.body
    found: list[tuple[str, int, bool, list[Any]]] = []
    if "Retry" not in body and "Catch" not in body:
        return found
    for field in ("Retry", "Catch"):
        items = body.get(field)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            errors = item.get("ErrorEquals") if isinstance(item, Mapping) else None
            if isinstance(errors, list):
                found.append((field, index, index == len(items) - 1, errors))
    return found


def check_states_all(machine: Machine) -> Iterator[Diagnostic]:
    """``States.ALL`` must be alone in its ErrorEquals, in the last Retrier/Catcher."""
    for state in machine.states:
        for field, index, last, errors in _handlers(state):
            if "States.ALL" not in errors:
                continue
            where = state.at(field, index, "ErrorEquals")
            kind = "Retrier" if field == "Retry" else "Catcher"
            if len(errors) > 1:
                yield error(_SCHEMA, "'States.ALL' must appear alone in 'ErrorEquals'.", where)
            if not last:
                yield error(
                    _SCHEMA,
                    f"A {kind} matching 'States.ALL' must be the last one in "
                    f"'{field}'; the ones after it can never match.",
                    where,
                )


def check_error_names(machine: Machine) -> Iterator[Diagnostic]:
    """Warn about error names starting with ``States.`` that are not predefined ones."""
    for state in machine.states:
        for where, name in _error_names(state):
            if (
                isinstance(name, str)
                and name.startswith("States.")
                and name not in PREDEFINED_ERRORS
            ):
                yield warning(
                    "INVALID_ERROR_NAME",
                    f"'{name}' is not a predefined error; the specification reserves names "
                    f"starting with 'States.' (AWS accepts them){_suggest(name)}",
                    where,
                )


def _suggest(name: str) -> str:
    import difflib  # lazily: only needed when something is wrong

    close = difflib.get_close_matches(name, sorted(PREDEFINED_ERRORS), n=1, cutoff=0.85)
    return f"; did you mean '{close[0]}'?" if close else " (see SPEC Appendix A)."
