"""Each rule, broken on purpose: the right code at the right location, in a readable message."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.validate import CODES, Diagnostic, validate


def machine(**states: Any) -> dict[str, Any]:
    """A machine whose first state is the start state."""
    return {"StartAt": next(iter(states)), "States": states}


PASS_END = {"Type": "Pass", "End": True}
TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
WAIT = {"Type": "Wait", "Seconds": 1, "End": True}
PROCESSOR = {"StartAt": "Inner", "States": {"Inner": dict(PASS_END)}}


def with_(base: dict[str, Any], **fields: Any) -> dict[str, Any]:
    result = copy.deepcopy(base)
    result.update(fields)
    return result


KEYS = [
    "StartAt",
    "States",
    "A",
    "B",
    "Type",
    "Next",
    "End",
    "Choices",
    "Variable",
    "And",
    "Not",
    "Branches",
    "ItemProcessor",
    "Catch",
    "Retry",
    "ErrorEquals",
    "Parameters",
    "a.$",
    "Assign",
    "QueryLanguage",
    "Default",
    "IsNull",
    "Label",
    "ItemBatcher",
]

# (id, definition, code, location, a fragment of the message)
BROKEN: list[tuple[str, dict[str, Any], str, str, str]] = [
    (
        "missing StartAt",
        {"States": {"A": PASS_END}},
        "SCHEMA_VALIDATION_FAILED",
        "",
        "Missing required field 'StartAt'",
    ),
    (
        "unknown top-level field",
        with_(machine(A=PASS_END), Foo=1),
        "SCHEMA_VALIDATION_FAILED",
        "/Foo",
        "not supported",
    ),
    (
        "bad StartAt",
        with_(machine(A=PASS_END), StartAt="B"),
        "MISSING_TRANSITION_TARGET",
        "/StartAt",
        "'B'",
    ),
    (
        "bad Next",
        machine(A={"Type": "Pass", "Next": "Dne"}, Done=PASS_END),
        "MISSING_TRANSITION_TARGET",
        "/States/A/Next",
        "did you mean 'Done'?",
    ),
    (
        "bad Default",
        machine(
            C={
                "Type": "Choice",
                "Default": "X",
                "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "E"}],
            },
            E=PASS_END,
        ),
        "MISSING_TRANSITION_TARGET",
        "/States/C/Default",
        "'X'",
    ),
    (
        "bad Catch Next",
        machine(T=with_(TASK, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Nope"}])),
        "MISSING_TRANSITION_TARGET",
        "/States/T/Catch/0/Next",
        "'Nope'",
    ),
    (
        "Next out of a branch",
        machine(
            P={
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "In",
                        "States": {"In": {"Type": "Pass", "Next": "P"}, "X": PASS_END},
                    }
                ],
            }
        ),
        "MISSING_TRANSITION_TARGET",
        "/States/P/Branches/0/States/In/Next",
        "another scope",
    ),
    (
        "unreachable",
        machine(A=PASS_END, B=PASS_END),
        "MISSING_TRANSITION_TARGET",
        "/States/B",
        'State "B" is not reachable',
    ),
    (
        "no terminal state",
        machine(A={"Type": "Pass", "Next": "A"}),
        "MISSING_END_STATE",
        "/States",
        "No terminal state",
    ),
    (
        "duplicate name across scopes",
        machine(
            M={
                "Type": "Map",
                "End": True,
                "ItemProcessor": {"StartAt": "M", "States": {"M": PASS_END}},
            }
        ),
        "DUPLICATE_STATE_NAME",
        "/States/M/ItemProcessor/States/M",
        "Duplicate state name 'M'",
    ),
    (
        "name too long",
        machine(**{"N" * 81: PASS_END}),
        "INVALID_STATE_NAME",
        "/States/" + "N" * 81,
        "81",
    ),
    (
        "neither Next nor End",
        machine(A={"Type": "Pass"}),
        "SCHEMA_VALIDATION_FAILED",
        "/States/A",
        "either 'Next'",
    ),
    (
        "both Next and End",
        machine(A={"Type": "Pass", "Next": "A", "End": True}),
        "SCHEMA_VALIDATION_FAILED",
        "/States/A/End",
        "both",
    ),
    (
        "unknown state field with typo",
        machine(A=with_(PASS_END, ResultPth="$.x")),
        "SCHEMA_VALIDATION_FAILED",
        "/States/A/ResultPth",
        "did you mean 'ResultPath'?",
    ),
    (
        "a comparison with '.$' instead of its Path form",
        machine(
            C={
                "Type": "Choice",
                "Choices": [{"Variable": "$.a", "NumericGreaterThanEquals.$": "$.b", "Next": "D"}],
                "Default": "D",
            },
            D={"Type": "Succeed"},
        ),
        "SCHEMA_VALIDATION_FAILED",
        "/States/C/Choices/0/NumericGreaterThanEquals.$",
        "use 'NumericGreaterThanEqualsPath'",
    ),
    (
        "field of another state type",
        machine(A=with_(WAIT, ResultPath="$.x")),
        "SCHEMA_VALIDATION_FAILED",
        "/States/A/ResultPath",
        "not supported in a Wait state",
    ),
    (
        "bad Type",
        machine(A={"Type": "Tsk", "End": True}),
        "SCHEMA_VALIDATION_FAILED",
        "/States/A/Type",
        "must be one of",
    ),
    (
        "Choice with Next",
        machine(
            C={
                "Type": "Choice",
                "Next": "E",
                "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "E"}],
            },
            E=PASS_END,
        ),
        "SCHEMA_VALIDATION_FAILED",
        "/States/C/Next",
        "not supported in a Choice state",
    ),
    (
        "wrong type",
        machine(A=with_(TASK, TimeoutSeconds="10")),
        "SCHEMA_VALIDATION_FAILED",
        "/States/A/TimeoutSeconds",
        "must be an integer",
    ),
    (
        "out of range",
        machine(A=with_(TASK, Retry=[{"ErrorEquals": ["X"], "BackoffRate": 0.5}])),
        "SCHEMA_VALIDATION_FAILED",
        "/States/A/Retry/0/BackoffRate",
        "at least 1",
    ),
    (
        "MaxDelaySeconds range",
        machine(A=with_(TASK, Retry=[{"ErrorEquals": ["X"], "MaxDelaySeconds": 31622401}])),
        "SCHEMA_VALIDATION_FAILED",
        "/States/A/Retry/0/MaxDelaySeconds",
        "at most 31622400",
    ),
    (
        "JSONPath field in JSONata state",
        machine(A=with_(PASS_END, QueryLanguage="JSONata", Parameters={})),
        "SCHEMA_VALIDATION_FAILED",
        "/States/A/Parameters",
        "use Arguments instead",
    ),
    (
        "JSONata field in JSONPath state",
        machine(A=with_(PASS_END, Output={})),
        "SCHEMA_VALIDATION_FAILED",
        "/States/A/Output",
        "only supported when",
    ),
    (
        "JSONPath state in JSONata machine",
        with_(machine(A=with_(PASS_END, QueryLanguage="JSONPath")), QueryLanguage="JSONata"),
        "SCHEMA_VALIDATION_FAILED",
        "/States/A/QueryLanguage",
        "cannot use JSONPath",
    ),
    (
        "Wait without duration",
        machine(W={"Type": "Wait", "End": True}),
        "SCHEMA_VALIDATION_FAILED",
        "/States/W",
        "exactly one of",
    ),
    (
        "Wait with two durations",
        machine(W=with_(WAIT, TimestampPath="$.t")),
        "SCHEMA_VALIDATION_FAILED",
        "/States/W/TimestampPath",
        "both",
    ),
    (
        "Timeout pair",
        machine(T=with_(TASK, TimeoutSeconds=5, TimeoutSecondsPath="$.t")),
        "SCHEMA_VALIDATION_FAILED",
        "/States/T/TimeoutSecondsPath",
        "both",
    ),
    (
        "Heartbeat not below timeout",
        machine(T=with_(TASK, TimeoutSeconds=5, HeartbeatSeconds=5)),
        "SCHEMA_VALIDATION_FAILED",
        "/States/T/HeartbeatSeconds",
        "smaller than",
    ),
    (
        "Fail Error pair",
        machine(F={"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}),
        "SCHEMA_VALIDATION_FAILED",
        "/States/F/ErrorPath",
        "both",
    ),
    (
        "Fail Cause pair",
        machine(F={"Type": "Fail", "Cause": "E", "CausePath": "$.e"}),
        "SCHEMA_VALIDATION_FAILED",
        "/States/F/CausePath",
        "both",
    ),
    (
        "Map without processor",
        machine(M={"Type": "Map", "End": True}),
        "SCHEMA_VALIDATION_FAILED",
        "/States/M",
        "'ItemProcessor', 'Iterator'",
    ),
    (
        "Map ItemSelector and Parameters",
        machine(
            M={
                "Type": "Map",
                "End": True,
                "ItemProcessor": PROCESSOR,
                "ItemSelector": {},
                "Parameters": {},
            }
        ),
        "SCHEMA_VALIDATION_FAILED",
        "/States/M/Parameters",
        "both",
    ),
    (
        "Map tolerated pair",
        machine(
            M={
                "Type": "Map",
                "End": True,
                "ItemProcessor": PROCESSOR,
                "ToleratedFailureCount": 1,
                "ToleratedFailureCountPath": "$.n",
            }
        ),
        "SCHEMA_VALIDATION_FAILED",
        "/States/M/ToleratedFailureCountPath",
        "both",
    ),
    (
        "ItemBatcher without limit",
        machine(M={"Type": "Map", "End": True, "ItemProcessor": PROCESSOR, "ItemBatcher": {}}),
        "SCHEMA_VALIDATION_FAILED",
        "/States/M/ItemBatcher",
        "at least one",
    ),
    (
        "States.ALL not alone",
        machine(T=with_(TASK, Retry=[{"ErrorEquals": ["States.ALL", "X"]}])),
        "SCHEMA_VALIDATION_FAILED",
        "/States/T/Retry/0/ErrorEquals",
        "alone",
    ),
    (
        "States.ALL not last",
        machine(
            T=with_(
                TASK,
                Catch=[
                    {"ErrorEquals": ["States.ALL"], "Next": "T"},
                    {"ErrorEquals": ["X"], "Next": "T"},
                ],
            )
        ),
        "SCHEMA_VALIDATION_FAILED",
        "/States/T/Catch/0/ErrorEquals",
        "last",
    ),
    (
        "reserved error name",
        machine(T=with_(TASK, Retry=[{"ErrorEquals": ["States.Timout"]}])),
        "INVALID_ERROR_NAME",
        "/States/T/Retry/0/ErrorEquals/0",
        "did you mean 'States.Timeout'?",
    ),
    (
        "two comparison operators",
        machine(
            C={
                "Type": "Choice",
                "Default": "E",
                "Choices": [{"Variable": "$.a", "IsNull": True, "IsString": True, "Next": "E"}],
            },
            E=PASS_END,
        ),
        "SCHEMA_VALIDATION_FAILED",
        "/States/C/Choices/0",
        "exactly one comparison",
    ),
    (
        "no comparison operator",
        machine(
            C={"Type": "Choice", "Default": "E", "Choices": [{"Variable": "$.a", "Next": "E"}]},
            E=PASS_END,
        ),
        "SCHEMA_VALIDATION_FAILED",
        "/States/C/Choices/0",
        "found none",
    ),
    (
        "nested Next",
        machine(
            C={
                "Type": "Choice",
                "Default": "E",
                "Choices": [{"Not": {"Variable": "$.a", "IsNull": True, "Next": "E"}, "Next": "E"}],
            },
            E=PASS_END,
        ),
        "SCHEMA_VALIDATION_FAILED",
        "/States/C/Choices/0/Not/Next",
        "Only top-level",
    ),
    (
        "top-level rule without Next",
        machine(
            C={"Type": "Choice", "Default": "E", "Choices": [{"Variable": "$.a", "IsNull": True}]},
            E=PASS_END,
        ),
        "SCHEMA_VALIDATION_FAILED",
        "/States/C/Choices/0",
        "must have 'Next'",
    ),
    (
        "JSONata rule without Condition",
        with_(
            machine(C={"Type": "Choice", "Default": "E", "Choices": [{"Next": "E"}]}, E=PASS_END),
            QueryLanguage="JSONata",
        ),
        "SCHEMA_VALIDATION_FAILED",
        "/States/C/Choices/0",
        "'Condition'",
    ),
    (
        "duplicate template key",
        machine(A=with_(PASS_END, Parameters={"a": 1, "a.$": "$.b"})),
        "DUPLICATE_FIELD_NAME",
        "/States/A/Parameters/a.$",
        "both produce the field 'a'",
    ),
    (
        "bad path in template",
        machine(A=with_(PASS_END, Parameters={"a.$": "$.b["})),
        "INVALID_JSON_PATH",
        "/States/A/Parameters/a.$",
        "Cannot parse '$.b['",
    ),
    (
        "bad intrinsic",
        machine(A=with_(PASS_END, Parameters={"a.$": "States.Nope(1)"})),
        "INVALID_INTRINSIC",
        "/States/A/Parameters/a.$",
        "States.Nope",
    ),
    (
        "non-string .$ value",
        machine(A=with_(PASS_END, Parameters={"a.$": 3})),
        "SCHEMA_VALIDATION_FAILED",
        "/States/A/Parameters/a.$",
        "must be a string",
    ),
    (
        "bad InputPath",
        machine(A=with_(PASS_END, InputPath="x")),
        "INVALID_JSON_PATH",
        "/States/A/InputPath",
        "'x'",
    ),
    (
        "ResultPath into context",
        machine(A=with_(PASS_END, ResultPath="$$.x")),
        "INVALID_JSON_PATH",
        "/States/A/ResultPath",
        "Context Object",
    ),
    (
        "ResultPath into variable",
        machine(A=with_(PASS_END, ResultPath="$var")),
        "INVALID_JSON_PATH",
        "/States/A/ResultPath",
        "variable",
    ),
    (
        "bad Choice Variable",
        machine(
            C={
                "Type": "Choice",
                "Default": "E",
                "Choices": [{"Variable": "a.b", "IsNull": True, "Next": "E"}],
            },
            E=PASS_END,
        ),
        "INVALID_JSON_PATH",
        "/States/C/Choices/0/Variable",
        "'a.b'",
    ),
    (
        "bad Fail ErrorPath",
        machine(F={"Type": "Fail", "ErrorPath": "States.Nope()"}),
        "INVALID_INTRINSIC",
        "/States/F/ErrorPath",
        "States.Nope",
    ),
    (
        "bad variable name",
        machine(A=with_(PASS_END, Assign={"a.b": 1})),
        "INVALID_VARIABLE_NAME",
        "/States/A/Assign/a.b",
        "not a valid variable name",
    ),
    (
        "reserved variable name",
        with_(machine(A=with_(PASS_END, Assign={"states": 1})), QueryLanguage="JSONata"),
        "INVALID_VARIABLE_NAME",
        "/States/A/Assign/states",
        "reserved",
    ),
    (
        "resource not an ARN",
        machine(T=with_(TASK, Resource="my-lambda")),
        "INVALID_RESOURCE",
        "/States/T/Resource",
        "must be an ARN",
    ),
    (
        "resource as JSONata",
        with_(machine(T=with_(TASK, Resource="{% 'arn' %}")), QueryLanguage="JSONata"),
        "INVALID_RESOURCE",
        "/States/T/Resource",
        "constant",
    ),
    (
        "invalid label",
        machine(M={"Type": "Map", "End": True, "ItemProcessor": PROCESSOR, "Label": "a:b"}),
        "INVALID_LABEL_NAME",
        "/States/M/Label",
        "':'",
    ),
    (
        "duplicate label",
        machine(
            M={"Type": "Map", "Next": "N", "ItemProcessor": PROCESSOR, "Label": "L"},
            N={
                "Type": "Map",
                "End": True,
                "Label": "L",
                "ItemProcessor": {"StartAt": "I2", "States": {"I2": PASS_END}},
            },
        ),
        "DUPLICATE_LABEL_NAME",
        "/States/N/Label",
        "already used",
    ),
    (
        "NO_DOLLAR",
        machine(A=with_(PASS_END, Parameters={"a": "$.b"})),
        "NO_DOLLAR",
        "/States/A/Parameters/a",
        "does not end in '.$'",
    ),
    (
        "NO_DOLLAR intrinsic",
        machine(A=with_(PASS_END, Parameters={"a": "States.UUID()"})),
        "NO_DOLLAR",
        "/States/A/Parameters/a",
        "intrinsic",
    ),
    (
        "NO_PATH",
        machine(
            C={
                "Type": "Choice",
                "Default": "E",
                "Choices": [{"Variable": "$.a", "StringEquals": "$.b", "Next": "E"}],
            },
            E=PASS_END,
        ),
        "NO_PATH",
        "/States/C/Choices/0/StringEquals",
        "StringEqualsPath",
    ),
    (
        "PASS_RESULT_IS_STATIC",
        machine(A=with_(PASS_END, Result={"a.$": "$.b"})),
        "PASS_RESULT_IS_STATIC",
        "/States/A/Result/a.$",
        "static",
    ),
]


@pytest.mark.parametrize(
    ("definition", "code", "location", "fragment"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_definition_is_reported(
    definition: dict[str, Any], code: str, location: str, fragment: str
) -> None:
    found = validate(definition)
    matching = [d for d in found if d.code == code and d.location == location]
    assert matching, found
    assert any(fragment in d.message for d in matching), matching
    assert code in CODES


def test_warnings_alone_do_not_make_errors() -> None:
    found = validate(machine(A=with_(PASS_END, Parameters={"a": "$.b"})))
    assert [d.severity for d in found] == ["WARNING"]


def test_valid_machine_has_no_diagnostics() -> None:
    definition = machine(
        A={"Type": "Pass", "Parameters": {"x.$": "$.a"}, "Next": "B"},
        B={
            "Type": "Choice",
            "Default": "C",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.x", "IsPresent": True},
                        {"Not": {"Variable": "$.x", "NumericEquals": 1}},
                    ],
                    "Next": "D",
                }
            ],
        },
        C={"Type": "Wait", "SecondsPath": "$.s", "Next": "D"},
        D={
            "Type": "Map",
            "ItemProcessor": PROCESSOR,
            "ItemsPath": "$.items",
            "ItemSelector": {"v.$": "$$.Map.Item.Value"},
            "MaxConcurrency": 0,
            "Next": "E",
        },
        E={
            "Type": "Parallel",
            "Branches": [{"StartAt": "X", "States": {"X": PASS_END}}],
            "Retry": [{"ErrorEquals": ["States.TaskFailed"]}, {"ErrorEquals": ["States.ALL"]}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}],
            "End": True,
        },
        F={"Type": "Fail", "Error": "Boom", "CausePath": "States.Format('{}', $.c)"},
    )
    assert validate(definition) == []


def test_jsonata_state_in_jsonpath_machine_is_fine() -> None:
    definition = machine(A=with_(PASS_END, QueryLanguage="JSONata", Output="{% $states.input %}"))
    assert validate(definition) == []


def test_nested_states_use_machine_language_not_enclosing_state() -> None:
    # SPEC §Query Languages: a processor's states default to the machine's language.
    inner = {"StartAt": "I", "States": {"I": with_(PASS_END, InputPath="$.a")}}
    definition = machine(
        M={"Type": "Map", "QueryLanguage": "JSONata", "ItemProcessor": inner, "End": True}
    )
    assert validate(definition) == []


def test_all_problems_reported_in_document_order() -> None:
    definition = machine(A={"Type": "Pass", "Next": "Z", "Foo": 1}, B={"Type": "Wait"})
    found = validate(definition)
    locations = [d.location for d in found]
    assert locations == ["/States", "/States/A/Next", "/States/A/Foo", *["/States/B"] * 3]
    assert len(found) == len(set(found))


def test_malformed_parts_do_not_crash() -> None:
    broken: dict[str, Any]
    for broken in (
        {},
        {"States": []},
        {"StartAt": 1, "States": {"A": 3}},
        machine(A={"Type": "Parallel", "Branches": [1, {"States": 2}], "End": True}),
        machine(A={"Type": "Choice", "Choices": [1, {"And": 3, "Next": 2}]}),
    ):
        assert all(isinstance(d, Diagnostic) for d in validate(broken))


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["Pass", "Task", "Map", "Choice", "$.a", "$$", "States.ALL", "{% 1 %}"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=4))
def test_arbitrary_definitions_only_produce_diagnostics(definition: dict[str, Any]) -> None:
    assert all(isinstance(d, Diagnostic) for d in validate(definition))


def test_unsubstituted_placeholder_resource() -> None:
    found = validate(machine(T=with_(TASK, Resource="${MyFunctionArn}")))
    assert [(d.code, d.location) for d in found] == [("INVALID_RESOURCE", "/States/T/Resource")]
    assert "placeholder" in found[0].message


def test_invalid_jsonata_expression() -> None:
    jsonata = pytest.importorskip("asl.jsonata")
    if not hasattr(jsonata, "compile_expression"):
        pytest.skip("asl.jsonata.compile_expression is not available yet")
    definition = with_(
        machine(A=with_(PASS_END, Output="{% $states.input. %}")), QueryLanguage="JSONata"
    )
    found = validate(definition)
    assert [(d.code, d.location) for d in found] == [("INVALID_JSONATA", "/States/A/Output")]
    assert validate(with_(definition, States={"A": with_(PASS_END, Output="{% 1 + 2 %}")})) == []


def test_to_json_is_aws_shaped() -> None:
    diag = validate({"States": {"A": PASS_END}})[0]
    assert diag.to_json() == {
        "severity": "ERROR",
        "code": "SCHEMA_VALIDATION_FAILED",
        "message": diag.message,
        "location": "",
    }
