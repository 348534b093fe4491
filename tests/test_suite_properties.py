"""Property tests: whatever a suite file holds, reading and preparing it either works or
raises SuiteError with located one-line problems (never another exception); JSON subsets."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.testing import SuiteError, load_suite, prepare
from runtime.testing.expect import json_subset_mismatch
from runtime.testing.suite import CASE_KEYS, EXPECT_KEYS

MACHINE = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}

scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
names = st.sampled_from([*CASE_KEYS, "cases", "P", "Q", "machine.asl.json", ""]) | st.text(
    max_size=6
)
expect = st.dictionaries(st.sampled_from([*EXPECT_KEYS, "nope"]), json_values, max_size=4)
case = st.dictionaries(names, json_values | expect, max_size=5) | json_values


@settings(max_examples=40, deadline=None)
@given(
    top=st.dictionaries(names, json_values, max_size=4),
    cases=st.dictionaries(names, case, max_size=3),
)
def test_any_suite_loads_or_is_refused_with_located_lines(top: dict[str, Any], cases: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "machine.asl.json").write_text(json.dumps(MACHINE))
        path = Path(folder) / "s.asl-test.json"
        path.write_text(json.dumps({"definition": "machine.asl.json", **top, "cases": cases}))
        try:
            prepare([load_suite(path)])
        except SuiteError as exc:
            assert exc.problems
            for line in exc.problems:
                assert line.startswith(str(path)) or line.startswith(folder), line
                assert "\n" not in line


@given(json_values)
def test_a_value_is_a_subset_of_itself(value: Any) -> None:
    assert json_subset_mismatch(value, value) is None


@given(
    st.dictionaries(st.text(max_size=4), json_values, max_size=4),
    st.dictionaries(st.text(max_size=4), json_values, max_size=3),
)
def test_more_keys_keep_a_subset(expected: dict[str, Any], extra: dict[str, Any]) -> None:
    assert json_subset_mismatch(expected, {**extra, **expected}) is None


@given(json_values, json_values)
def test_a_mismatch_points_inside_the_expectation(expected: Any, actual: Any) -> None:
    found = json_subset_mismatch(expected, actual)
    if found is not None:
        pointer, message = found
        assert pointer == "" or pointer.startswith("/")
        assert message
