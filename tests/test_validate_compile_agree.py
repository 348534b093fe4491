"""``asl validate`` and ``asl exec`` agree: one source of truth for static checks.

If :func:`asl.validate.validate` reports no error, compiling the definition to run it
succeeds; if compiling refuses, validate has reported an error at (or around) the same JSON
Pointer. Checked on generated definitions (states of every type with fields drawn from valid
and invalid values) and on every definition AWS accepted in the recorded conformance cases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asl import DefinitionError, compile_definition
from asl.compiler import compile_machine
from asl.validate import validate

# -- values a field may hold: mostly plausible, some wrong -----------------------------------


def mostly(valid: list[Any], invalid: list[Any]) -> st.SearchStrategy[Any]:
    """One of ``valid`` three times in four, else one of ``invalid``."""
    return st.integers(0, 3).flatmap(lambda roll: st.sampled_from(valid if roll else invalid))


VALID_PATHS = [
    "$",
    "$.a",
    "$.a[0]",
    "$['a'].b",
    "$$.Execution.Id",
    "$$.Map.Item.Value",
    "$var",
    "$var.x",
    "$..a",
    "$.a[*].b",
    "$.a[?(@.b > 1)]",
]
BAD_PATHS = ["$.a[", "a.b", "", " $.a", "$$", 7, None]
VALID_INTRINSICS = [
    "States.Array($.a, 1)",
    "States.Format('{} {}', $.a, $$.Execution.Id)",
    "States.UUID()",
    "States.JsonToString($.a)",
    "States.Array($.a) ",
]
BAD_INTRINSICS = [
    " States.Array('Foo', $.xyz)",
    "States.Nope(1)",
    "States.Array(",
    "States.Format('{}', $.a[)",
    "Foo",
]
TIMESTAMPS = ["2016-03-14T01:59:00Z", "2016-03-14T01:59:00.123+02:00"]
BAD_TIMESTAMPS = ["2016-03-14 01:59:00", "2016-03-14t01:59:00z", "2016-02-30T00:00:00Z", "", 5]
JSONATA = ["{% $states.input %}", "{% $states.input.a + 1 %}", "plain", 3, {"a": "{% 1 %}"}]
BAD_JSONATA = ["{% ( %}", "{%%}", "{% $states.nope( %}"]
RESOURCES = [
    "arn:aws:states:::lambda:invoke",
    "arn:aws:lambda:us-east-1:123456789012:function:FN",
    "arn:aws:lambda:us-east-1:123456789012:function:FN:live",
    "arn:aws:states:us-east-1:123456789012:activity:act",
    "arn:aws:states:::sqs:sendMessage",
]
BAD_RESOURCES = [
    "arn:aws:lambda:us-east-1:123456789012:function:FN:",
    "arn:aws:lambda:us-east-1:123456789012:function:",
    "${LambdaArn}",
    "not-an-arn",
    7,
]
ERROR_NAMES = ["States.ALL", "States.Timeout", "States.TaskFailed", "States.QuorumMet", "Custom"]
NUMBERS = [0, 1, 5, 99999999]
BAD_NUMBERS = [-1, 1.5, "5", True, None]
SCALARS = st.sampled_from([None, True, 0, 1.5, "x", "$.a", [], {}])

paths = mostly(VALID_PATHS, BAD_PATHS)
dynamic = mostly(VALID_PATHS + VALID_INTRINSICS, BAD_PATHS + BAD_INTRINSICS)
numbers = mostly(NUMBERS, BAD_NUMBERS)


def templates() -> st.SearchStrategy[Any]:
    """Payload templates: '.$' keys with paths or intrinsics, literal keys, nesting, clashes."""
    literal = st.sampled_from(["a", "b"])
    evaluated = st.sampled_from(["a.$", "b.$", "c.$"])
    members = st.tuples(literal, SCALARS) | st.tuples(
        evaluated, mostly([0], [1]).flatmap(lambda bad: dynamic if not bad else SCALARS)
    )
    leaf = st.lists(members, max_size=3).map(dict)
    return mostly(
        [None],
        ["not an object", 3],
    ).flatmap(
        lambda bad: (
            st.just(bad)
            if bad is not None
            else st.recursive(
                leaf,
                lambda inner: st.dictionaries(
                    literal, inner | st.lists(inner, max_size=2), max_size=2
                ),
                max_leaves=5,
            )
        )
    )


def choice_rules(depth: int = 0) -> st.SearchStrategy[Any]:
    """JSONPath Choice rules, data tests and And/Or/Not, well and badly formed."""
    operators = mostly(
        [
            ("StringEquals", "x"),
            ("NumericGreaterThan", 3),
            ("NumericEqualsPath", "$.b"),
            ("BooleanEquals", True),
            ("TimestampEquals", "2016-03-14T01:59:00Z"),
            ("StringMatches", "a*b"),
            ("IsPresent", True),
        ],
        [
            ("StringEquals", 1),
            ("NumericEqualsPath", "$.b["),
            ("BooleanEquals", "yes"),
            ("TimestampEquals", "2016-03-14 01:59:00"),
            ("StringMatches", "a\\"),
            ("IsNull", "true"),
            ("Bogus", 1),
        ],
    )
    data_test = st.builds(
        lambda variable, ops: {
            **({} if variable is None else {"Variable": variable}),
            **dict(ops),
        },
        mostly(["$.a", "$$.Execution.Input.a"], ["$.a[", None]),
        st.lists(operators, min_size=1, max_size=1) | st.lists(operators, max_size=2),
    )
    if depth >= 2:
        return data_test
    nested = choice_rules(depth + 1)
    return data_test | st.one_of(
        st.builds(lambda rules: {"And": rules}, st.lists(nested, max_size=2)),
        st.builds(lambda rules: {"Or": rules}, st.lists(nested, max_size=2)),
        st.builds(lambda rule: {"Not": rule}, nested),
    )


def optional(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict holding any subset of ``fields``."""
    return st.fixed_dictionaries({}, optional=fields)


