"""``asl serve --api``: the Step Functions API driven by unmodified boto3, as a suite
written for Step Functions Local would drive it (only the endpoint URL changes)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from runtime.server.api import ApiOptions, ApiServer

ROLE = "arn:aws:iam::123456789012:role/DummyRole"

#: The state machine and MockConfigFile of Step Functions Local's documentation
#: ("Using mocked service integrations"), with its Retry as printed there.
LAMBDA_SQS = {
    "Comment": "Calls a Lambda function, then sends its answer to SQS",
    "StartAt": "LambdaState",
    "States": {
        "LambdaState": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"Payload.$": "$", "FunctionName": "HelloWorldFunction"},
            "Retry": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 2,
                    "MaxAttempts": 3,
                    "BackoffRate": 2,
                }
            ],
            "Next": "SQSState",
        },
        "SQSState": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {
                "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/myQueue",
                "MessageBody.$": "$",
            },
            "End": True,
        },
    },
}
LAMBDA_OK = {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}
SQS_OK = {
    "MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
    "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51",
}
MOCK_CONFIG = {
    "StateMachines": {
        "LambdaSQSIntegration": {
            "TestCases": {
                "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
                "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
            }
        }
    },
    "MockedResponses": {
        "MockedLambdaSuccess": {"0": {"Return": LAMBDA_OK}},
        "MockedSQSSuccess": {"0": {"Return": SQS_OK}},
        "MockedLambdaRetry": {
            "0": {
                "Throw": {
                    "Error": "Lambda.ResourceNotReadyException",
                    "Cause": "Lambda resource is not ready.",
                }
            },
            "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
            "3": {"Return": LAMBDA_OK},
        },
    },
}
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def client(url: str) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="dummy",
        aws_secret_access_key="dummy",
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    folder = tmp_path_factory.mktemp("api")
    mock_path = folder / "MockConfigFile.json"
    mock_path.write_text(json.dumps(MOCK_CONFIG))
    options = ApiOptions(
        store=str(folder / "store.db"),
        port=0,
        mock_config=str(mock_path),
        clock="virtual",
        poll_seconds=0.2,
    )
    with ApiServer(options) as running:
        SERVERS[running.url] = running
        yield running
        del SERVERS[running.url]


#: The servers of this module's clients, by endpoint URL (for :func:`wait_until_done`).
SERVERS: dict[str, ApiServer] = {}


@pytest.fixture(scope="module")
def sfn(server: ApiServer) -> Any:
    return client(server.url)


def wait_until_done(sfn: Any, arn: str, times: int = 1) -> dict[str, Any]:
    """DescribeExecution once the server has run ``arn`` to its end (``times`` runs, for
    a redriven one): a wait on the server's condition, never a sleep."""
    assert SERVERS[sfn.meta.endpoint_url].wait_ended(arn, times), f"{arn} never ended"
    described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
    return described


def create(sfn: Any, name: str, definition: dict[str, Any] = PASS, **extra: Any) -> str:
    arn: str = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE, **extra
    )["stateMachineArn"]
    return arn


# -- Step Functions Local's mocked-integration suite -----------------------------------


@pytest.fixture(scope="module")
def lambda_sqs(sfn: Any) -> str:
    return create(sfn, "LambdaSQSIntegration", LAMBDA_SQS)


def test_happy_path_test_case(sfn: Any, lambda_sqs: str) -> None:
    started = sfn.start_execution(
        stateMachineArn=f"{lambda_sqs}#HappyPath", name="happy", input='{"name": "x"}'
    )
    assert started["executionArn"].endswith(":execution:LambdaSQSIntegration:happy")
    done = wait_until_done(sfn, started["executionArn"])
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == SQS_OK
    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    succeeded = events[4]["taskSucceededEventDetails"]
    assert succeeded["resourceType"] == "lambda"
    assert json.loads(succeeded["output"]) == LAMBDA_OK


