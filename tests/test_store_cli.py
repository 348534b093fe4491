"""``asl executions``, ``asl history`` and ``asl describe`` on executions recorded by a run."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runtime import run_sync
from runtime.cli.store import main
from runtime.durable.store import ExecutionInfo, Store, StoreRecorder
from runtime.engine.errors import TaskFailure

PREFIX = "arn:aws:states:us-east-1:123456789012"
WORKFLOW = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Task",
            "Resource": f"{PREFIX.replace('states', 'lambda')}:function:work",
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
            "Next": "Fan",
        },
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 30, "End": True}}},
                {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}},
            ],
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$[0].items",
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "End": True,
        },
    },
}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "why [not]"}}}


def flaky() -> Any:
    calls = [0]

    def work(payload: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            raise TaskFailure("Flaky", "first call fails")
        return {"items": [1, 2, 3], **payload}

    return work


def record(path: Path, definition: Any, name: str, machine: str = "M", **kw: Any) -> Any:
    info = ExecutionInfo(
        f"{PREFIX}:execution:{machine}:{name}",
        name,
        f"{PREFIX}:stateMachine:{machine}",
        machine,
        definition,
    )
    with Store.open(path) as store:
        recorder = StoreRecorder(store, info)
        return run_sync(
            definition,
            {"n": name},
            name=name,
            state_machine_name=machine,
            observers=[recorder],
            **kw,
        )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_history_json_is_the_run_history(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `asl history` prints what `asl exec --history` wrote.
    result = record(db, WORKFLOW, "wf", functions={"work": flaky()})
    assert result.succeeded and "MapIterationSucceeded" in result.event_types
    code, out, _ = run_cli(capsys, "history", "wf", "--json", "--store", str(db))
    assert code == 0
    assert json.loads(out) == json.loads(json.dumps({"events": result.history_json()}))


def test_history_reverse(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = record(db, FAIL, "f1")
    _, out, _ = run_cli(capsys, "history", "f1", "--json", "--reverse", "--store", str(db))
    assert [e["type"] for e in json.loads(out)["events"]] == result.event_types[::-1]


def test_history_table(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record(db, WORKFLOW, "wf", functions={"work": flaky()})
    code, out, _ = run_cli(capsys, "history", "wf", "--store", str(db))
    assert code == 0
    assert "wf (SUCCEEDED)" in out
    lines = [line for line in out.splitlines() if "LambdaFunctionFailed" in line]
    assert len(lines) == 1 and "Work" in lines[0] and "Flaky" in lines[0]
    assert "ExecutionSucceeded" in out and "MapIterationStarted" in out


def test_describe_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = record(db, FAIL, "f1")
    code, out, _ = run_cli(capsys, "describe", "f1", "--json", "--store", str(db))
    assert code == 0
    stamp = datetime.fromtimestamp(result.start_time, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    doc = json.loads(out)
    assert doc["startDate"].startswith(stamp) and doc["startDate"].endswith("Z")
    del doc["startDate"], doc["stopDate"]
    assert doc == {
        "executionArn": result.arn,
        "stateMachineArn": f"{PREFIX}:stateMachine:M",
        "name": "f1",
        "status": "FAILED",
        "input": '{"n":"f1"}',
        "inputDetails": {"included": True},
        "error": "Bad",
        "cause": "why [not]",
        "redriveCount": 0,
    }


def test_describe_output_of_a_success(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = record(db, WORKFLOW, "wf", functions={"work": flaky()})
    _, out, _ = run_cli(capsys, "describe", result.arn, "--json", "--store", str(db))
    doc = json.loads(out)
    assert (doc["status"], json.loads(doc["output"])) == ("SUCCEEDED", result.output)
    assert doc["outputDetails"] == {"included": True}


def test_describe_table(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record(db, FAIL, "f1")
    code, out, _ = run_cli(capsys, "describe", "f", "--store", str(db))
    assert code == 0
    assert "FAILED" in out and "why [not]" in out and '"n": "f1"' in out
    assert "Duration" in out


def test_executions_filters(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record(db, FAIL, "f1", machine="Alpha")
    record(db, FAIL, "f2", machine="Beta")
    record(db, WORKFLOW, "ok", machine="Alpha", functions={"work": flaky()})

    def listed(*extra: str) -> list[str]:
        code, out, _ = run_cli(capsys, "executions", "--json", "--store", str(db), *extra)
        assert code == 0
        return sorted(item["name"] for item in json.loads(out)["executions"])

    assert listed() == ["f1", "f2", "ok"]
    assert listed("--state-machine", "Alpha") == ["f1", "ok"]
    assert listed("--status", "failed") == ["f1", "f2"]
    assert listed("--state-machine", "Alpha", "--status", "SUCCEEDED") == ["ok"]
    assert listed("--since", "2000-01-01T00:00:00Z", "--until", "2000-01-02") == []
    assert len(listed("--since", "2000-01-01")) == 3
    assert len(listed("--limit", "1")) == 1


def test_executions_table(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record(db, FAIL, "f1", machine="Alpha")
    code, out, _ = run_cli(capsys, "executions", "--store", str(db))
    assert code == 0 and "f1" in out and "Alpha" in out and "FAILED" in out
    _, out, _ = run_cli(capsys, "executions", "--store", str(db), "--status", "RUNNING")
    assert "no executions" in out


def test_the_env_var_names_the_store(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    record(db, FAIL, "f1")
    monkeypatch.setenv("ASL_STORE", str(db))
    code, out, _ = run_cli(capsys, "describe", "f1", "--json")
    assert code == 0 and json.loads(out)["name"] == "f1"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["describe", "nope"], 1, "no execution matches 'nope'"),
        (["history", "f"], 1, "'f' matches several executions"),
        (["executions", "--since", "yesterday"], 2, "not an ISO 8601 time: 'yesterday'"),
        (["executions", "--status", "DONE"], 2, "invalid choice"),
        (["history"], 2, "the following arguments are required: execution"),
    ],
)
def test_mistakes_are_one_red_line(
    db: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    record(db, FAIL, "f1")
    record(db, FAIL, "f2")
    got, out, err = run_cli(capsys, *argv, "--store", str(db))
    assert (got, out) == (code, "")
    assert err.startswith("error:") and message in err and len(err.strip().splitlines()) == 1


def test_a_missing_store_is_an_error_and_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.db"
    code, _, err = run_cli(capsys, "executions", "--store", str(missing))
    assert code == 1 and f"no store at {missing}" in err
    assert not missing.exists()


def test_asl_history_prints_what_the_history_file_of_the_run_holds(tmp_path: Path) -> None:
    """`asl history` on a finished execution equals the run's --history file."""
    import subprocess
    import sys

    samples = Path(__file__).resolve().parents[1] / "samples" / "order_pipeline"
    env = dict(os.environ, ASL_STORE=str(tmp_path / "store.db"))
    history_file = tmp_path / "run.json"
    asl = [sys.executable, "-m", "runtime.cli"]
    ran = subprocess.run(
        [
            *asl,
            "exec",
            str(samples / "machine.asl.json"),
            "--input",
            str(samples / "input.json"),
            "--mock-config",
            str(samples / "MockConfigFile.json"),
            "--test-case",
            "HappyPath",
            "--clock",
            "virtual",
            "--quiet",
            "--name",
            "audited",
            "--history",
            str(history_file),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    printed = subprocess.run(
        [*asl, "history", "audited", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == json.loads(history_file.read_text())


LONG_NAME = "a-long-execution-name-" + "x" * 50


def test_describe_never_cuts_the_arns(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    result = record(db, FAIL, LONG_NAME)
    code, out, _ = run_cli(capsys, "describe", LONG_NAME, "--store", str(db))
    assert code == 0
    [line] = [line for line in out.splitlines() if line.startswith("Execution")]
    assert line.split()[-1] == result.arn
    assert any(line.split()[:2] == ["Status", "FAILED"] for line in out.splitlines())


def test_history_keeps_room_for_details_on_a_narrow_terminal(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    record(db, FAIL, LONG_NAME)
    code, out, _ = run_cli(capsys, "history", LONG_NAME, "--store", str(db))
    assert code == 0
    [failed] = [line for line in out.splitlines() if "ExecutionFailed" in line]
    details = failed.split("│")[-2].strip()
    assert details == "Bad: why [not]"
    # The date has a row of its own; the other rows show the time only.
    cells = [line.split("│")[2].strip() for line in out.splitlines() if line.count("│") == 6]
    times = [cell for cell in cells if cell]
    assert len(times[0]) == len("2026-12-03") and times[0].count("-") == 2
    assert all(len(time) == len("08:15:58.881") for time in times[1:])
