"""compile_definition's private copy and remembered verdicts, and the validator's short cuts.

The verdict of a definition text is remembered, so these tests check that a second compile
says exactly what the first said, and that nothing the caller does to its dicts afterwards
reaches a compiled machine.
"""

from __future__ import annotations

import copy
import json
import pickle
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import asl
from asl import DefinitionError, compile_definition
from asl.validate.rules.references import reads
from asl.validate.rules.variables import _may_read_variables
from asl.validate.rules.walk import build_machine


def _pass(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True, **fields}}}


def test_the_machine_owns_its_definition() -> None:
    definition = _pass(Parameters={"x.$": "$.a", "k": [1, 2]}, Result={"r": 1})
    machine = compile_definition(definition)
    definition["States"]["A"]["Parameters"]["k"].append(3)
    definition["States"]["A"]["Result"]["r"] = 2
    definition["States"]["A"]["Type"] = "Fail"
    assert machine.definition == _pass(Parameters={"x.$": "$.a", "k": [1, 2]}, Result={"r": 1})
    assert machine.all_states["A"].raw["Type"] == "Pass"
    assert machine.all_states["A"].result == {"r": 1}  # type: ignore[attr-defined]


def test_a_second_compile_refuses_with_the_same_diagnostics() -> None:
    definition = _pass(Next="Nowhere", InputPath="$..[")
    with pytest.raises(DefinitionError) as first:
        compile_definition(definition)
    with pytest.raises(DefinitionError) as second:
        compile_definition(copy.deepcopy(definition))
    assert first.value.diagnostics == second.value.diagnostics
    assert str(first.value) == str(second.value)
    assert len(first.value.diagnostics) >= 2


def test_a_valid_definition_compiles_alike_twice() -> None:
    definition = _pass(Parameters={"x.$": "$$.Execution.Id"})
    one, two = compile_definition(definition), compile_definition(copy.deepcopy(definition))
    assert one is two  # the machine compiled from an equal text is remembered
    assert one.all_states["A"].uses_context and two.all_states["A"].uses_context
    assert one.all_states["A"] == two.all_states["A"]


def test_key_order_is_part_of_the_definition() -> None:
    first = compile_definition(_pass(Parameters={"a": 1, "b": 2}))
    second = compile_definition(_pass(Parameters={"b": 2, "a": 1}))
    assert list(first.all_states["A"].raw["Parameters"]) == ["a", "b"]
    assert list(second.all_states["A"].raw["Parameters"]) == ["b", "a"]


def test_a_definition_json_cannot_copy_is_used_as_given() -> None:
    # A tuple is not a JSON array to the validator: it must be refused every time, never
    # mistaken for the list a JSON round trip would make of it.
    definition: dict[str, Any] = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    good = compile_definition({**definition, "Comment": "x"})
    odd = {"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": ()}}}
    for _ in range(2):
        with pytest.raises(DefinitionError):
            compile_definition(odd)
    assert good.comment == "x"


def test_remembered_verdicts_are_bounded() -> None:
    for index in range(asl._VERDICTS_KEPT + 10):
        compile_definition(_pass(Comment=f"c{index}"))
    assert len(asl._VERDICTS) <= asl._VERDICTS_KEPT


_TEXT = st.text(alphabet="ab_é$.[]'(), \"\\", max_size=10)
_INTRINSIC = st.builds("States.Format('x', {})".format, _TEXT)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_TEXT, _INTRINSIC, st.builds("$a{}".format, _TEXT)), st.sampled_from("PIC"))
def test_the_read_prefilter_never_hides_a_read(text: str, where: str) -> None:
    """Whenever a field reads a variable, the whole-definition filter says one may."""
    state: dict[str, Any] = {"Type": "Pass", "End": True}
    if where == "P":
        state["Parameters"] = {"k.$": text}
    elif where == "I":
        state["InputPath"] = text
    else:
        state = {"Type": "Choice", "Choices": [{"Variable": text, "IsPresent": True}]}
        state["Choices"][0]["Next"] = "C"
    machine = build_machine({"StartAt": "C", "States": {"C": state}})
    if any(True for ref in machine.states for _ in reads(ref)):
        assert _may_read_variables(machine)


def test_an_equal_definition_reuses_the_machine_and_an_edited_one_does_not() -> None:
    definition = _pass(Parameters={"x.$": "$.a", "k": [1, 2]})
    first = compile_definition(definition)
    assert compile_definition(copy.deepcopy(definition)) is first
    definition["States"]["A"]["Parameters"]["k"].append(3)
    edited = compile_definition(definition)
    assert edited is not first
    assert edited.all_states["A"].raw["Parameters"]["k"] == [1, 2, 3]
    assert first.all_states["A"].raw["Parameters"]["k"] == [1, 2]


def test_a_remembered_machine_is_reused_only_for_the_same_json_values() -> None:
    # True == 1 and a tuple dumps like a list: neither may be taken for the other.
    flag = compile_definition(_pass(Result={"v": True}))
    one = compile_definition(_pass(Result={"v": 1}))
    assert one is not flag
    assert one.all_states["A"].result == {"v": 1}  # type: ignore[attr-defined]
    rule = {"Variable": "$.x", "IsPresent": True, "Next": "B"}

    def choice(rules: Any) -> dict[str, Any]:
        states = {"A": {"Type": "Choice", "Choices": rules}, "B": {"Type": "Succeed"}}
        return {"StartAt": "A", "States": states}

    compile_definition(choice([rule]))
    with pytest.raises(DefinitionError):
        compile_definition(choice((rule,)))