def test_retry_path_test_case(sfn: Any, lambda_sqs: str) -> None:
    arn = sfn.start_execution(stateMachineArn=f"{lambda_sqs}#RetryPath", name="retry")[
        "executionArn"
    ]
    assert wait_until_done(sfn, arn)["status"] == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=arn)["events"]
    failures = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert [f["error"] for f in failures] == [
        "Lambda.ResourceNotReadyException",
        "Lambda.TimeoutException",
        "Lambda.TimeoutException",
    ]
    assert [e["type"] for e in events].count("TaskSucceeded") == 2
    # The Retry's delays, 2 s then 4 s then 8 s, on the server's virtual clock.
    started = [e["timestamp"] for e in events if e["type"] == "TaskStarted"]
    gaps = [round((b - a).total_seconds()) for a, b in itertools.pairwise(started)]
    assert gaps[:3] == [2, 4, 8]


def test_describe_state_machine_for_execution(sfn: Any, lambda_sqs: str) -> None:
    arn = sfn.start_execution(stateMachineArn=f"{lambda_sqs}#HappyPath")["executionArn"]
    described = sfn.describe_state_machine_for_execution(executionArn=arn)
    assert described["stateMachineArn"] == lambda_sqs
    assert json.loads(described["definition"]) == LAMBDA_SQS
    assert described["roleArn"] == ROLE
    wait_until_done(sfn, arn)


# -- state machines --------------------------------------------------------------------


def test_create_describe_update_delete(sfn: Any) -> None:
    arn = create(sfn, "Lifecycle", tags=[{"key": "team", "value": "a"}])
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["name"] == "Lifecycle"
    assert described["status"] == "ACTIVE"
    assert described["type"] == "STANDARD"
    assert json.loads(described["definition"]) == PASS
    assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    changed = {"StartAt": "Q", "States": {"Q": {"Type": "Succeed"}}}
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(changed))
    assert updated["revisionId"] != described["revisionId"]
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == changed
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=arn)


def test_create_is_idempotent_for_the_same_definition(sfn: Any) -> None:
    first = sfn.create_state_machine(name="Twice", definition=json.dumps(PASS), roleArn=ROLE)
    again = sfn.create_state_machine(name="Twice", definition=json.dumps(PASS), roleArn=ROLE)
    assert again["stateMachineArn"] == first["stateMachineArn"]
    assert again["creationDate"] == first["creationDate"]


def test_express_type_and_configurations_are_returned(sfn: Any) -> None:
    logging = {"level": "ERROR", "includeExecutionData": True}
    arn = create(
        sfn,
        "Express1",
        type="EXPRESS",
        loggingConfiguration=logging,
        tracingConfiguration={"enabled": True},
    )
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["type"] == "EXPRESS"
    assert described["loggingConfiguration"] == logging
    assert described["tracingConfiguration"] == {"enabled": True}


def test_list_state_machines_paginates(sfn: Any) -> None:
    for index in range(5):
        create(sfn, f"Paged{index}")
    pages = list(
        sfn.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 2})
    )
    assert all(len(p["stateMachines"]) <= 2 for p in pages)
    names = [m["name"] for p in pages for m in p["stateMachines"]]
    assert [n for n in names if n.startswith("Paged")] == [f"Paged{i}" for i in range(5)]
    assert len(names) == len(set(names))


def test_validate_state_machine_definition(sfn: Any) -> None:
    ok = sfn.validate_state_machine_definition(definition=json.dumps(PASS))
    assert (ok["result"], ok["diagnostics"]) == ("OK", [])
    bad = {"StartAt": "Nowhere", "States": {"P": {"Type": "Pass", "End": True}}}
    failed = sfn.validate_state_machine_definition(definition=json.dumps(bad))
    assert failed["result"] == "FAIL"
    assert failed["diagnostics"][0]["code"] == "MISSING_TRANSITION_TARGET"
    assert failed["diagnostics"][0]["location"] == "/StartAt"


def test_tags(sfn: Any) -> None:
    arn = create(sfn, "Tagged", tags=[{"key": "a", "value": "1"}])
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
    tags = sfn.list_tags_for_resource(resourceArn=arn)["tags"]
    assert tags == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    sfn.untag_resource(resourceArn=arn, tagKeys=["a", "nope"])
    assert sfn.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]


# -- executions ------------------------------------------------------------------------


def activity_machine(sfn: Any, name: str) -> tuple[str, str]:
    """A state machine whose one Task waits for a worker of a new activity: its
    executions stay RUNNING until answered or stopped, whatever the clock."""
    activity = sfn.create_activity(name=f"{name}Worker")["activityArn"]
    machine = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": activity, "End": True}}}
    return create(sfn, name, machine), activity


