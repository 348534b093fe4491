"""Reading a run of generated mocks: where it went, where it stopped and why (``asl mock
init``). Causes are read as the engine writes them, after AWS's wording."""

from __future__ import annotations

import re
from typing import Any

from runtime.testing.mockinit import forcing, rules

__all__ = [
    "FAILED_EVENTS",
    "choice_visits",
    "designed_end",
    "ended",
    "ending",
    "entered",
    "missing_path",
    "progress",
    "reached_after",
    "signature",
    "value_at",
]

#: History events of a failed Task attempt (a Lambda function ARN as Resource has its own).
FAILED_EVENTS = {"TaskFailed", "LambdaFunctionFailed"}

_STATE = re.compile(r"executing the state '(?P<state>(?:[^']|'')+)'")

_NOT_FOUND = re.compile(
    r"The JSONPath '(?P<path>[^']+)' specified for the field '(?P<field>[^']+)' could not be found"
)

_INTRINSIC = re.compile(
    r"The JsonPath argument for the field '(?P<path>[^']+)' could not be found in the input"
)
_NOTHING = re.compile(
    r"The JSONata expression '(?P<expression>.*?)' specified for the field '(?P<field>[^']+)' "
    r"returned nothing"
)
#: The paths a JSONata expression reads: of the input, of the Map item, of a variable.
_JSONATA_REFERENCE = re.compile(
    r"\$states\.(?:input|context\.Map\.Item\.Value)(?:\.[A-Za-z_]\w*)+"
    r"|\$(?!states\b)[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
)
_INVALID = re.compile(r"Invalid path '(?P<path>[^']+)'")


def missing_path(cause: str) -> tuple[str, list[str], str] | None:
    """(state, paths, field) of what a run's input lacked, from the cause of a
    States.Runtime or States.QueryEvaluationError; paths as ASL JSONPath (``$.a``,
    ``$$.Map.Item.Value.a``, ``$variable.a``)."""
    state = _STATE.search(cause)
    if state is None:
        return None
    name = state["state"].replace("''", "'")
    found = _NOT_FOUND.search(cause)
    if found is not None:
        return name, [found["path"]], found["field"].removesuffix(".$")
    intrinsic = _INTRINSIC.search(cause)
    if intrinsic is not None:
        return name, [intrinsic["path"]], ""
    invalid = _INVALID.search(cause)
    if invalid is not None:
        return name, [invalid["path"]], ""
    nothing = _NOTHING.search(cause)
    if nothing is not None:
        paths = [
            text.replace("$states.input", "$", 1).replace("$states.context", "$$", 1)
            for text in _JSONATA_REFERENCE.findall(nothing["expression"])
        ]
        return name, paths, nothing["field"]
    if "Map state input must be an array" in cause:
        return name, [], "ItemsPath"
    return None


def entered(result: Any) -> list[str]:
    if result is None:
        return []
    return [
        str((e.details or {}).get("name"))
        for e in result.history
        if e.type.endswith("StateEntered")
    ]


def choice_visits(result: Any) -> list[tuple[str, str]]:
    """(Choice state, the state entered after it) for each Choice visit."""
    visits: list[tuple[str, str]] = []
    if result is None:
        return visits
    waiting: str | None = None
    for event in result.history:
        name = str((event.details or {}).get("name"))
        if event.type == "ChoiceStateExited":
            waiting = name
        elif event.type.endswith("StateEntered") and waiting is not None:
            visits.append((waiting, name))
            waiting = None
    return visits


def reached_after(result: Any, state: str, target: str) -> bool:
    names = entered(result)
    return state in names and target in names[names.index(state) :]


def designed_end(result: Any) -> bool:
    """Failed at a Fail state, as the definition intends on this path."""
    entered = [e for e in result.history if e.type.endswith("StateEntered")]
    return (
        result.status == "FAILED"
        and result.error not in rules.TERMINAL
        and bool(entered)
        and entered[-1].type == "FailStateEntered"
    )


def ended(result: Any) -> int:
    return 2 if result.succeeded else 1 if designed_end(result) else 0


def ending(result: Any) -> str:
    if result is None:
        return "it was not run"
    detail = ": ".join(str(p) for p in (result.error, result.cause) if p)
    return f"its best run ended {result.status} ({detail[:300]})"


def progress(result: Any) -> int:
    """How far a run got: the states it completed."""
    return sum(1 for event in result.history if event.type.endswith("StateExited"))


def signature(result: Any) -> tuple[Any, ...]:
    missing = missing_path(result.cause or "")
    where = None if missing is None else (missing[0], tuple(missing[1]), missing[2])
    names = entered(result)
    return (result.status, result.error, where, names[-1] if names else None)


def value_at(result: Any, choice: str, text: str) -> Any:
    """The value of an input path or variable as ``choice`` last saw it in ``result``."""
    ref = forcing.reference(text)
    if result is None or ref is None:
        return rules.MISSING
    variable, keys = ref
    value: Any = rules.MISSING
    for event in result.history:
        details = event.details or {}
        if (
            variable is None
            and event.type == "ChoiceStateEntered"
            and details.get("name") == choice
        ):
            value = details.get("input")
        elif variable is not None and variable in (details.get("assignedVariables") or {}):
            value = details["assignedVariables"][variable]
    return forcing.get(value, keys, rules.MISSING)
