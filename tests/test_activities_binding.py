"""``activities=`` in the library and ``asl exec --activity NAME=COMMAND``: activity tasks
worked in process, on the virtual clock; ``functions=`` never silently skips an activity."""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from runtime import TaskFailure, VirtualClock, run, run_sync
from runtime.cli import exec as exec_cli

ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:review"
MACHINE = {
    "StartAt": "Review",
    "States": {
        "Review": {
            "Type": "Task",
            "Resource": ACTIVITY,
            "TimeoutSeconds": 60,
            "HeartbeatSeconds": 10,
            "Catch": [{"ErrorEquals": ["Review.Rejected"], "Next": "Rejected"}],
            "End": True,
        },
        "Rejected": {"Type": "Pass", "Result": "rejected", "End": True},
    },
}


def test_an_activity_bound_to_a_function_is_worked_in_process() -> None:
    seen: list[Any] = []

    def review(task: dict[str, Any]) -> dict[str, Any]:
        seen.append(task)
        return {"approved": task["doc"] > 0}

    result = run_sync(MACHINE, {"doc": 3}, activities={"review": review}, clock=VirtualClock())
    assert (result.status, result.output) == ("SUCCEEDED", {"approved": True})
    assert seen == [{"doc": 3}]
    assert result.event_types[2:6] == [
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
    ]
    started = next(e for e in result.history if e.type == "ActivityStarted")
    assert started.details == {"workerName": "asl-runtime"}


def test_a_task_failure_from_the_activity_function_is_an_activity_failure() -> None:
    def review(task: Any) -> Any:
        raise TaskFailure("Review.Rejected", "too short")

    result = run_sync(MACHINE, {}, activities={ACTIVITY: review}, clock=VirtualClock())
    assert (result.status, result.output) == ("SUCCEEDED", "rejected")
    failed = next(e for e in result.history if e.type == "ActivityFailed")
    assert failed.details == {"error": "Review.Rejected", "cause": "too short"}


def test_functions_bound_to_an_activity_is_an_error_not_silence() -> None:
    with pytest.raises(ValueError, match=r"'review' is an activity .* activities=\{'review'"):
        run_sync(MACHINE, {}, functions={"review": lambda event: {}})
    with pytest.raises(ValueError, match="is an activity"):
        run_sync(MACHINE, {}, functions={ACTIVITY: lambda event: {}})


def test_a_misspelt_activity_is_named() -> None:
    with pytest.raises(ValueError, match=r"no Task state uses the activity 'reveiw' .*review"):
        run_sync(MACHINE, {}, activities={"reveiw": lambda task: {}})


def test_run_takes_activities() -> None:
    assert "activities" in inspect.signature(run).parameters


def test_asl_exec_activity_runs_a_command_for_each_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = tmp_path / "review.json"
    definition.write_text(json.dumps(MACHINE))
    script = tmp_path / "review.py"
    script.write_text(
        "import json, sys\n"
        "task = json.load(sys.stdin)\n"
        "print('reviewing', task['doc'], file=sys.stderr)\n"
        "print(json.dumps({'approved': task['doc'] > 0}))\n"
    )
    code = exec_cli.main(
        [
            str(definition),
            "--no-store",
            "--clock",
            "virtual",
            "--json",
            "--input-json",
            '{"doc": 5}',
            "--activity",
            f"review={sys.executable} {script}",
        ]
    )
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert (code, doc["status"], doc["output"]) == (0, "SUCCEEDED", {"approved": True})
    assert "reviewing 5" in out.err  # the command's stderr is streamed


def test_asl_exec_activity_names_a_misspelt_activity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = tmp_path / "review.json"
    definition.write_text(json.dumps(MACHINE))
    code = exec_cli.main([str(definition), "--no-store", "--activity", "reveiw=true"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--activity reveiw=true: no Task state uses the activity 'reveiw'" in err


def test_redrive_works_the_activity_with_the_command_it_was_started_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from runtime.cli import resume as resume_cli

    definition = tmp_path / "review.json"
    definition.write_text(json.dumps(MACHINE))
    marker = tmp_path / "tried"
    script = tmp_path / "review.py"
    script.write_text(
        "import json, pathlib, sys\n"
        "task = json.load(sys.stdin)\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    marker.touch()\n"
        "    sys.exit(3)\n"
        "print(json.dumps({'approved': True}))\n"
    )
    store = str(tmp_path / "s.db")
    bind = f"review={sys.executable} {script}"
    code = exec_cli.main(
        [
            str(definition),
            "--store",
            store,
            "--name",
            "r1",
            "--clock",
            "virtual",
            "--json",
            "--activity",
            bind,
        ]
    )
    first = json.loads(capsys.readouterr().out)
    assert (code, first["status"], first["error"]) == (1, "FAILED", "Worker.ExitCode3")
    code = resume_cli.redrive_main(["r1", "--store", store, "--json"])
    second = json.loads(capsys.readouterr().out)
    assert (code, second["status"], second["output"]) == (0, "SUCCEEDED", {"approved": True})
