"""``asl exec``: the JSON contract of ../shared/conformance/run.py, exit codes, files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runtime.cli import main

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "why"}}}


def write(tmp_path: Path, name: str, value: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value))
    return str(path)


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, Any]:
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_json_contract_on_success(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    machine = write(tmp_path, "m.json", PASS)
    code, doc = run_json(
        capsys, ["exec", machine, "--input-json", "{}", "--clock", "virtual", "--json"]
    )
    assert code == 0
    assert doc == {
        "status": "SUCCEEDED",
        "output": {"ok": 1},
        "error": None,
        "cause": None,
        "events": ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"],
    }


def test_failure_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, ["exec", write(tmp_path, "f.json", FAIL), "--json"])
    assert code == 1
    assert (doc["status"], doc["error"], doc["cause"]) == ("FAILED", "Bad", "why")


def test_history_file_is_aws_shaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = tmp_path / "h.json"
    main(["exec", write(tmp_path, "m.json", PASS), "--quiet", "--history", str(history)])
    events = json.loads(history.read_text())["events"]
    assert [e["id"] for e in events] == [1, 2, 3, 4]
    assert events[1]["previousEventId"] == 1
    entered = events[1]["stateEnteredEventDetails"]
    assert entered == {"name": "P", "input": "{}", "inputDetails": {"truncated": False}}
    assert json.loads(events[2]["stateExitedEventDetails"]["output"]) == {"ok": 1}


def test_mock_config_by_file_stem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    machine = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": True}},
    }
    mocks = {
        "StateMachines": {"orders": {"TestCases": {"Ok": {"T": "R"}}}},
        "MockedResponses": {"R": {"0": {"Return": {"MessageId": "m-1"}}}},
    }
    argv = [
        "exec",
        write(tmp_path, "orders.asl.json", machine),
        "--json",
        "--mock-config",
        write(tmp_path, "mocks.json", mocks),
        "--test-case",
        "Ok",
    ]
    code, doc = run_json(capsys, argv)
    assert (code, doc["output"]) == (0, {"MessageId": "m-1"})


@pytest.mark.parametrize(
    ("files", "extra", "message"),
    [
        ({"m.json": {"StartAt": "X", "States": {}}}, [], "StartAt"),
        ({"m.json": PASS}, ["--input-json", "{nope"], "cannot read the input"),
        (
            {"m.json": PASS},
            ["--mock-config", "/nonexistent.json", "--test-case", "T"],
            "nonexistent",
        ),
        ({"m.json": PASS}, ["--mock-config", "/nonexistent.json"], "--test-case"),
    ],
)
def test_user_mistakes_give_one_line_and_exit_2(
    tmp_path: Path, files: dict[str, Any], extra: list[str], message: str
) -> None:
    paths = [write(tmp_path, name, value) for name, value in files.items()]
    proc = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "exec", paths[0], *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_definition_file(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "exec", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_seed_repeats_random_intrinsics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    machine = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "Parameters": {"r.$": "States.MathRandom(1, 1000000)", "u.$": "States.UUID()"},
                "End": True,
            }
        },
    }
    path = write(tmp_path, "r.json", machine)
    outputs = [
        run_json(capsys, ["exec", path, "--json", "--seed", seed])[1]["output"]
        for seed in ("7", "7", "8")
    ]
    assert outputs[0] == outputs[1] != outputs[2]
