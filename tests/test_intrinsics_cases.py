"""Intrinsic functions against the recorded AWS conformance cases, plus property tests.

For every single-state case whose Pass ``Parameters`` (or Fail ``ErrorPath``/``CausePath``)
use intrinsic calls, evaluate the template fields directly and compare with what AWS
returned.
"""

from __future__ import annotations

import contextlib
import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.errors import ExpressionSyntaxError, StatesError
from asl.intrinsics import FUNCTION_NAMES, compile_intrinsic, looks_like_intrinsic
from asl.intrinsics.functions import FUNCTIONS
from asl.intrinsics.nodes import Call, Literal
from asl.paths import compile_path

CASES = Path("/work/shared/conformance/cases")


def _single_state(case: dict[str, Any]) -> dict[str, Any] | None:
    definition = case["definition"]
    states = definition.get("States", {})
    if case.get("query_language", "JSONPath") != "JSONPath" or len(states) != 1:
        return None
    state: dict[str, Any] = next(iter(states.values()))
    if state["Type"] == "Pass" and set(state) <= {"Type", "Parameters", "End", "Comment"}:
        return state
    if state["Type"] == "Fail" and {"ErrorPath", "CausePath"} <= set(state):
        return state
    return None


def _uses_intrinsics(state: dict[str, Any]) -> bool:
    values = [*state.get("Parameters", {}).values(), state.get("ErrorPath"), state.get("CausePath")]
    return any(isinstance(v, str) and looks_like_intrinsic(v) for v in values)


def _load_cases() -> list[Any]:
    found = []
    for file in sorted(CASES.glob("*.json")):
        case = json.loads(file.read_text())
        state = _single_state(case)
        if state is not None and _uses_intrinsics(state):
            found.append(pytest.param(case, state, id=case["id"]))
    return found


def _field(text: str, data: Any, context: Any) -> Any:
    if looks_like_intrinsic(text):
        return compile_intrinsic(text).evaluate(data, context, {})
    return compile_path(text).get(data, context, {})


def _parameters(template: dict[str, Any], data: Any, context: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in template.items():
        if key.endswith(".$"):
            out[key[:-2]] = _field(value, data, context)
        else:
            out[key] = value
    return out


CONFORMANCE = _load_cases()


def test_conformance_cases_were_found() -> None:
    assert len(CONFORMANCE) >= 90


@pytest.mark.parametrize(("case", "state"), CONFORMANCE)
def test_conformance_case(case: dict[str, Any], state: dict[str, Any]) -> None:
    data = case["input"]
    context = {"Execution": {"Input": data}}
    expected = case["expected"]
    if state["Type"] == "Fail":
        assert _field(state["ErrorPath"], data, context) == expected["error"]
        assert _field(state["CausePath"], data, context) == expected["cause"]
        return
    assert expected["status"] == "SUCCEEDED"
    assert _parameters(state["Parameters"], data, context) == expected["output"]


# -- properties ----------------------------------------------------------------------------

_ALPHABET = string.ascii_letters + string.digits + "$.,()'\\{} -_[]@?*:\"\n"
_PIECES = st.sampled_from(
    [
        *sorted(FUNCTION_NAMES),
        "(",
        ")",
        ",",
        "'",
        "\\",
        "$",
        "$$",
        "$.a",
        "$x",
        "1",
        "-2.5",
        "1e3",
        "null",
        "true",
        " ",
        "'a{}'",
        "[",
        "]",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(_ALPHABET, max_size=40), st.lists(_PIECES, max_size=12).map("".join)))
def test_arbitrary_text_raises_only_syntax_errors(text: str) -> None:
    try:
        compiled = compile_intrinsic(text)
    except ExpressionSyntaxError as error:
        assert 0 <= error.position <= len(text)
        return
    with contextlib.suppress(StatesError):
        compiled.evaluate({"a": 1}, {}, {"x": 2})


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(FUNCTION_NAMES)), st.lists(_JSON, max_size=4))
def test_arbitrary_json_arguments_raise_only_states_errors(name: str, args: list[Any]) -> None:
    call = Call(FUNCTIONS[name], tuple(Literal(arg) for arg in args), f"{name}(...)")
    try:
        result = call.evaluate({}, {}, {})
    except StatesError as error:
        assert error.error == "States.Runtime"
        assert error.cause is not None and error.cause.startswith("There was an error")
        return
    json.dumps(result)  # every result is JSON
