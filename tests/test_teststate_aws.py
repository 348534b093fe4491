"""TestState's answers as recorded against AWS: Map and Parallel with mocks,
``stateConfiguration``, the mock's own rules and ``fieldValidationMode``.

The definitions, requests and expected answers are those of the TestState recordings
made against AWS in November-December 2025 (LocalStack's snapshot tests,
``tests/aws/services/stepfunctions/v2/test_state/``) and of AWS's API reference
(TestState, MockInput, TestStateConfiguration); each case names the one it reproduces.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from runtime.testing.teststate import (
    StateConfiguration,
    StateTestError,
    StateTestResult,
    run_test_state,
)

VALUES = {"Values": ["first", "second", "third"]}
MOCK_ERROR = {"errorOutput": {"error": "MockException", "cause": "Mock the error cause."}}


def check(state: Any, input: Any = None, **options: Any) -> StateTestResult:
    async def main() -> StateTestResult:
        return await run_test_state(state, input, **options)

    return anyio.run(main)


def refused(state: Any, input: Any = None, **options: Any) -> StateTestError:
    with pytest.raises(StateTestError) as raised:
        check(state, input, **options)
    return raised.value


def processor(inner: dict[str, Any], name: str = "TestState") -> dict[str, Any]:
    return {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": name,
        "States": {name: inner},
    }


#: The recordings' placeholder ARN (your-region, your-account-id) with a region and an
#: account: AWS took the placeholder as the mock answers; asl's validation wants an ARN.
LAMBDA_FN = "arn:aws:lambda:us-east-1:123456789012:function:yourHelloWorldFunction"
#: BASE_MAP_STATE
BASE_MAP = {
    "Type": "Map",
    "QueryLanguage": "JSONata",
    "Items": "{% $states.input.Values %}",
    "ItemProcessor": processor(
        {
            "Type": "Task",
            "QueryLanguage": "JSONata",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "foo", "Payload": "bar"},
            "End": True,
        }
    ),
    "Output": "{% $states %}",
    "End": True,
}
#: BASE_MAP_STATE_CATCH
MAP_CATCH = {
    "Type": "Map",
    "QueryLanguage": "JSONata",
    "Items": "{% $states.input.Values %}",
    "ItemProcessor": processor({"Type": "Task", "Resource": LAMBDA_FN, "End": True}),
    "Catch": [
        {"ErrorEquals": ["MockException"], "Output": "{% $states %}", "Next": "HandleMockError"},
        {
            "ErrorEquals": ["States.ExceedToleratedFailureThreshold"],
            "Output": "{% $states %}",
            "Next": "HandleThreshold",
        },
    ],
    "ToleratedFailureCount": 1,
    "End": True,
}
#: BASE_MAP_STATE_RETRY
MAP_RETRY = {
    **{k: v for k, v in MAP_CATCH.items() if k != "Catch"},
    "Retry": [
        {"ErrorEquals": ["MockException"], "MaxAttempts": 3},
        {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "MaxAttempts": 2},
    ],
}
#: BASE_MAP_STATE_MACHINE
MAP_MACHINE = {
    "StartAt": "State0",
    "States": {
        "State0": {
            "Type": "Map",
            "ItemsPath": "$.Values",
            "ItemProcessor": processor({"Type": "Pass", "End": True}, "HandleItem"),
            "ToleratedFailureCount": 2,
            "End": True,
        }
    },
}
#: MAP_ITEM_READER_STATE_MACHINE
READER_MACHINE = {
    "QueryLanguage": "JSONata",
    "StartAt": "State0",
    "States": {
        "State0": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemReader": {
                "ReaderConfig": {"InputType": "JSON"},
                "Resource": "arn:aws:states:::s3:getObject",
                "Arguments": {
                    "Bucket": "{% $states.input.Bucket %}",
                    "Key": "{% $states.input.Key %}",
                },
            },
            "ItemProcessor": processor({"Type": "Pass", "End": True}, "HandleItem"),
            "End": True,
        }
    },
}
LAMBDA_ARGS = {"FunctionName": "foo", "Payload": "bar"}
#: BASE_TASK_STATE_RETRY
TASK_RETRY = {
    "QueryLanguage": "JSONata",
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Arguments": LAMBDA_ARGS,
    "Retry": [
        {"ErrorEquals": ["MockException"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2}
    ],
    "End": True,
}
LAMBDA_BRANCH = {
    "Type": "Task",
    "QueryLanguage": "JSONata",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Arguments": LAMBDA_ARGS,
    "End": True,
}
#: BASE_PARALLEL_STATE
PARALLEL = {
    "Type": "Parallel",
    "Branches": [
        {"StartAt": "Branch1", "States": {"Branch1": LAMBDA_BRANCH}},
        {"StartAt": "Branch2", "States": {"Branch2": LAMBDA_BRANCH}},
    ],
    "End": True,
}


def debug(result: StateTestResult) -> dict[str, Any]:
    data: dict[str, Any] = result.to_aws("DEBUG")["inspectionData"]
    return {k: json.loads(v) if isinstance(v, str) else v for k, v in data.items()}


# -- Map and Parallel with mocks ----------------------------------------------------------


def test_a_mocked_map_answers_the_mocked_result() -> None:
    """test_map_state_failure_count[INFO-BASE_MAP_STATE]: the iterations never run."""
    result = check(BASE_MAP, VALUES, mock={"result": "[1, 1, 1]"})
    assert result.status == "SUCCEEDED"
    assert (result.output["input"], result.output["result"]) == (VALUES, [1, 1, 1])
    failures = StateConfiguration(map_iteration_failure_count=2)  # no tolerance: ignored
    again = check(BASE_MAP, VALUES, mock={"result": "[0, 0, 1]"}, configuration=failures)
    assert (again.status, again.output["result"]) == ("SUCCEEDED", [0, 0, 1])


def test_failures_within_the_tolerance_succeed() -> None:
    """test_map_state_failure_count[DEBUG-BASE_MAP_STATE_CATCH] below_tolerated_failure."""
    config = StateConfiguration(map_iteration_failure_count=0)
    result = check(MAP_CATCH, VALUES, mock={"result": "[1, 1, 1]"}, configuration=config)
    assert (result.status, result.output) == ("SUCCEEDED", [1, 1, 1])
    assert debug(result) == {"input": VALUES, "maxConcurrency": 0, "toleratedFailureCount": 1}
    assert "inspectionData" not in result.to_aws("INFO")


def test_failures_over_the_tolerance_are_caught() -> None:
    """test_map_state_failure_count[TRACE-BASE_MAP_STATE_CATCH] exceeds_tolerated_failure."""
    config = StateConfiguration(map_iteration_failure_count=2)
    result = check(MAP_CATCH, VALUES, mock={"result": "[0, 0, 1]"}, configuration=config)
    assert (result.status, result.next_state) == ("CAUGHT_ERROR", "HandleThreshold")
    assert (result.error, result.cause) == (
        "States.ExceedToleratedFailureThreshold",
        "The specified tolerated failure threshold was exceeded",
    )
    assert result.output["errorOutput"] == {
        "Error": "States.ExceedToleratedFailureThreshold",
        "Cause": "The specified tolerated failure threshold was exceeded",
    }
    assert debug(result) == {
        "errorDetails": {"catchIndex": 1},
        "input": VALUES,
        "maxConcurrency": 0,
        "toleratedFailureCount": 1,
    }


def test_failures_over_the_tolerance_are_retriable() -> None:
    """test_map_state_failure_count[TRACE-BASE_MAP_STATE_RETRY] exceeds_tolerated_failure."""
    config = StateConfiguration(map_iteration_failure_count=2)
    result = check(MAP_RETRY, VALUES, mock={"result": "[0, 0, 1]"}, configuration=config)
    assert (result.status, result.error) == ("RETRIABLE", "States.ExceedToleratedFailureThreshold")
    assert result.to_aws("TRACE")["inspectionData"]["errorDetails"] == {
        "retryBackoffIntervalSeconds": 1,
        "retryIndex": 1,
    }


def test_a_mocked_error_of_a_state_in_the_map_fails_it() -> None:
    """test_map_state_error_caused_by_state and ..._map_iteration_failure_count_with_state_error:
    the Map fails with the mocked error, whatever the failure count."""
    for count in (0, 2):
        config = StateConfiguration(
            error_caused_by_state="TestState", map_iteration_failure_count=count
        )
        result = check(BASE_MAP, VALUES, mock=MOCK_ERROR, configuration=config)
        assert (result.status, result.error, result.cause) == (
            "FAILED",
            "MockException",
            "Mock the error cause.",
        )
        assert debug(result) == {"input": VALUES, "maxConcurrency": 0}
        assert "output" not in result.to_aws()


def test_a_map_of_a_whole_machine_by_state_name() -> None:
    """test_state_machine_with_state_error[DEBUG]: stateName, errorCausedByState HandleItem."""
    config = StateConfiguration(error_caused_by_state="HandleItem", map_iteration_failure_count=2)
    result = check(MAP_MACHINE, VALUES, state_name="State0", mock=MOCK_ERROR, configuration=config)
    assert (result.status, result.error) == ("FAILED", "MockException")
    assert debug(result) == {
        "afterInputPath": VALUES,
        "afterItemsPath": ["first", "second", "third"],
        "input": VALUES,
        "maxConcurrency": 0,
        "toleratedFailureCount": 2,
    }


def test_item_reader_data() -> None:
    """test_state_machine_configuration_map_iteration_item_reader[DEBUG]."""
    config = StateConfiguration(map_item_reader_data="[1, 2, 3]")
    where = {"Bucket": "test-bucket", "Key": "test-key"}
    result = check(
        READER_MACHINE,
        where,
        state_name="State0",
        mock={"result": "[1, 4, 9]"},
        configuration=config,
    )
    assert (result.status, result.output) == ("SUCCEEDED", [1, 4, 9])
    assert debug(result) == {"input": where, "maxConcurrency": 1}


def test_a_mocked_parallel_answers_one_item_per_branch() -> None:
    result = check(PARALLEL, {}, mock={"result": '[{"a": 1}, {"b": 2}]'})
    assert (result.status, result.output) == ("SUCCEEDED", [{"a": 1}, {"b": 2}])


def test_a_mocked_parallel_error_is_caught() -> None:
    caught = {**PARALLEL, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}]}
    config = StateConfiguration(error_caused_by_state="Branch2")
    result = check(caught, {"x": 1}, mock=MOCK_ERROR, configuration=config)
    assert (result.status, result.next_state) == ("CAUGHT_ERROR", "Recover")
    assert result.output == {"Error": "MockException", "Cause": "Mock the error cause."}


# -- stateConfiguration.retrierRetryCount ------------------------------------------------


def test_retrier_retry_count_sets_the_backoff() -> None:
    """test_state_configuration_retrier_retry_count[DEBUG] below_tolerated_..._with_backoff."""
    result = check(
        TASK_RETRY, VALUES, mock=MOCK_ERROR, configuration=StateConfiguration(retrier_retry_count=4)
    )
    assert result.status == "RETRIABLE"
    assert debug(result) == {
        "afterArguments": LAMBDA_ARGS,
        "errorDetails": {"retryBackoffIntervalSeconds": 16, "retryIndex": 0},
        "input": VALUES,
    }


def test_a_spent_retrier_fails_and_is_named() -> None:
    """test_state_configuration_retrier_retry_count[DEBUG] exceeds_tolerated_retry_count."""
    result = check(
        TASK_RETRY, VALUES, mock=MOCK_ERROR, configuration=StateConfiguration(retrier_retry_count=5)
    )
    assert (result.status, result.error) == ("FAILED", "MockException")
    assert debug(result)["errorDetails"] == {"retryIndex": 0}


# -- the mock's rules (test_state_mock_validation) ---------------------------------------


@pytest.mark.parametrize("kind", ["Pass", "Fail", "Succeed"])
@pytest.mark.parametrize("mock", [{"result": "{}"}, MOCK_ERROR], ids=["result", "errorOutput"])
def test_states_that_take_no_mock(kind: str, mock: dict[str, Any]) -> None:
    state: dict[str, Any] = {"Type": kind}
    if kind == "Pass":
        state["End"] = True
    error = refused(state, {}, mock=mock)
    assert (error.code, error.message) == (
        "ValidationException",
        f"State type '{kind}' is not supported when a mock is specified",
    )


@pytest.mark.parametrize("state", [BASE_MAP, PARALLEL], ids=["Map", "Parallel"])
def test_map_and_parallel_need_a_mock(state: dict[str, Any]) -> None:
    error = refused(state, VALUES)
    assert (error.code, error.message) == (
        "InvalidDefinition",
        "TestState API does not support Map or Parallel states. "
        "Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]",
    )


def test_result_and_error_output_exclude_each_other() -> None:
    error = refused(TASK_RETRY, {}, mock={"result": "{}", **MOCK_ERROR})
    assert error.message == (
        "A test mock should have only one of the following fields: [result, errorOutput]."
    )


def test_reveal_secrets_is_refused_with_a_mock() -> None:
    error = refused(TASK_RETRY, {}, mock={"result": "{}"}, reveal_secrets=True)
    assert error.message == "TestState does not support RevealSecrets when a mock is specified."


def test_mocked_results_of_map_and_parallel_have_their_shape() -> None:
    assert refused(BASE_MAP, VALUES, mock={"result": "{}"}).message == (
        "Mocked result must be an array."
    )
    writer = {**BASE_MAP, "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject"}}
    assert refused(writer, VALUES, mock={"result": "[]"}).message == (
        "Mocked result must be a JSON object."
    )
    assert refused(PARALLEL, {}, mock={"result": "{}"}).message == "Mocked result must be an array."
    assert refused(PARALLEL, {}, mock={"result": "[1]"}).message == (
        "Mocked result must contain the same number of items as number of Parallel branches."
    )


def test_a_mocked_result_is_json_even_without_validation() -> None:
    """test_base_lambda_service_task_mock_is_not_json_string."""
    mock = {"result": "not JSON string", "fieldValidationMode": "NONE"}
    assert refused(TASK_RETRY, {}, mock=mock).code == "ValidationException"


def test_state_configuration_fields_name_their_states() -> None:
    config = StateConfiguration(error_caused_by_state="Nowhere")
    error = refused(BASE_MAP, VALUES, mock=MOCK_ERROR, configuration=config)
    assert (
        error.message
        == "stateConfiguration.errorCausedByState 'Nowhere' names no state inside this Map state"
    )
    error = refused(
        TASK_RETRY,
        {},
        mock=MOCK_ERROR,
        configuration=StateConfiguration(map_iteration_failure_count=1),
    )
    assert "mapIterationFailureCount applies to a Map state" in error.message
    reader = StateConfiguration(map_item_reader_data="[1]")
    assert (
        "has no ItemReader"
        in refused(BASE_MAP, VALUES, mock=MOCK_ERROR, configuration=reader).message
    )


# -- fieldValidationMode (test_field_validation_mode) ------------------------------------

SFN_START = {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "End": True}
EVENTS = {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": True}
LAMBDA = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
DYNAMODB = {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": True}
S3_GET = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject", "End": True}
KMS = {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:kms:encrypt", "End": True}
GET_FUNCTION = {
    "Type": "Task",
    "Resource": "arn:aws:states:::aws-sdk:lambda:getFunction",
    "End": True,
}
STRICT_CASES = [
    (EVENTS, {"Entries": {"EventId": "1"}}, "Field 'Entries' must be an array"),
    (EVENTS, {"Entries": [{"EventId": 1}]}, "Field 'EventId' must be a string"),
    (EVENTS, {"Entries": [{"EventId": "1"}, {"EventId": 2}]}, "Field 'EventId' must be a string"),
    (SFN_START, {"StartDate": "2025-11-26T00:00:00Z"}, "Required field 'ExecutionArn' is missing"),
    (
        SFN_START,
        {"executionArn": "arn", "StartDate": "x"},
        "Required field 'ExecutionArn' is missing",
    ),
    (SFN_START, {"ExecutionArn": "arn", "StartDate": True}, "Field 'StartDate' must be a string"),
    (SFN_START, {"ExecutionArn": "arn", "StartDate": 1}, "Field 'StartDate' must be a string"),
    (LAMBDA, {"StatusCode": "200"}, "Field 'StatusCode' must be a number"),
    (
        DYNAMODB,
        {"ConsumedCapacity": {"CapacityUnits": "1.0"}},
        "Field 'CapacityUnits' must be a number",
    ),
    (S3_GET, {"ContentLength": "12"}, "Field 'ContentLength' must be a number"),
    (S3_GET, {"StorageClass": "NOT_A_CLASS"}, "Field 'StorageClass' is not an expected value"),
    (KMS, {"CiphertextBlob": 12}, "Field 'CiphertextBlob' must be a string"),
    (KMS, {"CiphertextBlob": ""}, "Field 'CiphertextBlob' is smaller than the minimum length"),
    (
        GET_FUNCTION,
        {"Configuration": {"MemorySize": 1}},
        "Field 'MemorySize' is less than the minimum value",
    ),
    (
        GET_FUNCTION,
        {"Configuration": {"MemorySize": 32_769}},
        "Field 'MemorySize' exceeds the maximum value",
    ),
]


@pytest.mark.parametrize(("state", "result", "message"), STRICT_CASES)
def test_strict_field_validation(state: Any, result: Any, message: str) -> None:
    error = refused(state, {}, mock={"result": json.dumps(result)})
    assert (error.code, error.message) == (
        "ValidationException",
        f"Mock result schema validation error: {message}",
    )


def test_fields_outside_the_schema_pass() -> None:
    """test_strict_mode_mock_result_field_not_in_api_spec, and Lambda's JSON Payload."""
    assert check(EVENTS, {}, mock={"result": '{"random": "json"}'}).output == {"random": "json"}
    assert check(EVENTS, {}, mock={"result": "{}"}).output == {}
    payload = {"Payload": {"any": ["json"]}, "StatusCode": 200, "SdkHttpMetadata": {}}
    assert check(LAMBDA, {}, mock={"result": json.dumps(payload)}).output == payload


