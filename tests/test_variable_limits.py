"""Workflow variable quotas: one variable, one Assign, everything an execution stores.

AWS (DG workflow-variables; TK "Variable Limits"): 256 KiB for a single variable, 256 KiB
for all values of one Assign, 10 MiB of stored variables per execution; sizes are UTF-8 JSON.
"""

from __future__ import annotations

from typing import Any

from runtime import run_sync
from runtime.engine.execution import (
    MAX_ASSIGN_BYTES,
    MAX_STORED_VARIABLES_BYTES,
    MAX_VARIABLE_BYTES,
    VARIABLE_LIMIT_ERROR,
)


def text_of(n: int) -> str:
    """A JSONata string value of ``n`` bytes once serialised (quotes and ``n - 2`` x's)."""
    return f"{{% $pad('', {n - 2}, 'x') %}}"


def chain(*assigns: dict[str, Any]) -> dict[str, Any]:
    """A JSONata machine of Pass states, the i-th assigning ``assigns[i]``."""
    states: dict[str, Any] = {}
    for index, assign in enumerate(assigns):
        state: dict[str, Any] = {"Type": "Pass", "Assign": assign}
        if index + 1 < len(assigns):
            state["Next"] = f"S{index + 1}"
        else:
            state["End"] = True
        states[f"S{index}"] = state
    return {"QueryLanguage": "JSONata", "StartAt": "S0", "States": states}


def test_a_variable_of_exactly_256_kib_is_accepted() -> None:
    result = run_sync(chain({"v": text_of(MAX_VARIABLE_BYTES)}))
    assert result.status == "SUCCEEDED", result.cause


def test_a_variable_over_256_kib_fails_the_execution() -> None:
    result = run_sync(chain({"v": text_of(MAX_VARIABLE_BYTES + 1)}))
    assert result.status == "FAILED"
    assert result.error == VARIABLE_LIMIT_ERROR
    assert result.cause is not None
    assert result.cause.startswith("An error occurred while executing the state 'S0'")
    assert "'v'" in result.cause and str(MAX_VARIABLE_BYTES) in result.cause


def test_one_assign_over_256_kib_in_total_fails() -> None:
    half = MAX_ASSIGN_BYTES // 2
    result = run_sync(chain({"a": text_of(half), "b": text_of(half + 1)}))
    assert result.status == "FAILED"
    assert result.error == VARIABLE_LIMIT_ERROR
    assert result.cause is not None and "one Assign" in result.cause


def test_jsonpath_assign_is_limited_too() -> None:
    big = "x" * MAX_VARIABLE_BYTES
    machine = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Assign": {"v": big}, "End": True}},
    }
    result = run_sync(machine)
    assert result.status == "FAILED"
    assert result.error == VARIABLE_LIMIT_ERROR


def test_stored_variables_over_10_mib_fail() -> None:
    size = 250_000
    count = MAX_STORED_VARIABLES_BYTES // size + 1
    result = run_sync(chain(*({f"v{i}": text_of(size)} for i in range(count))))
    assert result.status == "FAILED"
    assert result.error == VARIABLE_LIMIT_ERROR
    assert result.cause is not None and f"'S{count - 1}'" in result.cause


def test_reassigning_a_variable_replaces_its_size() -> None:
    size = 250_000
    count = MAX_STORED_VARIABLES_BYTES // size + 1
    result = run_sync(chain(*({"v": text_of(size)} for _ in range(count))))
    assert result.status == "SUCCEEDED", result.cause


def test_a_map_iteration_counts_the_outer_variables() -> None:
    size = 250_000
    outer = MAX_STORED_VARIABLES_BYTES // size
    first = chain(*({f"v{i}": text_of(size)} for i in range(outer)))
    last = f"S{outer - 1}"
    first["States"][last].pop("End")
    first["States"][last]["Next"] = "M"
    processor = {
        "StartAt": "Inner",
        "States": {"Inner": {"Type": "Pass", "Assign": {"inner": text_of(size)}, "End": True}},
    }
    first["States"]["M"] = {
        "Type": "Map",
        "Items": "{% [1] %}",
        "ItemProcessor": processor,
        "End": True,
    }
    result = run_sync(first)
    assert result.status == "FAILED"
    assert result.error == VARIABLE_LIMIT_ERROR


def test_small_variables_are_unaffected() -> None:
    result = run_sync(chain({"a": 1, "b": "{% 'é' %}"}, {"c": "{% $a + 1 %}"}))
    assert result.status == "SUCCEEDED", result.cause
