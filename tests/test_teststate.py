"""TestState offline: the answers of AWS's TestState documentation, through the library and
through the API server."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from runtime.testing.teststate import StateTestError, StateTestResult, run_test_state


def check(state: Any, input: Any = None, **options: Any) -> StateTestResult:
    async def main() -> StateTestResult:
        return await run_test_state(state, input, **options)

    return anyio.run(main)


LAMBDA_TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "f", "Payload.$": "$.order"},
    "ResultSelector": {"body.$": "$.Payload.body"},
    "ResultPath": "$.result",
    "OutputPath": "$.result",
    "Retry": [
        {"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 2},
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3, "MaxAttempts": 2, "BackoffRate": 3},
    ],
    "Catch": [
        {"ErrorEquals": ["Custom"], "ResultPath": "$.error", "Next": "Handle"},
        {"ErrorEquals": ["States.ALL"], "Next": "Other"},
    ],
    "Next": "Done",
}
ORDER = {"order": {"id": 7}}
THROTTLED = {"errorOutput": {"error": "Lambda.TooManyRequestsException", "cause": "slow down"}}


def test_pass_data_flow_stages() -> None:
    state = {
        "Type": "Pass",
        "InputPath": "$.data",
        "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"},
        "ResultPath": "$.out",
        "Next": "After",
    }
    result = check(state, {"data": {"a": 1, "b": 2}})
    assert (result.status, result.next_state) == ("SUCCEEDED", "After")
    assert result.output == {"data": {"a": 1, "b": 2}, "out": {"sum": 3}}
    data = result.to_aws("DEBUG")["inspectionData"]
    assert json.loads(data["input"]) == {"data": {"a": 1, "b": 2}}
    assert json.loads(data["afterInputPath"]) == {"a": 1, "b": 2}
    assert json.loads(data["afterParameters"]) == {"sum": 3}
    assert json.loads(data["afterResultPath"]) == result.output


def test_info_level_has_no_inspection_data() -> None:
    answer = check({"Type": "Pass", "End": True}, {"x": 1}).to_aws("INFO")
    assert answer == {"status": "SUCCEEDED", "output": '{"x":1}'}


def test_mocked_task_result_goes_through_selector_and_paths() -> None:
    mock = {"result": json.dumps({"StatusCode": 200, "Payload": {"body": "hi"}})}
    result = check(LAMBDA_TASK, ORDER, mock=mock)
    assert (result.status, result.next_state, result.output) == (
        "SUCCEEDED",
        "Done",
        {"body": "hi"},
    )
    assert result.inspection["afterParameters"] == {"FunctionName": "f", "Payload": {"id": 7}}
    assert result.inspection["result"] == {"StatusCode": 200, "Payload": {"body": "hi"}}
    assert result.inspection["afterResultSelector"] == {"body": "hi"}


def test_a_mocked_error_a_retrier_handles_is_retriable() -> None:
    result = check(LAMBDA_TASK, ORDER, mock=THROTTLED)
    assert (result.status, result.error, result.cause) == (
        "RETRIABLE",
        "Lambda.TooManyRequestsException",
        "slow down",
    )
    assert result.inspection["errorDetails"] == {"retryIndex": 0, "retryBackoffIntervalSeconds": 2}
    assert "nextState" not in result.to_aws()


def test_retrier_retry_count_sets_the_backoff() -> None:
    mock = {"errorOutput": {"error": "Other", "cause": "c"}}
    result = check(LAMBDA_TASK, ORDER, mock=mock, retrier_retry_count=1)
    assert result.status == "RETRIABLE"
    assert result.inspection["errorDetails"] == {"retryIndex": 1, "retryBackoffIntervalSeconds": 9}


def test_an_exhausted_retrier_falls_to_the_catcher() -> None:
    mock = {"errorOutput": {"error": "Custom", "cause": "bad"}}
    result = check(LAMBDA_TASK, ORDER, mock=mock, retrier_retry_count=2)
    assert (result.status, result.next_state) == ("CAUGHT_ERROR", "Handle")
    assert result.output == {"order": {"id": 7}, "error": {"Error": "Custom", "Cause": "bad"}}
    assert result.inspection["errorDetails"] == {"catchIndex": 0}
    answer = result.to_aws()
    assert answer["error"] == "Custom" and json.loads(answer["output"])["error"]["Cause"] == "bad"


def test_an_unhandled_error_fails() -> None:
    task = {k: v for k, v in LAMBDA_TASK.items() if k not in ("Retry", "Catch")}
    result = check(task, ORDER, mock={"errorOutput": {"error": "Boom", "cause": "why"}})
    assert (result.status, result.error, result.cause, result.next_state) == (
        "FAILED",
        "Boom",
        "why",
        None,
    )


def test_choice_next_state() -> None:
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}],
        "Default": "Small",
    }
    assert check(choice, {"n": 11}).next_state == "Big"
    assert check(choice, {"n": 1}).next_state == "Small"


def test_state_name_picks_a_state_of_a_whole_machine() -> None:
    machine = {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Next": "Second"},
            "Second": {"Type": "Pass", "Result": "two", "Next": "Third"},
            "Third": {"Type": "Succeed"},
        },
    }
    result = check(machine, {}, state_name="Second")
    assert (result.status, result.next_state, result.output) == ("SUCCEEDED", "Third", "two")
    with pytest.raises(StateTestError, match="stateName is required"):
        check(machine, {})


def test_variables_and_jsonata() -> None:
    state = {
        "Type": "Pass",
        "QueryLanguage": "JSONata",
        "Output": "{% $states.input.x + $factor %}",
        "Assign": {"seen": "{% $states.input.x %}"},
        "End": True,
    }
    result = check(state, {"x": 4}, variables={"factor": 10})
    assert (result.status, result.output) == ("SUCCEEDED", 14)
    assert result.inspection["variables"] == {"seen": 4}


def test_fail_state() -> None:
    result = check({"Type": "Fail", "Error": "Nope", "Cause": "because"})
    assert (result.status, result.error, result.cause) == ("FAILED", "Nope", "because")


def test_wait_takes_no_time() -> None:
    assert check({"Type": "Wait", "Seconds": 3600, "Next": "Later"}).next_state == "Later"


def test_invalid_state_is_invalid_definition() -> None:
    with pytest.raises(StateTestError) as raised:
        check({"Type": "Pass", "Next": 3})
    assert raised.value.code == "InvalidDefinition"


def test_mock_on_a_non_task_is_refused() -> None:
    with pytest.raises(StateTestError) as raised:
        check({"Type": "Pass", "End": True}, mock={"result": "{}"})
    assert raised.value.code == "ValidationException"


# -- through the API ---------------------------------------------------------------------


def test_test_state_through_boto3(tmp_path: Any) -> None:
    import boto3
    from botocore.config import Config

    from runtime.server.api import ApiOptions, ApiServer

    with ApiServer(ApiOptions(store=str(tmp_path / "s.db"), port=0)) as server:
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="dummy",
            aws_secret_access_key="dummy",
            config=Config(inject_host_prefix=False),  # botocore sends TestState to sync-
        )
        answer = sfn.test_state(
            definition=json.dumps(LAMBDA_TASK),
            input=json.dumps(ORDER),
            mock={"errorOutput": {"error": "Custom", "cause": "bad"}},
            stateConfiguration={"retrierRetryCount": 2},
            inspectionLevel="DEBUG",
        )
        assert (answer["status"], answer["nextState"]) == ("CAUGHT_ERROR", "Handle")
        assert answer["inspectionData"]["errorDetails"] == {"catchIndex": 0}
        assert json.loads(answer["inspectionData"]["input"]) == ORDER
        with pytest.raises(sfn.exceptions.InvalidDefinition):
            sfn.test_state(definition='{"Type": "Pass", "Next": 3}')


def test_output_path_and_result_path_null() -> None:
    state = {"Type": "Pass", "Result": {"r": 1}, "ResultPath": None, "OutputPath": "$.keep"}
    result = check({**state, "End": True}, {"keep": {"k": 2}, "drop": 3})
    assert (result.status, result.output) == ("SUCCEEDED", {"k": 2})
    assert result.next_state is None


def test_jsonata_task_arguments_and_output_with_a_mock() -> None:
    task = {
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "f", "Payload": "{% $states.input.order %}"},
        "Output": "{% $states.result.Payload %}",
        "End": True,
    }
    result = check(task, ORDER, mock={"result": '{"Payload": {"ok": true}}'})
    assert (result.status, result.output) == ("SUCCEEDED", {"ok": True})
    assert result.inspection["afterArguments"] == {"FunctionName": "f", "Payload": {"id": 7}}
    assert result.inspection["result"] == {"Payload": {"ok": True}}


def test_activity_and_wait_for_task_token_tasks_take_a_mock() -> None:
    activity = {
        "Type": "Task",
        "Resource": "arn:aws:states:us-east-1:123456789012:activity:Approve",
        "End": True,
    }
    assert check(activity, {}, mock={"result": '{"approved": true}'}).output == {"approved": True}
    callback = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
        "End": True,
    }
    assert check(callback, {}, mock={"result": '"done"'}).output == "done"


def test_a_retriable_error_is_retriable_even_when_a_catcher_matches() -> None:
    result = check(LAMBDA_TASK, ORDER, mock={"errorOutput": {"error": "Custom", "cause": "c"}})
    assert result.status == "RETRIABLE"
    assert result.inspection["errorDetails"]["retryIndex"] == 1


def test_the_second_catcher_and_max_delay() -> None:
    task = {
        **LAMBDA_TASK,
        "Retry": [
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": 10,
                "BackoffRate": 10,
                "MaxDelaySeconds": 50,
                "MaxAttempts": 5,
            }
        ],
    }
    mock = {"errorOutput": {"error": "Other", "cause": "c"}}
    delayed = check(task, ORDER, mock=mock, retrier_retry_count=2)
    assert delayed.inspection["errorDetails"]["retryBackoffIntervalSeconds"] == 50
    caught = check(task, ORDER, mock=mock, retrier_retry_count=5)
    assert (caught.status, caught.next_state) == ("CAUGHT_ERROR", "Other")
    assert caught.inspection["errorDetails"] == {"catchIndex": 1}
    assert caught.output == {"Error": "Other", "Cause": "c"}


def test_succeed_state() -> None:
    result = check({"Type": "Succeed", "OutputPath": "$.a"}, {"a": [1]})
    assert (result.status, result.output, result.next_state) == ("SUCCEEDED", [1], None)


# -- the command line ---------------------------------------------------------------------


def test_asl_test_state_prints_the_api_answer(capsys: pytest.CaptureFixture[str]) -> None:
    from runtime.cli import main

    state = {"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id"}, "Next": "After"}
    argv = ["test-state", "--definition", json.dumps(state), "--inspection-level", "DEBUG"]
    context = json.dumps({"Execution": {"Id": "arn:aws:states:::execution:M:e"}})
    assert main([*argv, "--context", context]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["status"], answer["nextState"]) == ("SUCCEEDED", "After")
    assert json.loads(answer["output"]) == {"id": "arn:aws:states:::execution:M:e"}
    assert json.loads(answer["inspectionData"]["afterParameters"]) == json.loads(answer["output"])


def test_asl_test_state_refuses_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from runtime.cli import main

    task = json.dumps(LAMBDA_TASK)
    mock = json.dumps({"result": "{}"})
    assert main(["test-state", "--definition", task, "--mock", mock, "--reveal-secrets"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.endswith(
        "ValidationException: TestState does not support RevealSecrets when a mock is specified."
    )
    assert len(error.splitlines()) == 1
    configuration = json.dumps({"retryCount": 1})
    assert main(["test-state", "--definition", task, "--state-configuration", configuration]) == 2
    assert "stateConfiguration.retryCount is not a field" in capsys.readouterr().err
