"""``asl redrive`` / ``asl resume`` reopen the local endpoint the execution was started with
(``asl exec --endpoint-port``), or the one ``--endpoint-port`` names, so an activity worker
reconnects; on the virtual clock the redriven task waits for it instead of timing out."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from runtime.cli import exec as exec_cli
from runtime.cli import resume as resume_cli

ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:review"
MACHINE = {
    "StartAt": "Review",
    "States": {
        "Review": {"Type": "Task", "Resource": ACTIVITY, "TimeoutSeconds": 300, "End": True}
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def work_one(port: int, answer: dict[str, Any], done: list[str]) -> threading.Thread:
    """A worker thread taking one task of ``review`` from 127.0.0.1:PORT and answering it
    (``{"error": ...}`` fails it); it retries while the endpoint is not up yet."""
    client = boto3.client(
        "stepfunctions",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )

    def work() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                task = client.get_activity_task(activityArn=ACTIVITY, workerName="w")
            except Exception:  # not listening yet
                time.sleep(0.05)
                continue
            if not task.get("taskToken"):
                continue
            if "error" in answer:
                client.send_task_failure(taskToken=task["taskToken"], error=answer["error"])
            else:
                client.send_task_success(taskToken=task["taskToken"], output=json.dumps(answer))
            done.append(task["input"])
            return

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("explicit", [False, True], ids=["stored-port", "endpoint-port-flag"])
def test_redrive_reopens_the_endpoint_for_the_activity_worker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], explicit: bool
) -> None:
    definition = tmp_path / "review.json"
    definition.write_text(json.dumps(MACHINE))
    store = str(tmp_path / "s.db")
    port = free_port()
    done: list[str] = []
    worker = work_one(port, {"error": "Review.Rejected"}, done)
    run = [str(definition), "--name", "rev", "--store", store, "--clock", "virtual"]
    code = exec_cli.main(
        [*run, "--endpoint-port", str(port), "--input-json", '{"doc": 1}', "--json"]
    )
    worker.join(30)
    first = json.loads(capsys.readouterr().out)
    assert (code, first["status"], first["error"]) == (1, "FAILED", "Review.Rejected")

    again = free_port() if explicit else port
    worker = work_one(again, {"approved": True}, done)
    flags = ["--endpoint-port", str(again)] if explicit else []
    code = resume_cli.redrive_main(["rev", "--store", store, "--json", *flags])
    worker.join(30)
    out = capsys.readouterr()
    second = json.loads(out.out)
    assert (code, second["status"], second["output"]) == (0, "SUCCEEDED", {"approved": True})
    assert f"Step Functions endpoint: http://127.0.0.1:{again}" in out.err
    assert done == ['{"doc":1}', '{"doc":1}']
    assert second["events"][-5:] == [
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