def test_present_and_none_modes() -> None:
    missing = {"StartDate": "2025-11-26T00:00:00Z"}
    present = {"result": json.dumps(missing), "fieldValidationMode": "PRESENT"}
    assert check(SFN_START, {}, mock=present).output == missing
    wrong = {"result": '{"StartDate": true}', "fieldValidationMode": "PRESENT"}
    assert refused(SFN_START, {}, mock=wrong).message.endswith("Field 'StartDate' must be a string")
    anything = {"result": '{"StartDate": true}', "fieldValidationMode": "NONE"}
    assert check(SFN_START, {}, mock=anything).output == {"StartDate": True}


def test_context_sets_the_execution_and_state_machine() -> None:
    state = {
        "Type": "Pass",
        "Parameters": {"id.$": "$$.Execution.Id", "machine.$": "$$.StateMachine.Name"},
        "End": True,
    }
    context = {"Execution": {"Id": "arn:aws:states:::execution:M:e"}, "StateMachine": {"Name": "M"}}
    result = check(state, {}, context=context)
    assert result.output == {"id": "arn:aws:states:::execution:M:e", "machine": "M"}
    assert "context.Task" in refused(state, {}, context={"Task": {"Token": "t"}}).message


# -- through the server, with an unmodified client ----------------------------------------