def _shared() -> dict[str, Any]:
    inner = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
    return {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Result": {"r": [1, 2]}, "ResultPath": "$.r", "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$.r.r", "ItemProcessor": inner, "End": True},
        },
    }


#: Changes a caller could make to the machine it got, each with what the refusal names.
_EDITS: list[tuple[str, Any, str]] = [
    ("states[...] =", lambda m: m.states.__setitem__("B", m.states["A"]), "set key 'B'"),
    ("del states[...]", lambda m: m.states.__delitem__("A"), "delete key 'A'"),
    ("all_states.pop", lambda m: m.all_states.pop("I"), "pop key 'I'"),
    ("root.states.clear", lambda m: m.root.states.clear(), "clear it"),
    ("processor states", lambda m: m.states["M"].processor.states.popitem(), "popitem"),
    ("definition[...] =", lambda m: m.definition.__setitem__("StartAt", "M"), "set key 'StartAt'"),
    ("definition.update", lambda m: m.definition["States"].update(B={}), "update it"),
    ("definition |=", lambda m: m.definition["States"].__ior__({}), "update it (|=)"),
    ("raw.setdefault", lambda m: m.states["A"].raw.setdefault("Comment", "x"), "setdefault"),
    ("Result edit", lambda m: m.states["A"].result.__setitem__("r", 0), "set key 'r'"),
    ("Result list", lambda m: m.states["A"].result["r"].append(3), "append to it"),
    ("Result item", lambda m: m.states["A"].raw["Result"]["r"].__setitem__(0, 9), "set item 0"),
    ("list +=", lambda m: m.states["A"].result["r"].__iadd__([3]), "extend it (+=)"),
    ("list sort", lambda m: m.states["A"].result["r"].sort(), "sort it"),
    ("list del", lambda m: m.states["A"].result["r"].__delitem__(0), "delete item 0"),
    ("state field", lambda m: setattr(m.states["A"], "next", None), "cannot assign"),
]


@pytest.mark.parametrize(("label", "edit", "named"), _EDITS, ids=[e[0] for e in _EDITS])
def test_a_shared_machine_refuses_edits_naming_them(label: str, edit: Any, named: str) -> None:
    from runtime import run_sync

    first = compile_definition(_shared())
    second = compile_definition(_shared())
    assert first is second  # one machine for both callers: so it must not change
    with pytest.raises((TypeError, AttributeError), match=re.escape(named)):
        edit(first)
    assert second.definition == _shared()
    assert list(second.states) == ["A", "M"] and set(second.all_states) == {"A", "M", "I"}
    result = run_sync(second, {"x": 1})
    assert result.output == [1, 2]


def test_a_machine_copies_to_plain_json() -> None:
    machine = compile_definition(_shared())
    assert json.dumps(machine.definition) == json.dumps(_shared())
    edited = copy.deepcopy(machine.definition)
    edited["States"]["A"]["Result"]["r"].append(3)  # a plain copy: the caller's own
    assert type(edited["States"]) is dict and type(edited["States"]["A"]["Result"]["r"]) is list
    assert compile_definition(edited).states["A"].result == {"r": [1, 2, 3]}  # type: ignore[attr-defined]
    assert machine.states["A"].result == {"r": [1, 2]}  # type: ignore[attr-defined]
    shallow = copy.copy(machine.states)
    shallow.pop("A")
    assert list(machine.states) == ["A", "M"]


def test_a_pickled_machine_stays_read_only() -> None:
    machine = compile_definition(_shared())
    again = pickle.loads(pickle.dumps(machine))  # as sent to Distributed Map workers
    assert again.definition == machine.definition and list(again.all_states) == ["A", "I", "M"]
    with pytest.raises(TypeError, match="read-only"):
        again.states["A"].result["r"].append(3)  # type: ignore[attr-defined]


def test_remembered_machines_are_bounded() -> None:
    for index in range(asl._MACHINES_KEPT + 10):
        compile_definition(_pass(Comment=f"m{index}"))
    assert len(asl._MACHINES) <= asl._MACHINES_KEPT
    held = sum(len(machine.all_states) for machine in asl._MACHINES.values())
    assert held <= asl._MACHINE_STATES_KEPT


def test_compile_machine_names_the_field_it_refuses() -> None:
    # compile_machine first compiles without keeping locations; a refusal is compiled again
    # with them, so the diagnostic still points at the field.
    from asl.compiler import compile_machine

    inner = {"StartAt": "B", "States": {"B": {"Type": "Pass", "OutputPath": "$..[", "End": True}}}
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Parallel", "Branches": [inner], "End": True}},
    }
    with pytest.raises(DefinitionError) as refused:
        compile_machine(definition)
    [diag] = refused.value.diagnostics
    assert diag.code == "INVALID_EXPRESSION"
    assert diag.location == "/States/P/Branches/0/States/B/OutputPath"
