"""``asl deploy``, ``asl exec --on aws`` and ``asl diff`` against a moto server standing in
for AWS Step Functions (moto's own interpreter runs the executions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROLE = "arn:aws:iam::123456789012:role/StepFunctions"
MACHINE: dict[str, Any] = {
    "Comment": "no Tasks: moto's interpreter runs it as AWS would",
    "StartAt": "Prepare",
    "States": {
        "Prepare": {
            "Type": "Pass",
            "Result": {"items": [1, 2, 3]},
            "ResultPath": "$.data",
            "Next": "Fan",
        },
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Left",
                    "States": {"Left": {"Type": "Pass", "Result": "l", "End": True}},
                },
                {
                    "StartAt": "Right",
                    "States": {"Right": {"Type": "Pass", "Result": "r", "End": True}},
                },
            ],
            "ResultPath": "$.fan",
            "Next": "Decide",
        },
        "Decide": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Stop",
        },
        "Done": {"Type": "Succeed"},
        "Stop": {"Type": "Fail", "Error": "Stopped", "Cause": "go was not true"},
    },
}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    import requests
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # moto runs executions only when asked to (it answers with canned data otherwise).
    requests.post(
        f"{url}/moto-api/config",
        json={"stepfunctions": {"execute_state_machine": True}},
        timeout=10,
    ).raise_for_status()
    yield url
    server.stop()


def asl(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ASL_STORE": str(tmp_path / "store.db"),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write(tmp_path: Path, name: str, doc: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=1))
    return str(path)


def deploy(tmp_path: Path, url: str, definition: Any, name: str, *extra: str) -> Any:
    path = write(tmp_path, f"{name}.json", definition)
    return asl(
        tmp_path,
        url,
        "deploy",
        path,
        "--name",
        name,
        "--role-arn",
        ROLE,
        "--endpoint-url",
        url,
        *extra,
    )


def test_deploy_creates_then_updates_with_a_diff(tmp_path: Path, moto_url: str) -> None:
    created = deploy(tmp_path, moto_url, MACHINE, "orders")
    assert created.returncode == 0, created.stderr
    arn = created.stdout.strip().splitlines()[-1]
    assert arn == "arn:aws:states:us-east-1:123456789012:stateMachine:orders"
    assert "orders: new state machine (STANDARD)" in created.stderr
    # moto cannot validate remotely: said, not hidden.
    assert "validated locally only" in created.stderr

    again = deploy(tmp_path, moto_url, MACHINE, "orders")
    assert again.returncode == 0 and "orders: no change" in again.stderr
    assert again.stdout.strip() == arn

    changed = json.loads(json.dumps(MACHINE))
    changed["States"]["Stop"]["Cause"] = "go was false"
    dry = deploy(tmp_path, moto_url, changed, "orders", "--dry-run")
    assert dry.returncode == 0
    assert '-      "Cause": "go was not true"' in dry.stderr
    assert '+      "Cause": "go was false"' in dry.stderr
    assert "dry run: nothing was changed" in dry.stderr
    still = deploy(tmp_path, moto_url, MACHINE, "orders")
    assert "no change" in still.stderr  # the dry run changed nothing

    updated = deploy(
        tmp_path, moto_url, changed, "orders", "--publish", "--alias", "live", "--tag", "team=data"
    )
    assert updated.returncode == 0, updated.stderr
    assert f"updated: {arn}" in updated.stderr
    assert f"version: {arn}:" in updated.stderr
    assert f"alias: {arn}:live" in updated.stderr
    assert "~ tag team: None → data" in updated.stderr


def test_deploy_refuses_an_invalid_definition_before_calling_aws(
    tmp_path: Path, moto_url: str
) -> None:
    broken = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
    done = deploy(tmp_path, moto_url, broken, "broken")
    assert done.returncode == 2
    assert "/States/A/Next" in done.stderr and "Traceback" not in done.stderr
    listed = asl(tmp_path, moto_url, "deploy", "--help")
    assert listed.returncode == 0


def test_exec_on_aws_streams_the_cloud_history_into_the_local_tools(
    tmp_path: Path, moto_url: str
) -> None:
    arn = deploy(tmp_path, moto_url, MACHINE, "cloudrun").stdout.strip().splitlines()[-1]
    done = asl(
        tmp_path,
        moto_url,
        "exec",
        "--on",
        "aws",
        "--state-machine-arn",
        arn,
        "--endpoint-url",
        moto_url,
        "--input-json",
        '{"go": true}',
        "--name",
        "c1",
        "--history",
        "cloud.json",
        "--report",
        "cloud.html",
        "--clock",
        "virtual",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["fan"] == ["l", "r"]
    assert (
        "started on AWS: arn:aws:states:us-east-1:123456789012:execution:cloudrun:c1" in done.stderr
    )
    # The same live trace as a local run, nested branches labelled.
    assert "✓ Prepare  Pass" in done.stderr and "✓ execution SUCCEEDED" in done.stderr
    assert "] ✓ Left  Pass" in done.stderr
    events = json.loads((tmp_path / "cloud.json").read_text())["events"]
    assert events[0]["type"] == "ExecutionStarted" and events[-1]["type"] == "ExecutionSucceeded"
    assert 'data-state="Decide"' in (tmp_path / "cloud.html").read_text()
    listed = asl(tmp_path, moto_url, "executions", "--json")
    [row] = json.loads(listed.stdout)["executions"]
    assert row["name"] == "c1" and row["status"] == "SUCCEEDED"

    local = asl(
        tmp_path,
        moto_url,
        "exec",
        write(tmp_path, "m.json", MACHINE),
        "--input-json",
        '{"go": true}',
        "--name",
        "l1",
        "--clock",
        "virtual",
        "--quiet",
    )
    assert local.returncode == 0, local.stderr
    same = asl(tmp_path, moto_url, "diff", "l1", "c1")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "same path, outputs and errors" in same.stdout

    other = asl(
        tmp_path,
        moto_url,
        "exec",
        "--on",
        "aws",
        "--state-machine-arn",
        arn,
        "--endpoint-url",
        moto_url,
        "--input-json",
        '{"go": false}',
        "--name",
        "c2",
        "--clock",
        "virtual",
        "--quiet",
    )
    assert other.returncode == 1 and "FAILED: Stopped: go was not true" in other.stderr
    differs = asl(tmp_path, moto_url, "diff", "l1", "c2", "--json")
    assert differs.returncode == 1
    found = json.loads(differs.stdout)["differences"]
    assert {
        "thread": "execution",
        "what": "status",
        "left": "SUCCEEDED",
        "right": "FAILED",
    } in found
    assert any(d["what"] == "path" for d in found)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--mock-config", "m.json"], "--mock-config is for a local run"),
        (["--lambda", "f=x.py:h"], "--lambda is for a local run"),
        ([], "--on aws needs --state-machine-arn"),
        (["machine.json"], "give --state-machine-arn"),
    ],
)
def test_exec_on_aws_refuses_what_it_cannot_honour(
    tmp_path: Path, extra: list[str], says: str
) -> None:
    arn = (
        []
        if "needs" in says
        else ["--state-machine-arn", "arn:aws:states:us-east-1:1:stateMachine:x"]
    )
    done = asl(tmp_path, "", "exec", "--on", "aws", *arn, *extra)
    assert done.returncode == 2
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_start_on_aws_starts_and_prints_the_execution_arn(tmp_path: Path, moto_url: str) -> None:
    arn = deploy(tmp_path, moto_url, MACHINE, "started").stdout.strip().splitlines()[-1]
    done = asl(
        tmp_path,
        moto_url,
        "start",
        "--on",
        "aws",
        "--state-machine-arn",
        arn,
        "--endpoint-url",
        moto_url,
        "--input-json",
        '{"go": true}',
        "--name",
        "s1",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "arn:aws:states:us-east-1:123456789012:execution:started:s1"


WAITING: dict[str, Any] = {
    "StartAt": "Hold",
    "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}},
}


def test_executions_history_describe_and_stop_read_and_act_on_aws(
    tmp_path: Path, moto_url: str
) -> None:
    arn = deploy(tmp_path, moto_url, MACHINE, "audited").stdout.strip().splitlines()[-1]
    on_aws = ("--on", "aws", "--endpoint-url", moto_url)
    for name, go in (("good", True), ("bad", False)):
        done = asl(
            tmp_path, moto_url, "exec", *on_aws, "--state-machine-arn", arn, "--quiet",
            "--input-json", json.dumps({"go": go}), "--name", name, "--clock", "virtual",
        )  # fmt: skip
        assert done.returncode == (0 if go else 1), done.stderr

    # By name (looked up through ListStateMachines), every page, AWS's item shape.
    listed = asl(tmp_path, moto_url, "executions", *on_aws, "--state-machine", "audited", "--json")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)["executions"]
    assert {item["name"]: item["status"] for item in items} == {
        "good": "SUCCEEDED",
        "bad": "FAILED",
    }
    assert all(item["startDate"].endswith("Z") for item in items)
    failed = asl(
        tmp_path, moto_url, "executions", *on_aws, "--state-machine", arn, "--status", "failed"
    )
    assert failed.returncode == 0 and "bad" in failed.stdout and "good" not in failed.stdout

    good = f"{arn.replace(':stateMachine:', ':execution:')}:good"
    history = asl(tmp_path, moto_url, "history", *on_aws, good, "--json")
    events = json.loads(history.stdout)["events"]
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] == "ExecutionSucceeded"
    newest_first = asl(tmp_path, moto_url, "history", *on_aws, good, "--json", "--reverse")
    assert json.loads(newest_first.stdout)["events"] == events[::-1]
    table = asl(tmp_path, moto_url, "history", *on_aws, good)
    assert table.returncode == 0 and "good (SUCCEEDED)" in table.stdout
    assert "PassStateEntered" in table.stdout

    described = asl(tmp_path, moto_url, "describe", *on_aws, good, "--json")
    assert json.loads(described.stdout)["status"] == "SUCCEEDED"
    bad = good.removesuffix("good") + "bad"
    grid = asl(tmp_path, moto_url, "describe", *on_aws, bad)
    assert grid.returncode == 0 and "FAILED" in grid.stdout and "Stopped" in grid.stdout

    waiting = deploy(tmp_path, moto_url, WAITING, "waiting").stdout.strip().splitlines()[-1]
    started = asl(tmp_path, moto_url, "start", *on_aws, "--state-machine-arn", waiting)
    execution = started.stdout.strip()
    stopped = asl(tmp_path, moto_url, "stop", *on_aws, execution, "--error", "Manual")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.startswith(f"{execution}: ABORTED")
    after = asl(tmp_path, moto_url, "describe", *on_aws, execution, "--json")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["status"] == "ABORTED"


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["executions", "--on", "aws"], "give --state-machine"),
        (["executions", "--on", "aws", "--state-machine", "nope"], "no state machine named 'nope'"),
        (["history", "--on", "aws", "some-name"], "takes an execution ARN"),
        (["executions", "--on", "aws", "--store", "x.db"], "--store is the local store"),
        (["executions", "--region", "eu-west-1"], "add --on aws"),
        (["stop", "--on", "aws", "arn:aws:states:x", "--wait", "3"], "--wait is for a local"),
        (["stop", "--on", "aws", "name"], "takes an execution ARN"),
    ],
)
def test_on_aws_mistakes_are_one_line(
    tmp_path: Path, moto_url: str, command: list[str], says: str
) -> None:
    done = asl(tmp_path, moto_url, *command, "--endpoint-url", moto_url)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1
