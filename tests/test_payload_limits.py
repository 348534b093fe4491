"""AWS's 256 KiB payload quota (262,144 bytes of UTF-8 JSON, DG service quotas).

Where AWS checks it and what it answers:

* a state's output, its input after Parameters/Arguments, an iteration's input after
  ItemSelector, and the results a Parallel or Map state gathered: the execution fails with
  ``States.DataLimitExceeded``, a terminal error that no Catch handles (not even
  ``States.ALL``), cause "The state/task '<state>' returned a result with a size exceeding
  the maximum number of bytes service limit." (no state prefix, as AWS writes it);
* a task's own result: the same error, but as the task's failure, which a Catch may handle
  (recorded: ``states_errors.task_lambda_catch_state_all_data_limit_*``);
* the execution input: StartExecution refuses it before anything runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime import run_sync
from runtime.engine.errors import MAX_PAYLOAD_BYTES, payload_bytes

LIMIT = MAX_PAYLOAD_BYTES


def cause_for(state: str) -> str:
    return (
        f"The state/task '{state}' returned a result with a size exceeding the maximum "
        "number of bytes service limit."
    )


def pass_with_result(result: Any, name: str = "Big") -> dict[str, Any]:
    return {"StartAt": name, "States": {name: {"Type": "Pass", "Result": result, "End": True}}}


def string_of_bytes(n: int, char: str = "x") -> str:
    """A string whose JSON text (with its quotes) is exactly ``n`` bytes of UTF-8."""
    width = len(char.encode("utf-8"))
    body, rest = divmod(n - 2, width)
    return char * body + "y" * rest


def test_a_state_output_of_exactly_256_kib_is_accepted() -> None:
    result = run_sync(pass_with_result(string_of_bytes(LIMIT)))
    assert result.status == "SUCCEEDED", result.cause


def test_a_state_output_one_byte_over_fails_the_execution() -> None:
    result = run_sync(pass_with_result(string_of_bytes(LIMIT + 1)))
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "States.DataLimitExceeded",
        cause_for("Big"),
    )
    assert "PassStateExited" not in [e.type for e in result.history]


@settings(max_examples=25, deadline=None)
@given(char=st.sampled_from(["x", "é", "€", "😀"]), over=st.integers(-3, 3))
def test_the_limit_counts_utf8_bytes_not_characters(char: str, over: int) -> None:
    value = string_of_bytes(LIMIT + over, char)
    size = payload_bytes(value)
    result = run_sync(pass_with_result(value))
    assert result.status == ("SUCCEEDED" if size <= LIMIT else "FAILED")


def test_a_doubling_loop_stops_at_256_kib() -> None:
    """The review's example: States.Format doubling a string used to reach 64 MB."""
    machine = {
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Pass",
                "Parameters": {"s.$": "States.Format('{}{}', $.s, $.s)"},
                "Next": "Again",
            },
            "Again": {"Type": "Choice", "Default": "Double", "Choices": []},
        },
    }
    machine["States"]["Again"] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.s", "IsPresent": False, "Next": "Done"}],
        "Default": "Double",
    }
    machine["States"]["Done"] = {"Type": "Succeed"}
    result = run_sync(machine, {"s": "x" * 1000})
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "States.DataLimitExceeded",
        cause_for("Double"),
    )


def test_catch_all_does_not_catch_a_state_output_over_the_limit() -> None:
    big = string_of_bytes(LIMIT + 10)
    machine = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [pass_with_result(big, "Inner")],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        },
    }
    result = run_sync(machine)
    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")
    assert result.cause == cause_for("Inner")
    # Not retried either: one attempt only.
    assert [e.type for e in result.history].count("ParallelStateStarted") == 1


def test_gathered_parallel_results_over_the_limit_are_terminal() -> None:
    """Each branch is small; together they are over 256 KiB. ResultPath null would keep
    none of them, and AWS fails the state anyway (the results are the state's result)."""
    third = string_of_bytes(LIMIT // 3 + 100)
    machine = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [pass_with_result(third, f"Part{i}") for i in range(3)],
                "ResultPath": None,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        },
    }
    result = run_sync(machine)
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "States.DataLimitExceeded",
        cause_for("P"),
    )