def test_start_execution_is_idempotent_while_running(sfn: Any) -> None:
    arn, _ = activity_machine(sfn, "Idempotent")
    first = sfn.start_execution(stateMachineArn=arn, name="same", input="{}")
    again = sfn.start_execution(stateMachineArn=arn, name="same", input="{}")
    assert again["executionArn"] == first["executionArn"]
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arn, name="same", input='{"other": 1}')
    sfn.stop_execution(executionArn=first["executionArn"])
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arn, name="same", input="{}")


def test_history_options_and_paginator(sfn: Any) -> None:
    arn = create(sfn, "Hist")
    execution = sfn.start_execution(stateMachineArn=arn, input='{"secret": 1}')["executionArn"]
    wait_until_done(sfn, execution)
    events = sfn.get_execution_history(executionArn=execution)["events"]
    types = [e["type"] for e in events]
    assert types == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    newest = sfn.get_execution_history(executionArn=execution, reverseOrder=True)["events"]
    assert [e["id"] for e in newest] == [4, 3, 2, 1]
    bare = sfn.get_execution_history(executionArn=execution, includeExecutionData=False)
    assert "input" not in bare["events"][0]["executionStartedEventDetails"]
    paginator = sfn.get_paginator("get_execution_history")
    pages = list(paginator.paginate(executionArn=execution, PaginationConfig={"PageSize": 3}))
    assert [len(p["events"]) for p in pages] == [3, 1]
    assert [e["id"] for p in pages for e in p["events"]] == [1, 2, 3, 4]


def test_list_executions_with_status_filter(sfn: Any) -> None:
    fails = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}
    arn = create(sfn, "Listed", fails)
    arns = [sfn.start_execution(stateMachineArn=arn)["executionArn"] for _ in range(3)]
    for execution in arns:
        assert wait_until_done(sfn, execution)["status"] == "FAILED"
    listed = sfn.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"]
    assert sorted(e["executionArn"] for e in listed) == sorted(arns)
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED")["executions"] == []
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=arn, PaginationConfig={"PageSize": 2}
    )
    assert sorted(e["executionArn"] for p in pages for e in p["executions"]) == sorted(arns)


def test_stop_execution_aborts_a_waiting_task(sfn: Any) -> None:
    arn, activity = activity_machine(sfn, "Stoppable")
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert sfn.get_activity_task(activityArn=activity)["taskToken"]  # it is scheduled
    stopped = sfn.stop_execution(executionArn=execution, error="Why", cause="Because")
    assert "stopDate" in stopped
    described = sfn.describe_execution(executionArn=execution)
    assert (described["status"], described["error"], described["cause"]) == (
        "ABORTED",
        "Why",
        "Because",
    )
    types = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionAborted"
    assert types.count("ExecutionAborted") == 1


def test_stop_execution_of_a_parked_execution_aborts_its_wait(tmp_path: Path) -> None:
    """A real-clock execution in a one-hour Wait is parked in the store (no task); the
    stop makes it due, the serve loop resumes it and aborts it as a running one."""
    nap = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    options = ApiOptions(store=str(tmp_path / "store.db"), port=0, clock="real")
    with ApiServer(options) as running:
        sfn = client(running.url)
        arn = create(sfn, "Napper", nap)
        execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
        assert running.wait_ended(execution)  # parked: it left the serve loop
        sfn.stop_execution(executionArn=execution, error="Why", cause="Because")
        assert running.wait_ended(execution, 2)
        described = sfn.describe_execution(executionArn=execution)
        history = sfn.get_execution_history(executionArn=execution)["events"]
    assert (described["status"], described["error"]) == ("ABORTED", "Why")
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "WaitStateEntered",
        "WaitStateAborted",
        "ExecutionAborted",
    ]


def test_stop_execution_of_a_closed_execution_changes_nothing(sfn: Any) -> None:
    arn = create(sfn, "StopClosed")
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    assert wait_until_done(sfn, execution)["status"] == "SUCCEEDED"
    sfn.stop_execution(executionArn=execution)
    assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"


# -- callbacks and activities ------------------------------------------------------------