def io_fields() -> dict[str, st.SearchStrategy[Any]]:
    return {"InputPath": paths, "OutputPath": paths, "ResultPath": paths}


def handlers() -> dict[str, st.SearchStrategy[Any]]:
    errors = mostly([0], [1]).flatmap(
        lambda bad: st.lists(st.sampled_from(ERROR_NAMES), min_size=1 - bad, max_size=2 - bad)
    )
    retrier = optional(
        {
            "IntervalSeconds": mostly([1, 3], [0, -1, "x"]),
            "MaxAttempts": numbers,
            "BackoffRate": mostly([1, 2.5], [0.5, "x"]),
        }
    )
    return {
        "Retry": st.lists(
            st.builds(lambda e, r: {"ErrorEquals": e, **r}, errors, retrier), max_size=2
        ),
        "Catch": st.lists(
            st.builds(
                lambda e, extra: {"ErrorEquals": e, "Next": "@next", **extra},
                errors,
                optional({"ResultPath": paths}),
            ),
            max_size=2,
        ),
    }


def branches(depth: int) -> st.SearchStrategy[Any]:
    """A nested StartAt/States scope (or something that is not one)."""
    if depth >= 1:
        return st.just({"StartAt": "Leaf", "States": {"Leaf": {"Type": "Succeed"}}})
    return mostly([0], [1]).flatmap(
        lambda bad: (
            st.sampled_from([{"StartAt": "X", "States": {}}, "nope"])
            if bad
            else st.builds(
                lambda name, state: {"StartAt": name, "States": {name: state}},
                st.integers(0, 10**6).map(lambda number: f"Inner{number}"),
                jsonpath_state(depth + 1, terminal=True),
            )
        )
    )


