"""Nothing that is not JSON gets into an execution: NaN, Infinity and numbers too large for a
double are refused at every door (the input, a callback's answer, a local handler's
result), so no history, output or store ever holds text that is not JSON."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime import run_sync
from runtime.callbacks.registry import CallbackRegistry, InvalidOutput
from runtime.engine.events import loads

ROOT = Path(__file__).resolve().parents[1]
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
TASK = {
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "End": True,
        }
    },
}


@pytest.mark.parametrize(
    "text", ["NaN", "Infinity", "-Infinity", '{"x": NaN}', "[1e999]", '{"x": -1e400}']
)
def test_loads_refuses_what_is_not_json(text: str) -> None:
    with pytest.raises(ValueError):
        loads(text)


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_loads_reads_every_json_value(value: Any) -> None:
    assert loads(json.dumps(value)) == value


def test_huge_integers_are_still_numbers() -> None:
    assert loads("1" + "0" * 400) == 10**400


@pytest.mark.parametrize("text", ["NaN", '{"x": Infinity}', '{"big": 1e999}'])
def test_asl_exec_refuses_an_input_that_is_not_json(tmp_path: Path, text: str) -> None:
    definition = tmp_path / "m.json"
    definition.write_text(json.dumps(PASS))
    for way in (["--input-json", text], ["--input", str(tmp_path / "in.json")]):
        (tmp_path / "in.json").write_text(text)
        done = subprocess.run(
            [sys.executable, "-m", "runtime.cli", "exec", str(definition), *way, "--no-store"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1 and "cannot read the input" in done.stderr


@pytest.mark.parametrize("output", ["NaN", '{"score": Infinity}', "[1e999]"])
def test_a_callback_answer_that_is_not_json_is_invalid_output(output: str) -> None:
    registry = CallbackRegistry()

    async def main() -> None:
        with registry.expect("tok"):
            with pytest.raises(InvalidOutput):
                registry.send_task_success("tok", output)
            assert registry.pending() == ["tok"]  # still open for a valid answer
            registry.send_task_success("tok", "1")

    anyio.run(main)


def test_a_handler_returning_nan_fails_to_marshal_as_lambda_reports_it() -> None:
    result = run_sync(TASK, {}, functions={"f": lambda event: {"score": math.nan}})
    assert (result.status, result.error) == ("FAILED", "Runtime.MarshalError")
    assert "Out of range float values are not JSON compliant" in (result.cause or "")