def test_activity_worker_round_trip(sfn: Any) -> None:
    activity = sfn.create_activity(name="Approve")["activityArn"]
    assert sfn.describe_activity(activityArn=activity)["name"] == "Approve"
    machine = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": activity, "End": True}}}
    arn = create(sfn, "WithActivity", machine)
    execution = sfn.start_execution(stateMachineArn=arn, input='{"n": 1}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="w1")
    assert json.loads(task["input"]) == {"n": 1}
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output='{"ok": true}')
    done = wait_until_done(sfn, execution)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"ok": True})
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    listed = sfn.get_paginator("list_activities").paginate().build_full_result()
    assert activity in [a["activityArn"] for a in listed["activities"]]
    sfn.delete_activity(activityArn=activity)
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.describe_activity(activityArn=activity)


def test_get_activity_task_returns_no_token_when_idle(sfn: Any) -> None:
    activity = sfn.create_activity(name="Idle")["activityArn"]
    assert "taskToken" not in sfn.get_activity_task(activityArn=activity)


# -- errors: each the exception botocore raises on AWS ---------------------------------

MISSING_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:Missing"
MISSING_EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:Missing:e"
ERRORS: list[tuple[str, Callable[[Any], Any]]] = [
    (
        "StateMachineDoesNotExist",
        lambda c: c.describe_state_machine(stateMachineArn=MISSING_MACHINE),
    ),
    (
        "StateMachineDoesNotExist",
        lambda c: c.start_execution(stateMachineArn=MISSING_MACHINE),
    ),
    ("StateMachineDoesNotExist", lambda c: c.list_executions(stateMachineArn=MISSING_MACHINE)),
    ("ExecutionDoesNotExist", lambda c: c.describe_execution(executionArn=MISSING_EXECUTION)),
    ("ExecutionDoesNotExist", lambda c: c.get_execution_history(executionArn=MISSING_EXECUTION)),
    ("ExecutionDoesNotExist", lambda c: c.stop_execution(executionArn=MISSING_EXECUTION)),
    (
        "ExecutionDoesNotExist",
        lambda c: c.describe_state_machine_for_execution(executionArn=MISSING_EXECUTION),
    ),
    ("InvalidArn", lambda c: c.describe_state_machine(stateMachineArn="not-an-arn")),
    ("InvalidArn", lambda c: c.describe_execution(executionArn=MISSING_MACHINE)),
    ("InvalidArn", lambda c: c.describe_activity(activityArn="arn:nope")),
    (
        "InvalidDefinition",
        lambda c: c.create_state_machine(name="Bad", definition='{"StartAt": 1}', roleArn=ROLE),
    ),
    (
        "InvalidDefinition",
        lambda c: c.create_state_machine(name="Bad", definition="not json", roleArn=ROLE),
    ),
    (
        "InvalidName",
        lambda c: c.create_state_machine(
            name="bad name", definition=json.dumps(PASS), roleArn=ROLE
        ),
    ),
    ("InvalidName", lambda c: c.create_activity(name="a/b")),
    ("InvalidToken", lambda c: c.send_task_success(taskToken="never-issued", output="{}")),
    ("InvalidToken", lambda c: c.list_state_machines(nextToken="garbage")),
    (
        "ActivityDoesNotExist",
        lambda c: c.describe_activity(
            activityArn="arn:aws:states:us-east-1:123456789012:activity:Nope"
        ),
    ),
    ("ValidationException", lambda c: c.list_state_machines(maxResults=1001)),
    (
        "ValidationException",
        lambda c: c.list_executions(stateMachineArn=MISSING_MACHINE, statusFilter="NOPE"),
    ),
    ("ResourceNotFound", lambda c: c.list_tags_for_resource(resourceArn=MISSING_MACHINE)),
]