def jsonpath_state(depth: int = 0, *, terminal: bool = False) -> st.SearchStrategy[Any]:
    """One JSONPath-mode state of any type (it transitions to END, or ends)."""
    flow = st.just({"End": True} if terminal else {"Next": "@next"})
    kinds = [
        optional({**io_fields(), "Parameters": templates(), "Result": SCALARS}).map(
            lambda f: {"Type": "Pass", **f}
        ),
        st.builds(
            lambda resource, f, h: {"Type": "Task", "Resource": resource, **f, **h},
            mostly(RESOURCES, BAD_RESOURCES),
            optional(
                {
                    **io_fields(),
                    "Parameters": templates(),
                    "ResultSelector": templates(),
                    "TimeoutSeconds": numbers,
                    "HeartbeatSeconds": numbers,
                    "TimeoutSecondsPath": paths,
                    "Credentials": templates(),
                }
            ),
            optional(handlers()),
        ),
        mostly(
            [
                ("Seconds", numbers),
                ("Timestamp", mostly(TIMESTAMPS, BAD_TIMESTAMPS)),
                ("SecondsPath", paths),
                ("TimestampPath", paths),
            ],
            [("Nothing", st.none())],
        ).flatmap(
            lambda pick: pick[1].map(
                lambda value: {"Type": "Wait"} | ({} if pick[0] == "Nothing" else {pick[0]: value})
            )
        ),
        optional(
            {
                "Error": st.sampled_from([*ERROR_NAMES, 5]),
                "Cause": SCALARS,
                "ErrorPath": dynamic,
                "CausePath": dynamic,
            }
        ).map(lambda f: {"Type": "Fail", **f}),
        st.builds(
            lambda rules, default: {
                "Type": "Choice",
                "Choices": [{**rule, "Next": "@next"} for rule in rules],
                **default,
            },
            st.lists(choice_rules(), min_size=1, max_size=2),
            optional({"Default": st.just("@next")}),
        ),
        st.builds(
            lambda b, h: {"Type": "Parallel", "Branches": b, **h},
            st.lists(branches(depth), min_size=1, max_size=2),
            optional(handlers()),
        ),
        st.builds(
            lambda key, processor, f: {"Type": "Map", key: processor, **f},
            st.sampled_from(["ItemProcessor", "Iterator"]),
            branches(depth),
            optional(
                {
                    "ItemsPath": paths,
                    "ItemSelector": templates(),
                    "MaxConcurrency": numbers,
                    "ResultSelector": templates(),
                }
            ),
        ),
        st.just({"Type": "Succeed"}),
        mostly([{"Type": "Pass"}], ["not a state", 3, ["Pass"], {"Type": "Nope"}]),
    ]
    return st.one_of(kinds).flatmap(
        lambda state: (
            flow.map(lambda f: {**state, **f})
            if isinstance(state, dict) and state.get("Type") not in ("Choice", "Succeed", "Fail")
            else st.just(state)
        )
    )


def jsonata_state() -> st.SearchStrategy[Any]:
    """A JSONata-mode state with expression fields, well and badly formed."""
    expressions = mostly(JSONATA, BAD_JSONATA)
    return st.one_of(
        optional({"Output": expressions, "Assign": st.just({"v": "{% 1 %}"})}).map(
            lambda f: {"Type": "Pass", "QueryLanguage": "JSONata", "Next": "@next", **f}
        ),
        optional({"Arguments": expressions, "TimeoutSeconds": expressions}).map(
            lambda f: {
                "Type": "Task",
                "QueryLanguage": "JSONata",
                "Resource": "arn:aws:states:::lambda:invoke",
                "End": True,
                **f,
            }
        ),
        st.builds(
            lambda condition: {
                "Type": "Choice",
                "QueryLanguage": "JSONata",
                "Choices": [{"Condition": condition, "Next": "@next"}],
            },
            expressions,
        ),
        st.builds(
            lambda value: {
                "Type": "Wait",
                "QueryLanguage": "JSONata",
                "Timestamp": value,
                "Next": "@next",
            },
            mostly(TIMESTAMPS + JSONATA, BAD_TIMESTAMPS + BAD_JSONATA),
        ),
    )


_STATE = jsonpath_state() | jsonata_state()


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    """A machine S0 -> S1 -> ... -> End of generated states (every "@next" is the next one)."""
    drawn = draw(st.lists(_STATE, min_size=1, max_size=3))
    # States that transition come first; one that cannot (Succeed, Fail, not a state) ends.
    flowing = [state for state in drawn if '"@next"' in json.dumps(state)]
    ending = [state for state in drawn if '"@next"' not in json.dumps(state)]
    chain = flowing + ending[:1]
    states = {}
    for index, state in enumerate(chain):
        following = f"S{index + 1}" if index + 1 < len(chain) else "End"
        states[f"S{index}"] = json.loads(json.dumps(state).replace('"@next"', f'"{following}"'))
    if not ending:
        states["End"] = {"Type": "Succeed"}
    return {"StartAt": "S0", "States": states}


