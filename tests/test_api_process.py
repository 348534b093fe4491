"""``asl serve --api`` as a process: driven by the real AWS CLI, and killed (SIGKILL) and
restarted while executions wait on the real clock."""

from __future__ import annotations

import collections
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

ROLE = "arn:aws:iam::123456789012:role/DummyRole"
AWS = Path(sys.executable).parent / "aws"
DEADLINE_SECONDS = 60.0


class Server:
    """An ``asl serve --api --port 0 --json-log`` subprocess and the URL it printed; its
    log lines (one per execution started and ended) are read in a thread, so that tests
    wait on them (:meth:`wait`) instead of polling the API."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        command = [sys.executable, "-m", "runtime.cli", "serve", "--api", "--port", "0"]
        command += ["--json-log", *args]
        self.process = subprocess.Popen(
            command,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.url = self._read_url()
        self._seen: collections.Counter[tuple[str, str]] = collections.Counter()
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        try:
            for line in self.process.stderr:
                self._note(line)
        except (ValueError, OSError):  # the fixture closed the pipe
            return

    def _note(self, line: str) -> None:
        try:
            record = json.loads(line)
        except ValueError:
            return
        if isinstance(record, dict) and "execution" in record:
            with self._changed:
                self._seen[(record["event"], record["execution"])] += 1
                self._changed.notify_all()

    def wait(self, event: str, arns: Iterable[str]) -> None:
        """Block until the log said ``event`` ("started", "ended") for every one of
        ``arns``; fail after DEADLINE_SECONDS."""
        wanted = list(arns)
        with self._changed:
            done = self._changed.wait_for(
                lambda: all(self._seen[(event, arn)] for arn in wanted), DEADLINE_SECONDS
            )
        missing = [arn for arn in wanted if not self._seen[(event, arn)]]
        assert done, f"no '{event}' log line for {len(missing)} execution(s), e.g. {missing[0]}"

    def _read_url(self) -> str:
        assert self.process.stderr is not None
        deadline = time.monotonic() + DEADLINE_SECONDS
        seen = ""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stderr], [], [], 0.5)
            if ready:
                line = self.process.stderr.readline()
                seen += line
                if line.startswith("Step Functions API: "):
                    return line.split()[3]
                if not line and self.process.poll() is not None:
                    break
        self.process.kill()
        raise AssertionError(f"the server did not start:\n{seen}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=DEADLINE_SECONDS)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=DEADLINE_SECONDS)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.kill()
        server._reader.join(DEADLINE_SECONDS)  # at the pipe's end once the process is gone
        assert server.process.stderr is not None
        server.process.stderr.close()


def client(url: str) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="dummy",
        aws_secret_access_key="dummy",
    )


def ended_status(server: Server | Any, sfn: Any, arn: str) -> str:
    """The status of execution ``arn`` once ``server`` (a :class:`Server` or an
    in-process ``ApiServer``) said it ended."""
    if isinstance(server, Server):
        server.wait("ended", [arn])
    else:
        assert server.wait_ended(arn, timeout=DEADLINE_SECONDS), f"{arn} did not end"
    status: str = sfn.describe_execution(executionArn=arn)["status"]
    return status


# -- restart -----------------------------------------------------------------------------

#: As many executions as the server runs when it is killed.
EXECUTIONS = 200
WAITING = {
    "StartAt": "Before",
    "States": {
        "Before": {"Type": "Pass", "Result": {"step": 1}, "ResultPath": "$.before", "Next": "Nap"},
        "Nap": {"Type": "Wait", "Seconds": 3, "Next": "After"},
        "After": {"Type": "Pass", "Result": {"step": 2}, "ResultPath": "$.after", "End": True},
    },
}


def test_executions_survive_a_kill_and_finish_exactly_once(
    tmp_path: Path, servers: list[Server]
) -> None:
    store = str(tmp_path / "store.db")
    servers.append(Server("--store", store))
    sfn = client(servers[0].url)
    arn = sfn.create_state_machine(name="Napper", definition=json.dumps(WAITING), roleArn=ROLE)[
        "stateMachineArn"
    ]
    executions = [
        sfn.start_execution(stateMachineArn=arn, name=f"e{i}", input=json.dumps({"i": i}))[
            "executionArn"
        ]
        for i in range(EXECUTIONS)
    ]
    servers[0].wait("started", executions)
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:  # the last one started is in its Wait (or past it)
        events = sfn.get_execution_history(executionArn=executions[-1])["events"]
        if any(event["type"] == "WaitStateEntered" for event in events):
            break
    servers[0].kill()
    audit = [sys.executable, "-m", "runtime.cli", "executions", "--store", store, "--json"]
    audit += ["--limit", "0"]
    running = subprocess.run(
        [*audit, "--status", "RUNNING"],
        capture_output=True,
        text=True,
        check=True,
    )
    left = [row["executionArn"] for row in json.loads(running.stdout)["executions"]]
    assert left, "the kill came after every execution ended"

    servers.append(Server("--store", store))
    sfn = client(servers[1].url)
    servers[1].wait("ended", left)
    assert not sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
    for index, execution in enumerate(executions):
        events = sfn.get_execution_history(executionArn=execution)["events"]
        types = [e["type"] for e in events]
        assert types == [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded",
        ]
        assert [e["id"] for e in events] == list(range(1, 9))
        output = events[-1]["executionSucceededEventDetails"]["output"]
        assert json.loads(output) == {"i": index, "before": {"step": 1}, "after": {"step": 2}}
        waited = (events[4]["timestamp"] - events[3]["timestamp"]).total_seconds()
        assert 3.0 <= waited < 3.0 + DEADLINE_SECONDS
    assert servers[1].stop() == 0
    listed = subprocess.run(
        audit,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(listed.stdout)["executions"]
    assert sorted(r["executionArn"] for r in rows) == sorted(executions)


# -- the AWS CLI -------------------------------------------------------------------------

MOCKED = {
    "StartAt": "Greet",
    "States": {
        "Greet": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "Greeter", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "End": True,
        }
    },
}
MOCK_CONFIG = {
    "StateMachines": {"Greeting": {"TestCases": {"HappyPath": {"Greet": "Hello"}}}},
    "MockedResponses": {
        "Hello": {"0": {"Return": {"StatusCode": 200, "Payload": {"greeting": "hello"}}}}
    },
}


def aws(
    url: str, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "dummy",
        "AWS_SECRET_ACCESS_KEY": "dummy",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_PAGER": "",
        **(env or {}),
    }
    return subprocess.run(
        [str(AWS), "stepfunctions", "--endpoint-url", url, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=environment,
        check=check,
        timeout=DEADLINE_SECONDS,
    )


@pytest.mark.skipif(not AWS.exists(), reason="the AWS CLI (awscli, a dev extra) is not installed")
def test_the_aws_cli_drives_a_mocked_suite(tmp_path: Path, servers: list[Server]) -> None:
    mock_config = tmp_path / "MockConfigFile.json"
    mock_config.write_text(json.dumps(MOCK_CONFIG))
    # Configured as Step Functions Local is, by its environment variables.
    environment = {"SFN_MOCK_CONFIG": str(mock_config), "WAIT_TIME_SCALE": "0"}
    servers.append(Server("--store", str(tmp_path / "store.db"), env=environment))
    url = servers[0].url
    created = json.loads(
        aws(
            url,
            "create-state-machine",
            "--name",
            "Greeting",
            "--definition",
            json.dumps(MOCKED),
            "--role-arn",
            ROLE,
        ).stdout
    )
    machine = created["stateMachineArn"]
    started = json.loads(
        aws(
            url,
            "start-execution",
            "--state-machine-arn",
            f"{machine}#HappyPath",
            "--name",
            "cli",
            "--input",
            '{"who": "you"}',
        ).stdout
    )
    execution = started["executionArn"]
    assert ended_status(servers[0], client(url), execution) == "SUCCEEDED"
    described = json.loads(aws(url, "describe-execution", "--execution-arn", execution).stdout)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"greeting": "hello"}
    history = json.loads(aws(url, "get-execution-history", "--execution-arn", execution).stdout)
    assert [e["type"] for e in history["events"]] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    listed = json.loads(aws(url, "list-state-machines").stdout)
    assert [m["name"] for m in listed["stateMachines"]] == ["Greeting"]
    missing = aws(url, "describe-execution", "--execution-arn", execution + "-nope", check=False)
    assert missing.returncode != 0
    assert "(ExecutionDoesNotExist)" in missing.stderr


# -- configuration as Step Functions Local has it ----------------------------------------


def test_local_lambda_handlers_and_endpoint_variables(tmp_path: Path) -> None:
    """``--config asl.toml`` routes Lambda tasks to local handlers; the ``*_ENDPOINT``
    variables become task endpoints."""
    from runtime.server.api import ApiOptions, ApiServer
    from runtime.server.api.app import env_endpoints

    (tmp_path / "handlers.py").write_text(
        "def greet(event, context):\n    return {'hello': event['who']}\n"
    )
    (tmp_path / "asl.toml").write_text('[lambda]\ngreeter = "handlers.py:greet"\n')
    machine = {
        "StartAt": "Greet",
        "States": {
            "Greet": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "greeter", "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    options = ApiOptions(
        store=str(tmp_path / "store.db"), port=0, config=str(tmp_path / "asl.toml")
    )
    with ApiServer(options) as server:
        sfn = client(server.url)
        arn = sfn.create_state_machine(name="Local", definition=json.dumps(machine), roleArn=ROLE)[
            "stateMachineArn"
        ]
        execution = sfn.start_execution(stateMachineArn=arn, input='{"who": "you"}')
        assert ended_status(server, sfn, execution["executionArn"]) == "SUCCEEDED"
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        assert json.loads(described["output"]) == {"hello": "you"}
    assert env_endpoints({"LAMBDA_ENDPOINT": "http://l", "SQS_ENDPOINT": "http://q"}) == [
        "lambda=http://l",
        "sqs=http://q",
    ]


def test_state_machines_activities_and_tags_outlive_the_server(tmp_path: Path) -> None:
    from runtime.server.api import ApiOptions, ApiServer

    options = ApiOptions(store=str(tmp_path / "store.db"), port=0)
    with ApiServer(options) as server:
        sfn = client(server.url)
        arn = sfn.create_state_machine(
            name="Kept",
            definition=json.dumps(WAITING),
            roleArn=ROLE,
            tags=[{"key": "k", "value": "v"}],
        )["stateMachineArn"]
        activity = sfn.create_activity(name="KeptActivity")
    with ApiServer(options) as server:
        sfn = client(server.url)
        assert sfn.describe_state_machine(stateMachineArn=arn)["name"] == "Kept"
        assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "k", "value": "v"}]
        described = sfn.describe_activity(activityArn=activity["activityArn"])
        assert described["creationDate"] == activity["creationDate"]
        assert (
            sfn.list_executions(stateMachineArn=arn, redriveFilter="REDRIVEN")["executions"] == []
        )


@pytest.mark.skipif(not AWS.exists(), reason="the AWS CLI (awscli, a dev extra) is not installed")
def test_the_aws_cli_runs_step_functions_locals_suite(
    tmp_path: Path, servers: list[Server]
) -> None:
    """Step Functions Local's documented suite (LambdaSQSIntegration, HappyPath and
    RetryPath), through the unmodified AWS CLI with only --endpoint-url; then the two
    operations botocore sends to ``sync-<host>``, with AWS_DISABLE_HOST_PREFIX_INJECTION."""
    from tests.test_api_server import LAMBDA_SQS, SQS_OK
    from tests.test_api_server import MOCK_CONFIG as SFN_LOCAL_MOCKS

    mock_config = tmp_path / "MockConfigFile.json"
    mock_config.write_text(json.dumps(SFN_LOCAL_MOCKS))
    # LocalStack's name for the MockConfigFile; the ARNs' region and account from the
    # variables Step Functions Local reads.
    environment = {
        "LOCALSTACK_SFN_MOCK_CONFIG": str(mock_config),
        "WAIT_TIME_SCALE": "0",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCOUNT_ID": "111122223333",
    }
    servers.append(Server("--store", str(tmp_path / "store.db"), env=environment))
    url = servers[0].url
    definition = tmp_path / "machine.asl.json"
    definition.write_text(json.dumps(LAMBDA_SQS))
    created = aws(
        url,
        "create-state-machine",
        "--name",
        "LambdaSQSIntegration",
        "--definition",
        f"file://{definition}",
        "--role-arn",
        ROLE,
    )
    machine = json.loads(created.stdout)["stateMachineArn"]
    assert machine == "arn:aws:states:eu-west-1:111122223333:stateMachine:LambdaSQSIntegration"
    failed_tasks: dict[str, int] = {}
    for case in ("HappyPath", "RetryPath"):
        started = aws(
            url, "start-execution", "--state-machine-arn", f"{machine}#{case}", "--name", case
        )
        execution = json.loads(started.stdout)["executionArn"]
        assert ended_status(servers[0], client(url), execution) == "SUCCEEDED"
        described = json.loads(aws(url, "describe-execution", "--execution-arn", execution).stdout)
        assert json.loads(described["output"]) == SQS_OK
        history = aws(url, "get-execution-history", "--execution-arn", execution).stdout
        types = [e["type"] for e in json.loads(history)["events"]]
        assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
        failed_tasks[case] = types.count("TaskFailed")
    assert failed_tasks == {"HappyPath": 0, "RetryPath": 3}

    express = tmp_path / "express.asl.json"
    express.write_text(json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    quick = aws(
        url,
        "create-state-machine",
        "--name",
        "Quick",
        "--type",
        "EXPRESS",
        "--definition",
        f"file://{express}",
        "--role-arn",
        ROLE,
    )
    quick_arn = json.loads(quick.stdout)["stateMachineArn"]
    unprefixed = {"AWS_DISABLE_HOST_PREFIX_INJECTION": "true"}
    result = aws(
        url,
        "start-sync-execution",
        "--state-machine-arn",
        quick_arn,
        "--input",
        '{"a": 1}',
        env=unprefixed,
    )
    assert json.loads(json.loads(result.stdout)["output"]) == {"a": 1}
    tested = aws(
        url,
        "test-state",
        "--definition",
        '{"Type": "Pass", "Result": 1, "Next": "N"}',
        env=unprefixed,
    )
    assert json.loads(tested.stdout) == {"output": "1", "nextState": "N", "status": "SUCCEEDED"}
    # No setting at all: a user part in the endpoint URL takes botocore's "sync-" prefix
    # (sync-sfn@127.0.0.1), the host stays 127.0.0.1.
    with_user = url.replace("http://", "http://sfn@", 1)
    result = aws(with_user, "start-sync-execution", "--state-machine-arn", quick_arn)
    assert json.loads(result.stdout)["status"] == "SUCCEEDED"
    tested = aws(with_user, "test-state", "--definition", '{"Type": "Pass", "End": true}')
    assert json.loads(tested.stdout)["status"] == "SUCCEEDED"


def test_endpoint_variables_route_tasks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQS_ENDPOINT (as Step Functions Local reads it) sends an execution's SQS task to
    that endpoint: here moto's server, where the message then is."""
    from moto.server import ThreadedMotoServer

    from runtime.server.api import ApiOptions, ApiServer
    from runtime.server.api.app import env_endpoints

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "dummy"),
        ("AWS_SECRET_ACCESS_KEY", "dummy"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        moto_url = f"http://{host}:{port}"
        sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1")
        queue = sqs.create_queue(QueueName="orders")["QueueUrl"]
        machine = {
            "StartAt": "Send",
            "States": {
                "Send": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage",
                    "Parameters": {"QueueUrl": queue, "MessageBody.$": "$.body"},
                    "End": True,
                }
            },
        }
        endpoints = tuple(env_endpoints({"SQS_ENDPOINT": moto_url}))
        options = ApiOptions(store=str(tmp_path / "store.db"), port=0, endpoints=endpoints)
        with ApiServer(options) as server:
            sfn = client(server.url)
            arn = sfn.create_state_machine(
                name="Sender", definition=json.dumps(machine), roleArn=ROLE
            )["stateMachineArn"]
            execution = sfn.start_execution(stateMachineArn=arn, input='{"body": "hello"}')
            assert server.wait_ended(execution["executionArn"])
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            assert described["status"] == "SUCCEEDED", described
        messages = sqs.receive_message(QueueUrl=queue)["Messages"]
        assert [m["Body"] for m in messages] == ["hello"]
    finally:
        moto.stop()
