"""Compiled steps (runtime.engine.states.STEPS) against the handlers they stand for.

A JSONPath Pass, Choice or Succeed state runs as one closure built once per state; an
inspected execution still takes the handlers. Both must write the same history, down to
every field, and fail the same way. The Pass step also bounds its output's size instead
of measuring it, and inlines its Parameters template after a few visits
(:func:`asl.template.inline_template`): the bound must never be below the real size,
and the inlined template must give the tree's value or the tree's error.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asl.errors import StatesError
from asl.paths import compile_path
from asl.template import compile_template, inline_template
from runtime import VirtualClock, load_machine, run_sync
from runtime.engine.errors import MAX_PAYLOAD_BYTES, DataLimitExceeded, payload_bytes
from runtime.engine.states import pass_step


def _outcome(definition: dict[str, Any], data: Any, inspect: bool, runs: int = 1) -> list[Any]:
    machine = load_machine(definition)
    seen = []
    for _ in range(runs):  # the same compiled machine again: steps inline after a visit
        result = run_sync(
            machine, data, name="steps", inspect=inspect, clock=VirtualClock(1767225600.0)
        )
        history = [event.to_aws() for event in result.history]
        seen.append((result.status, result.output, result.error, result.cause, history))
    return seen


def _loop(body: dict[str, Any], times: int = 3) -> dict[str, Any]:
    """``body`` (a state named Body) run ``times`` times by a counting Choice."""
    return {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Result": 0, "ResultPath": "$.n", "Next": "Check"},
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericLessThan": times, "Next": "Body"}],
                "Default": "Done",
            },
            "Body": body,
            "Count": {
                "Type": "Pass",
                "Parameters": {"v.$": "States.MathAdd($.n, 1)"},
                "ResultPath": "$.count",
                "Next": "Put",
            },
            "Put": {"Type": "Pass", "InputPath": "$.count.v", "ResultPath": "$.n", "Next": "Check"},
            "Done": {"Type": "Succeed"},
        },
    }


def _body(**fields: Any) -> dict[str, Any]:
    return {"Type": "Pass", "Next": "Count", **fields}


_BODIES: dict[str, dict[str, Any]] = {
    "parameters into a result path": _body(
        Parameters={"k": 1, "prev.$": "$.n", "tags.$": "$.doc.tags", "deep": {"x.$": "$.doc"}},
        ResultPath="$.out",
    ),
    "parameters as the output": _body(Parameters={"n.$": "$.n", "doc.$": "$.doc", "x": [1]}),
    "a constant template as the output": {"Type": "Pass", "Parameters": {"n": 3}, "Next": "Count"},
    "a deep result path made on the way": _body(
        Parameters={"a.$": "$.doc.a"}, ResultPath="$.made.on['the way'].here"
    ),
    "an index path and an intrinsic": _body(
        Parameters={"second.$": "$.doc.tags[1]", "f.$": "States.Format('{}-{}', $.n, $.doc.a)"},
        ResultPath="$.out",
    ),
    "input, result and output paths": _body(
        InputPath="$.doc", Result={"r": [1, 2]}, ResultPath="$.res", OutputPath="$.res"
    ),
    "result path null": _body(Parameters={"x.$": "$.doc"}, ResultPath=None),
    "input path null": _body(InputPath=None, ResultPath="$.empty"),
    "the context object": _body(
        Parameters={"name.$": "$$.State.Name", "at.$": "$$.State.EnteredTime"},
        ResultPath="$.ctx",
    ),
    "assigned variables": _body(
        Parameters={"a.$": "$.doc.a"},
        ResultPath="$.out",
        Assign={"last.$": "$.a", "whole.$": "$$.State.Name"},
    ),
    "a missing path": _body(Parameters={"x.$": "$.doc.nothing"}, ResultPath="$.out"),
    "a result path into a string": _body(Parameters={"x": 1}, ResultPath="$.doc.a.b"),
    "a missing output path": _body(OutputPath="$.nowhere"),
    "a variable that is not set": _body(Parameters={"x.$": "$unset"}, ResultPath="$.out"),
}


@pytest.mark.parametrize("case", sorted(_BODIES))
def test_a_pass_step_writes_what_its_handler_writes(case: str) -> None:
    definition = _loop(_BODIES[case])
    data = {"doc": {"a": "é1", "tags": ["x", "y"]}}
    assert _outcome(definition, data, inspect=False, runs=2) == _outcome(
        definition, data, inspect=True, runs=2
    )


_CHOICES: dict[str, dict[str, Any]] = {
    "a rule matches": {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.v", "NumericGreaterThan": 5, "Next": "Big"},
            {"Variable": "$.v", "NumericLessThanPath": "$.limit", "Next": "Small"},
        ],
        "Default": "Other",
    },
    "the default with assign and paths": {
        "Type": "Choice",
        "InputPath": "$.inner",
        "OutputPath": "$.w",
        "Choices": [{"Variable": "$.w", "StringEquals": "no", "Next": "Big"}],
        "Default": "Other",
        "Assign": {"seen.$": "$.w"},
    },
    "a rule's assign and the context": {
        "Type": "Choice",
        "Choices": [
            {
                "Variable": "$.v",
                "IsNumeric": True,
                "Next": "Small",
                "Assign": {"rule.$": "$$.State.Name", "v.$": "$.v"},
            }
        ],
        "Default": "Other",
    },
    "no rule and no default": {
        "Type": "Choice",
        "Choices": [{"Variable": "$.v", "StringEquals": "x", "Next": "Big"}],
    },
    "an invalid path": {
        "Type": "Choice",
        "Choices": [{"Variable": "$.nothing", "NumericEquals": 1, "Next": "Big"}],
        "Default": "Other",
    },
}


@pytest.mark.parametrize("case", sorted(_CHOICES))
@pytest.mark.parametrize("value", [1, 9, "text"])
def test_a_choice_step_writes_what_its_handler_writes(case: str, value: Any) -> None:
    targets = {
        "Big": {"Type": "Succeed", "OutputPath": "$.v"},
        "Small": {"Type": "Succeed", "InputPath": "$", "OutputPath": "$"},
        "Other": {"Type": "Pass", "Next": "End"},
    }
    states = {"C": _CHOICES[case]}
    states.update((name, s) for name, s in targets.items() if name in json.dumps(states["C"]))
    if "Other" in states:
        states["End"] = {"Type": "Succeed", "InputPath": "$.missing"}
    definition = {"StartAt": "C", "States": states}
    data = {"v": value, "limit": 4, "inner": {"w": "yes"}}
    assert _outcome(definition, data, inspect=False, runs=2) == _outcome(
        definition, data, inspect=True, runs=2
    )


def test_jsonata_states_take_their_handlers_and_write_the_same() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Output": "{% $states.input.a + 1 %}", "Next": "C"},
            "C": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input > 1 %}", "Next": "S"}],
                "Default": "S",
            },
            "S": {"Type": "Succeed"},
        },
    }
    assert _outcome(definition, {"a": 1}, False, 2) == _outcome(definition, {"a": 1}, True, 2)


# -- the output bound of a Pass step ----------------------------------------------------


class _Exe:
    """What a Pass step reads of an execution: the context and the events it writes."""

    def __init__(self) -> None:
        self.base_context: dict[str, Any] = {}
        self.events: list[tuple[str, Any]] = []

    def emit(self, frame: Any, type: str, details: Any) -> int:
        self.events.append((type, details))
        return len(self.events)


class _Frame:
    def __init__(self) -> None:
        self.view: dict[str, Any] = {}
        self.prev_time = 0.0


_KEYS = st.text(st.characters(blacklist_characters="'\\", codec="utf-8"), max_size=6)
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.dictionaries(_KEYS, _VALUES, max_size=5),
    path=st.lists(_KEYS, min_size=1, max_size=3),
    pad=st.sampled_from([0, 100, MAX_PAYLOAD_BYTES - 300, MAX_PAYLOAD_BYTES]),
    visits=st.integers(1, 3),
)
def test_the_pass_output_bound_is_never_below_the_real_size(
    data: dict[str, Any], path: list[str], pad: int, visits: int
) -> None:
    """The step answers the input's size plus the result's plus the path's instead of
    measuring the output; it must be sound, and an output over the quota must fail."""
    data = {**data, "pad": "x" * pad}
    result_path = "$" + "".join(f"['{key}']" for key in path)
    machine = load_machine(
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Pass",
                    "Parameters": {"got.$": "$", "k": "é"},
                    "ResultPath": result_path,
                    "End": True,
                }
            },
        }
    )
    step = pass_step(machine.states["P"])
    assert step is not None
    size = payload_bytes(data)
    for _ in range(visits):  # the template is inlined on a later visit
        try:
            _, output, bound = step(_Exe(), _Frame(), data, size, 1)  # type: ignore[arg-type]
        except DataLimitExceeded:
            effective = {"got": data, "k": "é"}
            if payload_bytes(effective) <= MAX_PAYLOAD_BYTES:  # else: the input's check
                output = compile_path(result_path).set(data, effective)
                assert payload_bytes(output) > MAX_PAYLOAD_BYTES
        except StatesError as exc:
            assert exc.error == "States.ResultPathMatchFailure"
        else:
            exact = payload_bytes(output)
            assert exact <= MAX_PAYLOAD_BYTES
            assert bound >= exact


@pytest.mark.parametrize("over", [-2, -1, 0, 1, 2])
def test_a_pass_step_fails_exactly_when_its_output_is_over_256_kib(over: int) -> None:
    """An input measured exactly, a Pass putting a small result at ``$.r``: the output
    is checked against the quota to the byte, on the first visit and on later ones."""
    result = {"v": "abc"}
    # {"pad":"xx..","r":{"v":"abc"}}: the pad's length sets the output's size.
    base = payload_bytes({"pad": "", "r": result})
    data = {"pad": "x" * (MAX_PAYLOAD_BYTES + over - base)}
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Parameters": {"v": "abc"}, "ResultPath": "$.r", "End": True}
        },
    }
    machine = load_machine(definition)
    step = pass_step(machine.states["P"])
    assert step is not None
    for _ in range(3):
        exe = _Exe()
        if over > 0:
            with pytest.raises(DataLimitExceeded):
                step(exe, _Frame(), data, payload_bytes(data), 1)  # type: ignore[arg-type]
            assert exe.events == []
        else:
            _, output, bound = step(exe, _Frame(), data, payload_bytes(data), 1)  # type: ignore[arg-type]
            assert payload_bytes(output) == MAX_PAYLOAD_BYTES + over
            assert bound >= payload_bytes(output)
            assert [type for type, _ in exe.events] == ["PassStateExited"]


# -- inlined templates ------------------------------------------------------------------

_PATHS = st.sampled_from(
    [
        "$",
        "$.a",
        "$.a.b",
        "$.list[0]",
        "$.list",
        "$['a']['b']",
        "$.missing",
        "$.a.missing",
        "$.s.x",
        "$$.Execution.Id",
        "$.list[*]",
        "$var",
        "$var.k",
        "$.n",
    ]
)
_CALLS = st.sampled_from(
    [
        "States.Format('{}', $.n)",
        "States.ArrayRange(1, 3, 1)",
        "States.MathAdd($.n, 1)",
        "States.JsonToString($.a)",
        "States.StringToJson($.s)",
        "States.Array($.a, 1)",
    ]
)


@st.composite
def _templates(draw: st.DrawFn, depth: int = 2) -> Any:
    keys = draw(st.lists(st.sampled_from(["p", "q", "r", "é"]), max_size=3, unique=True))
    out: dict[str, Any] = {}
    for key in keys:
        kind = draw(st.integers(0, 4 if depth else 2))
        if kind == 0:
            out[key] = draw(_VALUES)
        elif kind == 1:
            out[key + ".$"] = draw(_PATHS)
        elif kind == 2:
            out[key + ".$"] = draw(_CALLS)
        elif kind == 3:
            out[key] = draw(_templates(depth - 1))
        else:
            out[key] = [draw(_templates(depth - 1)), draw(_VALUES)]
    return out


_DATA = st.one_of(
    st.none(),
    st.just("text"),
    st.just([1, 2]),
    st.fixed_dictionaries(
        {},
        optional={
            "a": st.one_of(st.fixed_dictionaries({"b": _VALUES}), _VALUES),
            "list": st.lists(_VALUES, max_size=3),
            "n": st.one_of(st.integers(-5, 5), st.text(max_size=2)),
            "s": st.sampled_from(['{"x": 1}', "nope", ""]),
        },
    ),
)


def _evaluation(evaluate: Any, data: Any) -> Any:
    context = {"Execution": {"Id": "arn"}}
    variables = {"var": {"k": [1]}}
    try:
        return ("value", json.dumps(evaluate(data, context, variables)))
    except StatesError as exc:
        return ("error", type(exc), exc.error, exc.cause)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=_templates(), data=_DATA)
def test_an_inlined_template_gives_the_trees_value_or_error(template: Any, data: Any) -> None:
    compiled = compile_template(template)
    inlined = inline_template(compiled)
    assert _evaluation(inlined, data) == _evaluation(compiled.evaluate, data)


def test_templates_with_random_values_are_not_inlined() -> None:
    compiled = compile_template({"id.$": "States.UUID()", "a.$": "$.a"})
    assert inline_template(compiled) == compiled.evaluate