@pytest.mark.parametrize(
    ("code", "call"), ERRORS, ids=[f"{i}-{e[0]}" for i, e in enumerate(ERRORS)]
)
def test_errors_are_awss(sfn: Any, code: str, call: Callable[[Any], Any]) -> None:
    with pytest.raises(getattr(sfn.exceptions, code)) as raised:
        call(sfn)
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_more_errors(sfn: Any) -> None:
    arn = create(sfn, "Errors2")
    with pytest.raises(sfn.exceptions.MissingRequiredParameter):
        sfn.update_state_machine(stateMachineArn=arn)
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists):
        create(sfn, "Errors2", {"StartAt": "S", "States": {"S": {"Type": "Succeed"}}})
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=arn, input="{not json")
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.start_execution(stateMachineArn=arn, name="has space")
    # Over 256 KiB: the model's length constraint, answered before anything is stored.
    with pytest.raises(sfn.exceptions.ValidationException, match="262144"):
        sfn.start_execution(stateMachineArn=arn, name="big", input=json.dumps("x" * 262_143))
    assert not any(
        e["name"] == "big" for e in sfn.list_executions(stateMachineArn=arn)["executions"]
    )
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.start_execution(stateMachineArn=f"{arn}#NoSuchCase")
    done = sfn.start_execution(stateMachineArn=arn, name="closed")["executionArn"]
    wait_until_done(sfn, done)
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=arn, name="closed", input='{"other": 1}')


def test_invalid_definition_message_lists_the_diagnostics(sfn: Any) -> None:
    bad = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
    with pytest.raises(sfn.exceptions.InvalidDefinition) as raised:
        create(sfn, "BadNext", bad)
    message = raised.value.response["Error"]["Message"]
    assert message.startswith("Invalid State Machine Definition: '")
    assert "MISSING_TRANSITION_TARGET: Missing 'Next' target: " in message
    assert "at /States/A/Next" in message


def test_unknown_operation(server: ApiServer) -> None:
    import urllib.request

    request = urllib.request.Request(
        server.url + "/",
        data=b"{}",
        headers={
            "X-Amz-Target": "AWSStepFunctions.Nope",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 400
    assert json.loads(raised.value.read())["__type"] == "UnknownOperationException"


def test_store_is_shared_with_the_cli(server: ApiServer, sfn: Any, tmp_path: Path) -> None:
    """Executions started through the API are in `asl executions`; `asl start`'s are in
    the API."""
    from runtime.cli import main

    arn = create(sfn, "Shared")
    execution = sfn.start_execution(stateMachineArn=arn, name="via-api")["executionArn"]
    wait_until_done(sfn, execution)
    store = server.options.store
    assert main(["describe", "--store", store, execution]) == 0
    definition = tmp_path / "Shared.json"
    definition.write_text(json.dumps(PASS))
    assert main(["start", str(definition), "--store", store, "--name", "via-cli"]) == 0
    cli_arn = "arn:aws:states:us-east-1:123456789012:execution:Shared:via-cli"
    assert wait_until_done(sfn, cli_arn)["status"] == "SUCCEEDED"
    listed = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert {e["name"] for e in listed} >= {"via-api", "via-cli"}


# -- StartSyncExecution ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sync(server: ApiServer) -> Any:
    """botocore sends StartSyncExecution to the ``sync-`` host prefix: off for a local URL."""
    from botocore.config import Config

    return boto3.client(
        "stepfunctions",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="dummy",
        aws_secret_access_key="dummy",
        config=Config(inject_host_prefix=False),
    )


def test_start_sync_execution_answers_with_the_result(sfn: Any, sync: Any) -> None:
    machine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}}
    arn = create(sfn, "ExpressOk", machine, type="EXPRESS")
    result = sync.start_sync_execution(stateMachineArn=arn, name="now", input='{"a": 1}')
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"ok": 1}
    assert json.loads(result["input"]) == {"a": 1}
    assert result["executionArn"].startswith(
        "arn:aws:states:us-east-1:123456789012:express:ExpressOk:now:"
    )
    assert result["billingDetails"]["billedDurationInMilliseconds"] >= 100
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):  # no history kept
        sfn.list_executions(stateMachineArn=arn)


def test_a_user_part_in_the_endpoint_url_takes_the_sync_prefix(server: ApiServer, sfn: Any) -> None:
    """No client setting at all: with ``http://sfn@127.0.0.1:PORT`` botocore's ``sync-``
    prefix lands in the URL's user part (``sync-sfn@127.0.0.1``), the host stays."""
    plain = boto3.client(
        "stepfunctions",
        endpoint_url=server.url.replace("http://", "http://sfn@", 1),
        region_name="us-east-1",
        aws_access_key_id="dummy",
        aws_secret_access_key="dummy",
    )
    arn = create(plain, "ExpressUserPart", PASS, type="EXPRESS")
    assert plain.start_sync_execution(stateMachineArn=arn, input="[1]")["output"] == "[1]"
    answer = plain.test_state(definition='{"Type": "Pass", "End": true}', input="{}")
    assert answer["status"] == "SUCCEEDED"
    assert sfn.describe_state_machine(stateMachineArn=arn)["type"] == "EXPRESS"