def test_gathered_map_results_over_the_limit_are_terminal() -> None:
    machine = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "Pad",
                    "States": {
                        "Pad": {
                            "Type": "Pass",
                            "Parameters": {"p.$": "States.Format('{}{}{}{}', $, $, $, $)"},
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }
    items = ["x" * 1000] * 80  # 80 results of ~4 KB: about 320 KB together
    result = run_sync(machine, items)
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "States.DataLimitExceeded",
        cause_for("M"),
    )


def test_input_after_parameters_over_the_limit_fails() -> None:
    half = "x" * (LIMIT // 2 + 10)
    machine = {
        "StartAt": "Twice",
        "States": {
            "Twice": {
                "Type": "Pass",
                "Parameters": {"a.$": "$.s", "b.$": "$.s"},
                "OutputPath": "$.a",
                "End": True,
            }
        },
    }
    result = run_sync(machine, {"s": half})
    assert (result.error, result.cause) == ("States.DataLimitExceeded", cause_for("Twice"))


def test_jsonata_arguments_and_output_are_limited() -> None:
    machine = {
        "QueryLanguage": "JSONata",
        "StartAt": "Grow",
        "States": {
            "Grow": {
                "Type": "Pass",
                "Output": "{% $pad('', 300000, 'x') %}",
                "End": True,
            }
        },
    }
    result = run_sync(machine)
    assert (result.error, result.cause) == ("States.DataLimitExceeded", cause_for("Grow"))


def test_an_item_selector_output_over_the_limit_fails() -> None:
    machine = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"a.$": "$.big", "b.$": "$.big"},
                "ItemProcessor": {
                    "StartAt": "Noop",
                    "States": {"Noop": {"Type": "Pass", "Result": 1, "End": True}},
                },
                "End": True,
            }
        },
    }
    result = run_sync(machine, {"items": [1], "big": "x" * (LIMIT // 2 + 10)})
    assert (result.error, result.cause) == ("States.DataLimitExceeded", cause_for("M"))


def test_a_task_result_over_the_limit_stays_catchable() -> None:
    big = string_of_bytes(LIMIT + 1)
    machine = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:big",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    result = run_sync(machine, functions={"big": lambda event: big})
    assert result.status == "SUCCEEDED"
    assert result.output["Error"] == "States.DataLimitExceeded"


def test_an_execution_input_over_the_limit_is_refused_by_the_library() -> None:
    with pytest.raises(ValueError, match="262,144 bytes"):
        run_sync(pass_with_result(1), {"s": "x" * LIMIT})


def test_an_execution_input_of_exactly_256_kib_runs() -> None:
    value = string_of_bytes(LIMIT)
    result = run_sync({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, value)
    assert result.status == "SUCCEEDED"


def test_asl_exec_refuses_a_large_input_in_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    machine = tmp_path / "m.json"
    machine.write_text(json.dumps(pass_with_result(1)))
    data = tmp_path / "in.json"
    data.write_text(json.dumps({"s": "x" * LIMIT}))
    proc = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "exec", str(machine), "--input", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "262,144 bytes" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


_VALUES = st.recursive(
    st.one_of(st.none(), st.integers(), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=50, deadline=None)
@given(
    before=st.dictionaries(st.text(max_size=8), _VALUES, max_size=8),
    changes=st.dictionaries(st.text(max_size=8), _VALUES, max_size=4),
    pad=st.sampled_from([0, 1000, LIMIT // 2, LIMIT - 200, LIMIT]),
)
def test_the_output_bound_is_never_below_the_real_size(
    before: dict[str, Any], changes: dict[str, Any], pad: int
) -> None:
    """check_output may answer a bound instead of measuring; the bound must be sound and
    an output over the quota must always fail."""
    from runtime.engine.errors import DataLimitExceeded, check_output

    before = {**before, "pad": "x" * pad}
    after = {**before, **changes}
    exact = payload_bytes(after)
    try:
        bound = check_output(after, before, payload_bytes(before), "S")
    except DataLimitExceeded:
        assert exact > LIMIT
    else:
        assert exact <= LIMIT
        assert bound >= exact
