"""Tests for asl.template: payload templates (Parameters, ResultSelector, Assign...)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from asl.errors import ExpressionSyntaxError, StatesError
from asl.template import Template, compile_template

CONTEXT: dict[str, Any] = {"Execution": {"Id": "arn:exec"}, "Map": {"Item": {"Index": 3}}}
VARIABLES: dict[str, Any] = {"x": 42, "cfg": {"n": [1, 2]}}


@dataclass(frozen=True)
class FakeIntrinsic:
    """Stands in for asl.intrinsics: returns its text and the input it saw."""

    text: str

    def evaluate(self, data: Any, context: Any, variables: Mapping[str, Any]) -> Any:
        return {"called": self.text, "with": data}


def compile_fake(value: Any, field: str = "Parameters") -> Template:
    return compile_template(value, field=field, intrinsic_compiler=FakeIntrinsic)


def run(value: Any, data: Any) -> Any:
    return compile_fake(value).evaluate(data, CONTEXT, VARIABLES)


def test_paths_are_evaluated_and_keys_renamed() -> None:
    template = {"a.$": "$.x", "b": "$.x", "c.$": "$$.Execution.Id", "d.$": "$x"}
    assert run(template, {"x": 7}) == {"a": 7, "b": "$.x", "c": "arn:exec", "d": 42}


def test_key_order_is_kept() -> None:
    out = run({"z": 1, "y.$": "$.v", "x": 2}, {"v": 0})
    assert list(out) == ["z", "y", "x"]


def test_nested_objects_and_arrays_are_evaluated() -> None:
    template = {
        "Overrides": {
            "ContainerOverrides": [
                {"Name": "app", "Environment": [{"Name": "ID", "Value.$": "$.id"}]},
                "literal",
                ["deep", {"i.$": "$$.Map.Item.Index"}],
            ]
        }
    }
    assert run(template, {"id": "abc"}) == {
        "Overrides": {
            "ContainerOverrides": [
                {"Name": "app", "Environment": [{"Name": "ID", "Value": "abc"}]},
                "literal",
                ["deep", {"i": 3}],
            ]
        }
    }


def test_indefinite_paths_give_lists() -> None:
    assert run({"all.$": "$.a[*].b", "none.$": "$.a[?(@.b > 5)]"}, {"a": [{"b": 1}]}) == {
        "all": [1],
        "none": [],
    }


def test_constant_template_is_its_constant_and_is_shared() -> None:
    value = {"a": [1, {"b": 2.5}], "c": None}
    template = compile_fake(value)
    assert template.is_constant
    first = template.evaluate({}, CONTEXT, VARIABLES)
    assert first == value
    assert template.evaluate({"other": 1}, CONTEXT, VARIABLES) is first


def test_constant_subtrees_are_shared_between_evaluations() -> None:
    template = compile_fake({"k.$": "$.v", "const": {"big": [1, 2, 3]}})
    assert not template.is_constant
    one = template.evaluate({"v": 1}, CONTEXT, VARIABLES)
    two = template.evaluate({"v": 2}, CONTEXT, VARIABLES)
    assert one["const"] is two["const"]
    assert (one["k"], two["k"]) == (1, 2)


def test_compiling_does_not_alias_the_definition() -> None:
    inner: list[int] = [1]
    definition: dict[str, Any] = {"const": {"a": inner}, "k.$": "$"}
    template = compile_fake(definition)
    inner.append(2)
    assert template.evaluate({}, CONTEXT, VARIABLES)["const"] == {"a": [1]}


def test_scalars_and_ints_are_kept() -> None:
    assert run({"i": 1, "f": 1.5, "b": True, "n": None, "s": "x"}, {}) == {
        "i": 1,
        "f": 1.5,
        "b": True,
        "n": None,
        "s": "x",
    }
    assert isinstance(run({"i.$": "$.i"}, {"i": 3})["i"], int)
    assert run([1, "a"], {}) == [1, "a"]
    assert run("text", {}) == "text"


def test_evaluation_does_not_mutate_the_input() -> None:
    data = {"a": {"b": [1, 2]}}
    before = copy.deepcopy(data)
    out = run({"x.$": "$.a", "y.$": "$"}, data)
    assert data == before
    assert out["x"] is data["a"]  # selected values are shared, not copied


def test_intrinsic_functions_are_compiled_with_the_given_compiler() -> None:
    out = run({"f.$": "States.Format('{}', $.x)"}, {"x": 1})
    assert out == {"f": {"called": "States.Format('{}', $.x)", "with": {"x": 1}}}


def test_default_intrinsic_compiler_is_asl_intrinsics() -> None:
    pytest.importorskip("asl.intrinsics")
    out = compile_template({"a.$": "States.StringToJson($.s)"}).evaluate(
        {"s": '{"k":1}'}, CONTEXT, VARIABLES
    )
    assert out == {"a": {"k": 1}}


def test_missing_path_is_states_runtime_with_aws_wording() -> None:
    # Recorded on AWS: "The JSONPath '$.JobName' specified for the field 'JobName.$' could
    # not be found in the input '{}'".
    with pytest.raises(StatesError) as caught:
        run({"JobName.$": "$.JobName"}, {})
    assert caught.value.error == "States.Runtime"
    assert caught.value.cause == (
        "The JSONPath '$.JobName' specified for the field 'JobName.$' could not be found "
        "in the input '{}'"
    )


def test_missing_path_prints_the_input_as_compact_json() -> None:
    with pytest.raises(StatesError) as caught:
        run({"outer": [{"v.$": "$.a.missing"}]}, {"a": {"b": [1, "é"]}})
    assert caught.value.cause == (
        "The JSONPath '$.a.missing' specified for the field 'v.$' could not be found "
        'in the input \'{"a":{"b":[1,"é"]}}\''
    )


def test_missing_context_path_prints_the_context_object() -> None:
    with pytest.raises(StatesError) as caught:
        run({"v.$": "$$.Nope"}, {"input": 1})
    assert "specified for the field 'v.$'" in (caught.value.cause or "")
    assert '"Execution"' in (caught.value.cause or "")


def test_null_input_path_is_states_runtime() -> None:
    with pytest.raises(StatesError) as caught:
        run({"Input.$": "$"}, None)
    assert caught.value.error == "States.Runtime"
    assert caught.value.cause == "Unable to apply Path transformation to null or empty input."


def test_null_input_is_fine_for_context_and_variables() -> None:
    assert run({"c.$": "$$.Execution.Id", "v.$": "$x"}, None) == {"c": "arn:exec", "v": 42}


@pytest.mark.parametrize(
    "template",
    [
        {"a": 1, "a.$": "$.x"},
        {"a.$": "$.x", "a": 1},
        {"outer": [{"k": 1, "k.$": "$"}]},
    ],
)
def test_duplicate_keys_after_renaming_are_rejected(template: Any) -> None:
    with pytest.raises(ExpressionSyntaxError, match="Duplicate field name"):
        compile_fake(template)


@pytest.mark.parametrize("value", [1, None, True, ["$.x"], {"a": "$.x"}])
def test_dollar_key_with_a_non_string_value_is_rejected(value: Any) -> None:
    with pytest.raises(ExpressionSyntaxError, match="is not a JSONPath or intrinsic function"):
        compile_fake({"p.$": value})


@pytest.mark.parametrize("value", ["missing", "", "states.Format()", " $.x"])
def test_dollar_key_with_other_text_is_rejected(value: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_fake({"p.$": value}, field="ResultSelector")
    assert caught.value.message == (
        'Field "p.$" of ResultSelector is not a JSONPath or intrinsic function expression'
    )


def test_bad_path_syntax_is_rejected_at_compile_time() -> None:
    with pytest.raises(ExpressionSyntaxError):
        compile_fake({"p.$": "$.a["})


def test_field_name_is_recorded() -> None:
    assert compile_fake({}, field="ItemSelector").field == "ItemSelector"


def test_shared_templates_compile_each_object_once_and_only_inside_the_block() -> None:
    from asl.template import shared_templates

    value = {"a.$": "$.x", "b": 1}
    assert compile_template(value) is not compile_template(value)
    with shared_templates():
        first = compile_template(value, field="Parameters")
        assert compile_template(value, field="Parameters") is first
        # Another field (its messages differ) or an equal copy compiles anew.
        assert compile_template(value, field="ResultSelector") is not first
        assert compile_template(dict(value), field="Parameters") is not first
        bad = {"a.$": 3}
        for _ in range(2):  # a refusal is raised every time, never remembered as a result
            with pytest.raises(ExpressionSyntaxError):
                compile_template(bad)
    assert compile_template(value, field="Parameters") is not first
    assert first.evaluate({"x": 5}, {}, {}) == {"a": 5, "b": 1}