def test_start_sync_execution_failed_and_timed_out(sfn: Any, sync: Any) -> None:
    fails = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops", "Cause": "c"}}}
    arn = create(sfn, "ExpressFail", fails, type="EXPRESS")
    failed = sync.start_sync_execution(stateMachineArn=arn)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Oops", "c")
    assert "output" not in failed
    # Five minutes at most: a longer Wait times out (the server's clock is virtual here).
    slow = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 400, "End": True}}}
    arn = create(sfn, "ExpressSlow", slow, type="EXPRESS")
    timed_out = sync.start_sync_execution(stateMachineArn=arn)
    assert (timed_out["status"], timed_out["error"]) == ("TIMED_OUT", "States.Timeout")
    elapsed = timed_out["stopDate"] - timed_out["startDate"]
    assert round(elapsed.total_seconds()) == 300


def test_start_sync_execution_refuses_a_standard_machine(sfn: Any, sync: Any) -> None:
    arn = create(sfn, "NotExpress")
    with pytest.raises(sync.exceptions.StateMachineTypeNotSupported):
        sync.start_sync_execution(stateMachineArn=arn)


def test_start_execution_of_an_express_machine_keeps_no_history(
    server: ApiServer, sfn: Any
) -> None:
    """As recorded against AWS: an asynchronous Express execution runs, and is then out
    of reach of DescribeExecution, GetExecutionHistory and StopExecution (InvalidArn),
    and of ListExecutions (StateMachineTypeNotSupported); names are not unique."""
    machine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    arn = create(sfn, "ExpressAsync", machine, type="EXPRESS")
    first = sfn.start_execution(stateMachineArn=arn, name="same", input='{"a": 1}')
    again = sfn.start_execution(stateMachineArn=arn, name="same", input='{"a": 1}')
    prefix = "arn:aws:states:us-east-1:123456789012:express:ExpressAsync:same:"
    assert first["executionArn"].startswith(prefix) and again["executionArn"].startswith(prefix)
    assert first["executionArn"] != again["executionArn"]
    assert server.wait_ended(first["executionArn"]) and server.wait_ended(again["executionArn"])
    message = "Invalid Arn: 'Resource type not valid in this context: express'"
    for call in (sfn.describe_execution, sfn.get_execution_history, sfn.stop_execution):
        with pytest.raises(sfn.exceptions.InvalidArn) as raised:
            call(executionArn=first["executionArn"])
        assert raised.value.response["Error"]["Message"] == message
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported) as unsupported:
        sfn.list_executions(stateMachineArn=arn)
    assert unsupported.value.response["Error"]["Message"] == (
        "This operation is not supported by this type of state machine"
    )


def test_an_express_execution_sees_its_express_arn(server: ApiServer, sfn: Any, sync: Any) -> None:
    machine = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id"}, "End": True}},
    }
    arn = create(sfn, "ExpressContext", machine, type="EXPRESS")
    result = sync.start_sync_execution(stateMachineArn=arn, name="ctx")
    assert json.loads(result["output"]) == {"id": result["executionArn"]}


# -- versions and aliases ----------------------------------------------------------------


def result_machine(value: str) -> dict[str, Any]:
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": value, "End": True}}}


