"""The fast schema predicate never says "valid" where jsonschema would find an error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.validate.quickschema import compile_definitions
from asl.validate.rules.walk import build_machine
from asl.validate.schema import _certainly_valid, _validator, load_schema

_DEFS = sorted(load_schema()["$defs"])
_WORKLOADS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "workloads"

_FIELDS = sorted(
    {key for sub in load_schema()["$defs"].values() for key in sub.get("properties", {})}
)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-3, max_value=10**9)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.sampled_from(["", "$", "$.a", "{% 1 %}", "JSONPath", "JSONata", "States.ALL", "x"])
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from([*_FIELDS, "Bogus"]), inner, max_size=4)
    ),
    max_leaves=12,
)
_states = st.dictionaries(st.sampled_from([*_FIELDS, "Bogus"]), _values, max_size=8)


def _jsonschema_valid(definition: str, instance: Any) -> bool:
    return not any(True for _ in _validator(definition).iter_errors(instance))


@settings(max_examples=300, deadline=None)
@given(definition=st.sampled_from(_DEFS), instance=_states | _values)
def test_certainly_valid_implies_jsonschema_valid(definition: str, instance: Any) -> None:
    if _certainly_valid()(definition)(instance):
        assert _jsonschema_valid(definition, instance), (definition, instance)


@pytest.mark.parametrize(
    ("definition", "instance"),
    [
        ("Task.JSONPath", {"Type": "Task", "Resource": "a", "End": True, "TimeoutSeconds": 1.0}),
        ("Task.JSONPath", {"Type": "Task", "Resource": "a", "End": True, "TimeoutSeconds": 0}),
        ("Task.JSONPath", {"Type": "Task", "End": True}),
        ("Task.JSONPath", {"Type": "Task", "Resource": "a", "End": 1}),
        ("Task.JSONPath", {"Type": "Task", "Resource": "a", "Retry": [{"ErrorEquals": []}]}),
        ("Pass.JSONPath", {"Type": "Pass", "Bogus": 1}),
        ("Pass.JSONPath", {"Type": "Pass", "QueryLanguage": "XPath"}),
        ("Wait.JSONata", {"Type": "Wait", "Seconds": "{% 1 %}", "End": True}),
        ("Wait.JSONata", {"Type": "Wait", "Seconds": "1", "End": True}),
        ("StateMachine", {"StartAt": "A", "States": {}}),
        ("StateMachine", {"StartAt": "A", "States": {"A": {}}, "TimeoutSeconds": True}),
    ],
)
def test_predicate_agrees_or_defers_on_edge_cases(definition: str, instance: Any) -> None:
    quick = _certainly_valid()(definition)(instance)
    assert not quick or _jsonschema_valid(definition, instance)


def test_unknown_keywords_and_subclasses_defer_to_jsonschema() -> None:
    lookup = compile_definitions(
        {"$defs": {"odd": {"type": "string", "format": "date"}, "obj": {"type": "object"}}}
    )
    assert not lookup("odd")("2026-01-01")  # 'format' is not understood: unsure
    assert not lookup("missing")({})

    class Odd(dict[str, Any]):
        pass

    assert lookup("obj")({}) and not lookup("obj")(Odd())


@pytest.mark.parametrize("name", ["pass_chain", "parallel_fanout", "intrinsics_heavy"])
def test_workload_states_take_the_fast_path(name: str) -> None:
    path = _WORKLOADS / f"{name}.asl.json"
    if not path.exists():
        pytest.skip("shared bench workloads not present")
    definition = json.loads(path.read_text())
    machine = build_machine(definition)
    assert _certainly_valid()("StateMachine")(definition)
    for state in machine.states:
        assert _certainly_valid()(f"{state.type}.{state.language}")(state.body), state.name
