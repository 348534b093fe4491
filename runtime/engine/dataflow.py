"""Input and output processing of a state, in both query languages.

JSONPath (SPEC §Input and Output Processing): InputPath → Parameters → (the state's work)
→ ResultSelector → ResultPath → OutputPath, then Assign. JSONata (SPEC §JSONata):
Arguments → (work) → Output and Assign, over ``$states.input/result/errorOutput/context``
and the workflow variables.

Paths and templates arrive compiled; a path that selects nothing becomes AWS's
``States.Runtime`` "Invalid path '<path>' : <detail>".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asl.errors import StatesError
from asl.model import DEFAULT, State
from runtime.engine.errors import check_payload

__all__ = [
    "apply_path",
    "apply_result_path",
    "effective_input",
    "invalid_path",
    "jsonata_bindings",
    "state_output",
]


def apply_path(path: Any, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
    """``InputPath``/``OutputPath``-style selection; DEFAULT keeps, None gives ``{}``."""
    if path is DEFAULT:
        return data
    if path is None:
        return {}
    from asl.paths import PathNotFound

    try:
        return path.get(data, context, variables)
    except PathNotFound as exc:
        raise invalid_path(exc) from exc


def invalid_path(exc: Any) -> StatesError:
    """AWS's error for a JSONPath that selects nothing (a ``PathNotFound``)."""
    return StatesError("States.Runtime", f"Invalid path '{exc.path}' : {exc.detail}")


def apply_result_path(path: Any, raw_input: Any, result: Any) -> Any:
    """``ResultPath``: DEFAULT replaces the input, None discards the result."""
    if path is DEFAULT:
        return result
    if path is None:
        return raw_input
    return path.set(raw_input, result)


def jsonata_bindings(
    data: Any,
    context: Any,
    variables: Mapping[str, Any],
    **states: Any,
) -> dict[str, Any]:
    """The bindings of a JSONata evaluation: the variables plus ``$states``."""
    bindings = dict(variables)
    states_value = {"input": data, "context": context}
    states_value.update(states)
    bindings["states"] = states_value
    return bindings


def effective_input(
    state: State,
    data: Any,
    context: Any,
    variables: Mapping[str, Any],
    stages: dict[str, Any] | None = None,
) -> Any:
    """The state's effective input: InputPath then Parameters (JSONPath) or Arguments.

    ``stages``, when given, receives what AWS's TestState API calls ``afterInputPath``,
    ``afterParameters`` and ``afterArguments``.
    """
    if state.query_language == "JSONata":
        arguments = getattr(state, "arguments", None)
        if arguments is None:
            return data
        effective = arguments.evaluate(jsonata_bindings(data, context, variables))
        check_payload(effective, state.name)
        if stages is not None:
            stages["afterArguments"] = effective
        return effective
    selected = apply_path(state.input_path, data, context, variables)
    parameters = getattr(state, "parameters", None)
    if parameters is None:
        effective = selected
    else:
        # AWS: the input after Parameters is at most 256 KiB too (States.DataLimitExceeded).
        effective = parameters.evaluate(selected, context, variables)
        check_payload(effective, state.name)
    if stages is not None:
        stages["afterInputPath"] = selected
        if parameters is not None:
            stages["afterParameters"] = effective
    return effective


def state_output(
    state: State,
    data: Any,
    result: Any,
    context: Any,
    variables: Mapping[str, Any],
    stages: dict[str, Any] | None = None,
) -> tuple[Any, Any]:
    """Return ``(output, assign_input)`` for a state that produced ``result``.

    ``assign_input`` is what ``$`` means to a JSONPath ``Assign`` (the effective result);
    for JSONata it is the bindings the ``Assign`` is evaluated with. ``stages``, when
    given, receives ``result``, ``afterResultSelector`` and ``afterResultPath``.
    """
    if stages is not None:
        stages["result"] = result
    if state.query_language == "JSONata":
        bindings = jsonata_bindings(data, context, variables, result=result)
        output = state.output.evaluate(bindings) if state.output is not None else result
        return output, bindings
    selector = getattr(state, "result_selector", None)
    if selector is not None:
        result = selector.evaluate(result, context, variables)
        if stages is not None:
            stages["afterResultSelector"] = result
    combined = apply_result_path(getattr(state, "result_path", DEFAULT), data, result)
    if stages is not None:
        stages["afterResultPath"] = combined
    return apply_path(state.output_path, combined, context, variables), result