def test_versions_publish_describe_start(sfn: Any) -> None:
    created = sfn.create_state_machine(
        name="Versioned",
        definition=json.dumps(result_machine("v1")),
        roleArn=ROLE,
        publish=True,
        versionDescription="first",
    )
    arn, v1 = created["stateMachineArn"], created["stateMachineVersionArn"]
    assert v1 == f"{arn}:1"
    updated = sfn.update_state_machine(
        stateMachineArn=arn, definition=json.dumps(result_machine("v2")), publish=True
    )
    assert updated["stateMachineVersionArn"] == f"{arn}:2"
    again = sfn.publish_state_machine_version(stateMachineArn=arn)  # same revision: same version
    assert again["stateMachineVersionArn"] == f"{arn}:2"
    with pytest.raises(sfn.exceptions.ConflictException):
        sfn.publish_state_machine_version(stateMachineArn=arn, revisionId="stale")
    described = sfn.describe_state_machine(stateMachineArn=v1)
    assert (described["stateMachineArn"], described["description"]) == (v1, "first")
    assert json.loads(described["definition"]) == result_machine("v1")
    listed = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in listed] == [f"{arn}:2", v1]
    execution = sfn.start_execution(stateMachineArn=v1)["executionArn"]
    done = wait_until_done(sfn, execution)
    assert (json.loads(done["output"]), done["stateMachineVersionArn"]) == ("v1", v1)
    assert done["stateMachineArn"] == arn
    sfn.delete_state_machine_version(stateMachineVersionArn=v1)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.start_execution(stateMachineArn=v1)


def test_aliases_route_executions(sfn: Any) -> None:
    created = sfn.create_state_machine(
        name="Aliased", definition=json.dumps(result_machine("a")), roleArn=ROLE, publish=True
    )
    arn, v1 = created["stateMachineArn"], created["stateMachineVersionArn"]
    v2 = sfn.update_state_machine(
        stateMachineArn=arn, definition=json.dumps(result_machine("b")), publish=True
    )["stateMachineVersionArn"]
    alias = sfn.create_state_machine_alias(
        name="PROD", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}]
    )["stateMachineAliasArn"]
    assert alias == f"{arn}:PROD"
    execution = sfn.start_execution(stateMachineArn=alias)["executionArn"]
    done = wait_until_done(sfn, execution)
    assert json.loads(done["output"]) == "a"
    assert (done["stateMachineAliasArn"], done["stateMachineVersionArn"]) == (alias, v1)
    sfn.update_state_machine_alias(
        stateMachineAliasArn=alias,
        routingConfiguration=[
            {"stateMachineVersionArn": v1, "weight": 0},
            {"stateMachineVersionArn": v2, "weight": 100},
        ],
    )
    execution = sfn.start_execution(stateMachineArn=alias)["executionArn"]
    assert json.loads(wait_until_done(sfn, execution)["output"]) == "b"
    described = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    assert [r["weight"] for r in described["routingConfiguration"]] == [0, 100]
    listed = sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]
    assert [a["stateMachineAliasArn"] for a in listed] == [alias]
    with pytest.raises(sfn.exceptions.ConflictException):
        sfn.delete_state_machine_version(stateMachineVersionArn=v2)
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.create_state_machine_alias(
            name="Half", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 50}]
        )
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.describe_state_machine_alias(stateMachineAliasArn=alias)


# -- RedriveExecution ----------------------------------------------------------------------


def test_redrive_a_failed_execution(sfn: Any) -> None:
    arn, activity = activity_machine(sfn, "Redriven")
    execution = sfn.start_execution(stateMachineArn=arn, input='{"n": 1}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Flaky", cause="first try")
    assert wait_until_done(sfn, execution)["status"] == "FAILED"
    assert sfn.redrive_execution(executionArn=execution)["redriveDate"]
    task = sfn.get_activity_task(activityArn=activity)
    sfn.send_task_success(taskToken=task["taskToken"], output='{"second": true}')
    done = wait_until_done(sfn, execution, times=2)
    assert (done["status"], done["redriveCount"]) == ("SUCCEEDED", 1)
    assert json.loads(done["output"]) == {"second": True}
    types = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert types.count("ExecutionFailed") == 1 and "ExecutionRedriven" in types
    assert types[-1] == "ExecutionSucceeded"
    redriven = sfn.list_executions(stateMachineArn=arn, redriveFilter="REDRIVEN")["executions"]
    assert [e["executionArn"] for e in redriven] == [execution]
    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable):
        sfn.redrive_execution(executionArn=execution)


def test_connections_are_accepted_with_tcp_nodelay() -> None:
    """Responses go out as headers then body: without TCP_NODELAY each would wait for the
    client's delayed ACK (40 ms per request on Linux)."""
    import socket

    from runtime.server.background import bind

    listener = bind("127.0.0.1", 0)
    with listener, socket.create_connection(listener.getsockname()[:2]) as client_side:
        accepted, _ = listener.accept()
        with accepted:
            assert client_side.fileno() >= 0
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