# -- the property ----------------------------------------------------------------------------


def _errors(definition: Any) -> list[Any]:
    return [diag for diag in validate(definition) if diag.severity == "ERROR"]


def _related(a: str, b: str) -> bool:
    """One JSON Pointer is the other or lies below it."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def assert_agree(definition: Any) -> None:
    errors = _errors(definition)
    try:
        compile_machine(definition)
    except DefinitionError as exc:
        refused = [d for d in exc.diagnostics if d.code != "UNSUPPORTED_FEATURE"]
        if not refused:
            return  # valid ASL this runtime cannot run yet: compile_definition says so
        assert errors, f"validate accepted what compile refused: {refused}"
        for diag in refused:
            where = "" if diag.location == "/" else diag.location
            assert any(_related(where, e.location) for e in errors), (diag, errors)
    except Exception as exc:  # a crash is only acceptable on a definition validate refuses
        assert errors, f"validate accepted a definition that crashed compile: {exc!r}"
    else:
        return


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(definitions())
def test_validate_accepting_implies_compile_accepting(definition: dict[str, Any]) -> None:
    assert_agree(definition)


CASES = sorted(Path("/work/shared/conformance/cases").glob("*.json"))


def test_every_recorded_definition_validates_and_compiles() -> None:
    assert len(CASES) == 787
    failures = []
    for path in CASES:
        raw = json.loads(path.read_text())["definition"]
        definition = json.loads(raw) if isinstance(raw, str) else raw
        try:
            assert_agree(definition)
            if not _errors(definition):
                compile_definition(definition)
        except (AssertionError, DefinitionError) as exc:
            failures.append(f"{path.stem}: {exc}")
    assert failures == []


def _recorded() -> list[Any]:
    definitions = []
    for path in CASES:
        raw = json.loads(path.read_text())["definition"]
        definitions.append(json.loads(raw) if isinstance(raw, str) else raw)
    return definitions


RECORDED = _recorded()
#: What a mutation writes: other state types and languages, malformed expressions and
#: timestamps, objects where scalars belong and the reverse.
MUTANTS = [
    *("Pass", "Map", "Task", "JSONata", "JSONPath", "INLINE", "DISTRIBUTED"),
    *(None, True, 0, -1, 1.5, "", "x", "$", "$.a[", "States.Nope()", " States.Array(1)"),
    *("{% ( %}", "{% 1 %}", "2016-03-14 01:59:00", "arn:aws:lambda:us-east-1:1:function:F:"),
    [],
    {},
    [1],
    {"a": 1},
    {"a.$": 3},
    {"a.$": "$.b"},
    {"Mode": "DISTRIBUTED"},
    {"StartAt": "Q", "States": {"Q": {"Type": "Succeed"}}},
]


def _pointers(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every member and item below the top level and ``States``."""
    found = [here] if len(here) >= 2 else []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        found.extend(_pointers(item, (*here, key)))
    return found


@st.composite
def mutated_recordings(draw: st.DrawFn) -> Any:
    """A recorded definition with one or two members replaced or removed."""
    definition = json.loads(json.dumps(draw(st.sampled_from(RECORDED))))
    for _ in range(draw(st.integers(1, 2))):
        pointers = _pointers(definition)
        if not pointers:
            break
        pointer = draw(st.sampled_from(pointers))
        holder = definition
        for key in pointer[:-1]:
            holder = holder[key]
        if isinstance(holder, dict) and draw(st.booleans()) and draw(st.booleans()):
            del holder[pointer[-1]]
        else:
            holder[pointer[-1]] = json.loads(json.dumps(draw(st.sampled_from(MUTANTS))))
    return definition


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_recordings())
def test_mutated_recordings_agree(definition: Any) -> None:
    assert_agree(definition)


# -- the disagreements that were found, one by one ---------------------------------------------


