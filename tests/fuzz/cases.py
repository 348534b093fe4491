"""What the fuzzer feeds asl-runtime: mutated recorded definitions and inputs, and generated
expressions (JSONPath, intrinsic calls, JSONata, payload templates) over generated data.

Every case is plain JSON (a dict), so the harness can hand it to a worker process as one
line. ``definitions(n, seed)`` mutates the recorded AWS executions of
``../shared/conformance`` with a seeded :class:`random.Random`; ``expressions(n, seed)``
draws from hypothesis strategies. Both are deterministic for a seed.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from tests.conformance_cases import case_files

__all__ = ["HOSTILE", "definitions", "expressions", "machine_for"]

Case = dict[str, Any]


def _deep(n: int, leaf: Any = None) -> Any:
    value: Any = [] if leaf is None else leaf
    for _ in range(n):
        value = [value]
    return value


#: Values a mutation puts in place of another: boundaries, syntax fragments, markup,
#: control characters, surrogates, non-JSON numbers spelt as text, huge and deep values.
HOSTILE: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    1e308,
    -1e308,
    2**63,
    10**30,
    99999999,
    "",
    " ",
    "$",
    "$$",
    "$.",
    "$[",
    "$..*",
    "$.a[?(@.b == $.c)]",
    "$[(@.length-1)]",
    "$" + ".a" * 3000,
    "States.ArrayRange(0, $.x, 1)",
    "States.ArrayRange(0, 1e308, 1)",
    "States.StringToJson('1e999')",
    "States.StringToJson('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[')",
    "States.Format('{}{}', $, $)",
    "States.Hash($, 'MD5')",
    "{% $range(0, 99999999, 1) %}",
    "{% $parse('1e999') %}",
    "{% $states.input %}",
    "{% ($f := function($n){$f($n+1)}; $f(0)) %}",
    "{% 1e308 * 10 %}",
    "\ud800",
    "[/x]",
    "[bold]x",
    "\x1b]0;pwned\x07",
    "\x00",
    "<script>alert(1)</script>",
    "NaN",
    "Infinity",
    "1e999",
    "2016-03-14 01:59:00",
    "2016-03-14T01:59:00Z",
    "arn:aws:lambda:us-east-1:123456789012:function:f",
    "arn:aws:states:::lambda:invoke",
    "arn:aws:states:::states:startExecution.sync:2",
    "x" * 300_000,
    [],
    {},
    [1] * 5000,
    _deep(120),
    {"Type": "Pass", "End": True},
    {"Type": "Bogus"},
    {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}},
]


def _recorded() -> list[Case]:
    out = []
    for path in case_files():
        case = json.loads(path.read_text("utf-8"))
        out.append({"definition": case["definition"], "input": case.get("input", {}), **case})
    return out


def _slots(value: Any, found: list[tuple[Any, Any]]) -> None:
    """Every (container, key) in ``value``: a place a mutation may change."""
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((value, key))
            _slots(item, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append((value, index))
            _slots(item, found)


def _mutated_text(rng: random.Random, text: str) -> str:
    cut = rng.randrange(len(text) + 1)
    extra = rng.choice(["[", "]", "(", ")", "'", '"', "\\", ".", "$", "{%", "%}", "\ud800", "é"])
    return rng.choice([text[:cut], text[:cut] + extra + text[cut:], text * 2, text + " "])


def _mutate(rng: random.Random, value: Any, times: int) -> Any:
    value = copy.deepcopy(value)
    for _ in range(times):
        found: list[tuple[Any, Any]] = []
        _slots(value, found)
        if not found:
            return rng.choice(HOSTILE)
        parent, key = rng.choice(found)
        old = parent[key]
        roll = rng.random()
        if roll < 0.45:
            parent[key] = copy.deepcopy(rng.choice(HOSTILE))
        elif roll < 0.65 and isinstance(old, str) and old:
            parent[key] = _mutated_text(rng, old)
        elif roll < 0.75 and isinstance(parent, dict):
            del parent[key]
        elif roll < 0.85 and isinstance(parent, dict):
            parent[rng.choice(["Next", "End", "Default", "ItemsPath", "Parameters", "x.$"])] = (
                copy.deepcopy(rng.choice(HOSTILE))
            )
        else:
            other_parent, other_key = rng.choice(found)
            parent[key] = copy.deepcopy(other_parent[other_key])
    return value


def definitions(count: int, seed: int) -> Iterator[Case]:
    """``count`` machine cases: a recorded definition and input, mutated (a few unmutated).

    One in eight goes through the ``asl`` command line (exec, validate or graph) instead
    of the library.
    """
    rng = random.Random(seed)
    recorded = _recorded()
    if not recorded:
        raise RuntimeError("no conformance cases found (set ASL_SHARED to ../shared)")
    for index in range(count):
        case = rng.choice(recorded)
        definition, data = case["definition"], case["input"]
        which = rng.random()
        if which < 0.55:
            definition = _mutate(rng, definition, rng.randint(1, 3))
        elif which < 0.9:
            boxed = _mutate(rng, {"v": data}, rng.randint(1, 3))
            data = boxed.get("v", data) if isinstance(boxed, dict) else boxed
        elif which < 0.97:
            definition = _mutate(rng, definition, 1)
            data = rng.choice(HOSTILE)
        via = "library" if index % 8 else rng.choice(["exec", "validate", "graph"])
        yield {
            "kind": "machine",
            "id": f"{case['id']}#{index}",
            "definition": definition,
            "input": data,
            "mocks": case.get("mocks"),
            "via": via,
        }


# --- expressions ------------------------------------------------------------------------

_NAMES = st.sampled_from(["a", "b", "x", "items", "length", "0", "Name", "é", "a b", "$"])
_NUMBER = st.one_of(
    st.integers(-(10**20), 10**20),
    st.sampled_from([0, 1, -1, 1000, 1001, 2**31, 2**63, 10**308]),
    st.floats(allow_nan=False, allow_infinity=False),
)
_JSON: st.SearchStrategy[Any] = st.recursive(
    st.one_of(st.none(), st.booleans(), _NUMBER, st.text(max_size=12)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=6), st.dictionaries(_NAMES, inner, max_size=6)
    ),
    max_leaves=30,
)

_SEGMENT = st.one_of(
    _NAMES.map(lambda n: f".{n}"),
    _NAMES.map(lambda n: f"['{n}']"),
    st.integers(-3, 5).map(lambda i: f"[{i}]"),
    st.sampled_from(["[*]", ".*", "..a", "..*", "[0:2]", "[-1:]", "[::2]", "[0,1]", "['a','b']"]),
    st.sampled_from(["[?(@.a)]", "[?(@.a > 1)]", "[?(@.a == $.b)]", "[?(@.a =~ /x.*/)]"]),
    st.sampled_from(["[?(@.a in ['x'])]", "[?(@.a size 2)]", "[(@.length-1)]", ".length()"]),
    st.text(max_size=4),
)
_JSONPATH = st.builds(
    lambda root, segments: root + "".join(segments),
    st.sampled_from(["$", "$$", "$.", "$x"]),
    st.lists(_SEGMENT, max_size=12),
)
_LITERAL = st.one_of(
    _NUMBER.map(repr),
    st.text(max_size=8).map(lambda s: "'" + s.replace("'", "\\'") + "'"),
    _JSONPATH,
    st.sampled_from(["null", "true", "'{}'", "'[1,2]'", "'1e999'", "'NaN'", "$"]),
)
_INTRINSIC_NAMES = st.sampled_from(
    [
        "Format",
        "StringToJson",
        "JsonToString",
        "Array",
        "ArrayPartition",
        "ArrayContains",
        "ArrayRange",
        "ArrayGetItem",
        "ArrayLength",
        "ArrayUnique",
        "Base64Encode",
        "Base64Decode",
        "Hash",
        "JsonMerge",
        "MathRandom",
        "MathAdd",
        "StringSplit",
        "UUID",
        "Nope",
    ]
)
_INTRINSIC: st.SearchStrategy[str] = st.recursive(
    _LITERAL,
    lambda inner: st.builds(
        lambda name, args: f"States.{name}({', '.join(args)})",
        _INTRINSIC_NAMES,
        st.lists(inner, max_size=4),
    ),
    max_leaves=14,
)
_JSONATA_ATOMS = st.one_of(
    _NUMBER.map(repr),
    st.text(max_size=6).map(json.dumps),
    st.sampled_from(
        [
            "$states.input",
            "$states.input.a",
            "$states.input.items[0]",
            "$states.context",
            "$x",
            "[1..5]",
            "[1..99999999]",
            "$range(0, 10, 1)",
            "$range(0, 1e9, 1)",
            "function($v){$v}",
            "{'a': 1}",
            "null",
            "true",
        ]
    ),
)
_JSONATA_FUNCTIONS = st.sampled_from(
    [
        "$string",
        "$number",
        "$count",
        "$sum",
        "$map",
        "$filter",
        "$reduce",
        "$sort",
        "$join",
        "$split",
        "$pad",
        "$power",
        "$sqrt",
        "$parse",
        "$partition",
        "$hash",
        "$random",
        "$uuid",
        "$eval",
        "$keys",
        "$merge",
        "$append",
        "$lookup",
        "$formatNumber",
    ]
)
_JSONATA: st.SearchStrategy[str] = st.recursive(
    _JSONATA_ATOMS,
    lambda inner: st.one_of(
        st.builds(
            lambda f, args: f"{f}({', '.join(args)})",
            _JSONATA_FUNCTIONS,
            st.lists(inner, max_size=3),
        ),
        st.builds(
            lambda a, op, b: f"({a} {op} {b})",
            inner,
            st.sampled_from(["+", "-", "*", "/", "%", "&", "=", "<", "and", "in", "~>"]),
            inner,
        ),
        st.builds(lambda a, b: f"{a}[{b}]", inner, inner),
        st.builds(lambda a, b: f"({a}; {b})", inner, inner),
    ),
    max_leaves=10,
)
_TEMPLATE: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.tuples(_NAMES, _JSON).map(lambda kv: {kv[0]: kv[1]}),
        st.tuples(_NAMES, st.one_of(_JSONPATH, _INTRINSIC)).map(lambda kv: {kv[0] + ".$": kv[1]}),
    ),
    lambda inner: st.tuples(_NAMES, inner).map(lambda kv: {kv[0]: kv[1]}),
    max_leaves=6,
)

_LANGUAGES: dict[str, st.SearchStrategy[Any]] = {
    "jsonpath": _JSONPATH,
    "intrinsic": _INTRINSIC,
    "jsonata": _JSONATA,
    "template": _TEMPLATE,
}


def _collect(strategy: st.SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """``count`` draws of ``strategy`` (fewer if hypothesis finds no more distinct ones)."""
    out: list[Any] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(value: Any) -> None:
        out.append(value)

    draw()
    return out[:count]


def expressions(count: int, seed: int) -> Iterator[Case]:
    """``count`` expression cases, shared evenly between the four languages."""
    share = count // len(_LANGUAGES)
    for offset, (language, strategy) in enumerate(_LANGUAGES.items()):
        wanted = share + (count % len(_LANGUAGES) if offset == 0 else 0)
        pairs = _collect(st.tuples(strategy, _JSON), wanted, seed + offset)
        for index, (text, data) in enumerate(pairs):
            yield {
                "kind": "expression",
                "id": f"{language}#{index}",
                "language": language,
                "text": text,
                "input": data,
            }


def machine_for(case: Case) -> dict[str, Any]:
    """The one-state machine that evaluates an expression case."""
    text, language = case["text"], case["language"]
    builders: dict[str, Callable[[], dict[str, Any]]] = {
        "jsonpath": lambda: {"Type": "Pass", "Parameters": {"v.$": text, "w.$": "$"}},
        "intrinsic": lambda: {"Type": "Pass", "Parameters": {"v.$": text}},
        "template": lambda: {"Type": "Pass", "Parameters": text},
        "jsonata": lambda: {"Type": "Pass", "Output": "{% " + text + " %}"},
    }
    state = {**builders[language](), "End": True}
    machine: dict[str, Any] = {"StartAt": "E", "States": {"E": state}}
    if language == "jsonata":
        machine["QueryLanguage"] = "JSONata"
    return machine
