"""Property tests: payload templates fail only with the project's own errors."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from asl.errors import ASLError, ExpressionSyntaxError
from asl.template import compile_template

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
expression_text = st.one_of(
    st.text(max_size=30),
    st.builds(lambda s: "$" + s, st.text(max_size=20)),
    st.builds(lambda s: "$$." + s, st.text(max_size=20)),
    st.builds(lambda s: "States." + s, st.text(max_size=25)),
    st.sampled_from(["$.a", "$.a[0]", "$..b", "$.a[*].b", "States.Array($.a, 1)", "$x.y"]),
)
templates = st.recursive(
    st.dictionaries(st.text(max_size=6).map(lambda k: k + ".$"), expression_text, max_size=3),
    lambda inner: (
        st.dictionaries(st.text(max_size=6), inner | json_values, max_size=3)
        | st.lists(inner, max_size=2)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(templates)
def test_compiling_raises_only_syntax_errors(template: Any) -> None:
    with contextlib.suppress(ExpressionSyntaxError):
        compile_template(template)


@settings(max_examples=300, deadline=None)
@given(templates, json_values, json_values)
def test_evaluating_raises_only_project_errors(template: Any, data: Any, context: Any) -> None:
    try:
        compiled = compile_template(template)
    except ExpressionSyntaxError:
        return
    with contextlib.suppress(ASLError):
        compiled.evaluate(data, context, {"x": data})