def _machine(state: dict[str, Any], **others: Any) -> dict[str, Any]:
    return {"StartAt": "A", "States": {"A": state, **others}}


def _located(definition: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d.location, d.code) for d in _errors(definition)]


def test_wait_timestamp_that_is_not_rfc3339_is_reported_by_validate() -> None:
    definition = _machine({"Type": "Wait", "Timestamp": "2016-03-14 01:59:00", "End": True})
    assert _located(definition) == [("/States/A/Timestamp", "SCHEMA_VALIDATION_FAILED")]
    with pytest.raises(DefinitionError):
        compile_definition(definition)


def test_intrinsic_with_a_leading_blank_is_not_an_expression() -> None:
    # awslabs/statelint: states-array-invocation-leftpad.json is refused with 'Field "abc.$"
    # of ResultSelector ... is not a JSONPath or intrinsic function expression'.
    template = {"abc.$": " States.Array('Foo', $.xyz, 'Bar', 2.3)"}
    for field in ("Parameters", "ResultSelector"):
        definition = _machine(
            {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", field: template}
            | {"End": True}
        )
        assert _located(definition) == [(f"/States/A/{field}/abc.$", "INVALID_INTRINSIC")]
    fail = _machine({"Type": "Fail", "CausePath": " States.Format('{}', $.a)"})
    assert _located(fail) == [("/States/A/CausePath", "INVALID_INTRINSIC")]


def test_trailing_blank_after_an_intrinsic_is_still_accepted() -> None:
    definition = _machine({"Type": "Pass", "Parameters": {"a.$": "States.Array(1) "}, "End": True})
    assert _errors(definition) == []
    compile_definition(definition)


@pytest.mark.parametrize("body", ["hello", 3, None, ["Pass"]])
def test_a_state_that_is_not_an_object_is_reported(body: Any) -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "B"}],
                "Default": "C",
            },
            "B": body,
            "C": {"Type": "Succeed"},
        },
    }
    assert ("/States/B", "SCHEMA_VALIDATION_FAILED") in _located(definition)
    with pytest.raises(DefinitionError):
        compile_definition(definition)


@pytest.mark.parametrize(
    ("resource", "valid"),
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:FN", True),
        ("arn:aws:lambda:us-east-1:123456789012:function:FN:live", True),
        ("arn:aws:lambda:us-east-1:123456789012:function:FN:$LATEST", True),
        ("arn:aws:lambda:us-east-1:123456789012:function:my.fn", True),
        ("arn:aws:lambda:us-east-1:123456789012:function:FN:", False),
        ("arn:aws:lambda:us-east-1:123456789012:function:", False),
        ("arn:aws:lambda:us-east-1:123456789012:function:FN:v1:x", False),
        ("arn:aws:lambda:us-east-1:123456789012:layer:L:1", False),
    ],
)
def test_lambda_function_arns_are_checked_when_validating(resource: str, valid: bool) -> None:
    definition = _machine({"Type": "Task", "Resource": resource, "End": True})
    expected = [] if valid else [("/States/A/Resource", "INVALID_RESOURCE")]
    assert _located(definition) == expected


def test_compile_problems_are_reported_once_in_the_more_specific_words() -> None:
    # The rule on Choice rules already explains this one; the compiler's check stays silent.
    rule = {"Variable": "$.a", "StringEquals": 1, "Next": "B"}
    definition = _machine({"Type": "Choice", "Choices": [rule]}, B={"Type": "Succeed"})
    assert _located(definition) == [
        ("/States/A/Choices/0/StringEquals", "SCHEMA_VALIDATION_FAILED")
    ]


def test_choice_rule_the_compiler_refuses_is_reported_at_the_rule() -> None:
    # A dangling escape in StringMatches: only the compiler's own routine knows.
    rule = {"Variable": "$.a", "StringMatches": "a\\", "Next": "B"}
    definition = _machine({"Type": "Choice", "Choices": [rule]}, B={"Type": "Succeed"})
    assert _located(definition) == [("/States/A/Choices/0", "SCHEMA_VALIDATION_FAILED")]
    with pytest.raises(DefinitionError):
        compile_definition(definition)