def test_through_the_server_with_only_the_endpoint_changed(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore sends TestState (and StartSyncExecution) to ``sync-<host>``, also for
    127.0.0.1; AWS_DISABLE_HOST_PREFIX_INJECTION=true (botocore's own setting, no code
    change) sends it to the endpoint as given."""
    import boto3

    from runtime.server.api import ApiOptions, ApiServer

    def client(url: str) -> Any:
        return boto3.client(
            "stepfunctions",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="dummy",
            aws_secret_access_key="dummy",
        )

    sent: list[str] = []
    prefixed = client("http://127.0.0.1:9")
    prefixed.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    prefixed.meta.events.register("before-send", lambda **_: {"status": "stop"}, unique_id="x")
    with pytest.raises(Exception):  # noqa: B017 - only the URL it aimed at matters
        prefixed.test_state(definition="{}")
    assert sent == ["http://sync-127.0.0.1:9/"]

    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    with ApiServer(ApiOptions(store=str(tmp_path / "s.db"), port=0)) as server:
        sfn = client(server.url)
        config = {"mapIterationFailureCount": 2}
        answer = sfn.test_state(
            definition=json.dumps(MAP_CATCH),
            input=json.dumps(VALUES),
            mock={"result": "[0, 0, 1]", "fieldValidationMode": "STRICT"},
            stateConfiguration=config,
            inspectionLevel="TRACE",
        )
        assert (answer["status"], answer["nextState"]) == ("CAUGHT_ERROR", "HandleThreshold")
        assert answer["inspectionData"]["toleratedFailureCount"] == 1
        with pytest.raises(sfn.exceptions.ValidationException) as raised:
            sfn.test_state(
                definition=json.dumps(SFN_START), mock={"result": "{}"}, revealSecrets=True
            )
        assert "RevealSecrets" in raised.value.response["Error"]["Message"]
        with pytest.raises(sfn.exceptions.ValidationException) as raised:
            sfn.test_state(definition=json.dumps(SFN_START), mock={"result": '{"StartDate": 1}'})
        assert raised.value.response["Error"]["Message"] == (
            "Mock result schema validation error: Required field 'ExecutionArn' is missing"
        )
        with pytest.raises(sfn.exceptions.InvalidDefinition):
            sfn.test_state(definition=json.dumps(PARALLEL))
