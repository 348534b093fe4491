"""SageMaker integration through real boto3 calls against moto (``mock_aws``).

moto creates training jobs already ``Completed``; the ``.sync`` tests hold a job
``InProgress`` from a botocore ``after-call`` hook and move it at a virtual time with
``clock.call_at``, so the poller waits on the VirtualClock between Describe* calls.
moto does not implement StopTrainingJob: a ``before-call`` hook records and answers it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from runtime import VirtualClock, run_sync
from runtime.adapters.aws import AwsSettings, ClientPool
from runtime.adapters.base import AdapterRegistry
from runtime.adapters.jobs import Backoff
from runtime.adapters.sagemaker import JOBS, REQUEST_RESPONSE, register, sagemaker_error

START = 1_700_000_000.0
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
JOB = "train-1"
TRAINING = {
    "TrainingJobName": JOB,
    "AlgorithmSpecification": {"TrainingImage": "img:1", "TrainingInputMode": "File"},
    "RoleArn": ROLE,
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
}


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[ClientPool]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield ClientPool(AwsSettings(region="us-east-1"))


def machine(resource: str, timeout: int | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": resource, "End": True}
    if timeout is not None:
        state["TimeoutSeconds"] = timeout
    return {"StartAt": "Task", "States": {"Task": state}}


def registry(pool: ClientPool) -> AdapterRegistry:
    adapters = AdapterRegistry()
    register(adapters, pool, Backoff(initial=5, maximum=60))
    return adapters


def backend() -> Any:
    return sagemaker_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]


def set_status(status: str, reason: str | None = None) -> None:
    job = backend().training_jobs[JOB]
    job.training_job_status = status
    job.failure_reason = reason


def hold_in_progress(pool: ClientPool) -> list[float]:
    """Keep the created job InProgress; return the virtual times of Describe calls."""
    client = pool.client("sagemaker", "us-east-1")
    client.meta.events.register(
        "after-call.sagemaker.CreateTrainingJob", lambda **_: set_status("InProgress")
    )
    return []


def spy_describes(pool: ClientPool, clock: VirtualClock) -> list[float]:
    times: list[float] = []
    client = pool.client("sagemaker", "us-east-1")
    client.meta.events.register(
        "before-call.sagemaker.DescribeTrainingJob", lambda **_: times.append(clock.now() - START)
    )
    return times


def test_create_model_request_response(pool: ClientPool) -> None:
    params = {"ModelName": "m1", "ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": "i:1"}}
    result = run_sync(
        machine("arn:aws:states:::sagemaker:createModel"), params, adapters=registry(pool)
    )
    assert result.status == "SUCCEEDED", result.cause
    output = result.output
    assert output["ModelArn"] == "arn:aws:sagemaker:us-east-1:123456789012:model/m1"
    assert set(output) == {"ModelArn", "SdkHttpMetadata", "SdkResponseMetadata"}
    http = output["SdkHttpMetadata"]
    assert http["HttpStatusCode"] == 200
    assert http["HttpHeaders"]["Content-Type"] == "application/x-amz-json-1.1"
    assert http["AllHttpHeaders"]["x-amzn-RequestId"] == [http["HttpHeaders"]["x-amzn-RequestId"]]
    assert output["SdkResponseMetadata"]["RequestId"] == http["HttpHeaders"]["x-amzn-RequestId"]
    assert backend()._models["m1"].primary_container == {"Image": "i:1"}


def test_create_training_job_request_response_does_not_wait(pool: ClientPool) -> None:
    hold_in_progress(pool)
    result = run_sync(
        machine("arn:aws:states:::sagemaker:createTrainingJob"),
        TRAINING,
        adapters=registry(pool),
        clock=VirtualClock(START),
    )
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["TrainingJobArn"].endswith(f":training-job/{JOB}")
    assert result.stop_time == START
    assert "TaskSubmitted" not in result.event_types


def test_unmodeled_error_is_amazon_sagemaker_exception(pool: ClientPool) -> None:
    params = {"EndpointName": "e1", "EndpointConfigName": "missing"}
    result = run_sync(
        machine("arn:aws:states:::sagemaker:createEndpoint"), params, adapters=registry(pool)
    )
    assert result.status == "FAILED"
    assert result.error == "SageMaker.AmazonSageMakerException"
    assert result.cause is not None
    assert "(Service: AmazonSageMaker; Status Code: 400; Error Code: ValidationException;" in (
        result.cause
    )


def test_modeled_error_keeps_its_code(pool: ClientPool) -> None:
    client = pool.client("sagemaker", "us-east-1")
    response: Any = {
        "Error": {"Code": "ResourceLimitExceeded", "Message": "Too many jobs"},
        "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "r-1"},
    }
    failure = sagemaker_error(
        client.exceptions.ResourceLimitExceeded(response, "CreateTrainingJob")
    )
    assert failure.error == "SageMaker.ResourceLimitExceededException"
    assert failure.cause == (
        "Too many jobs (Service: AmazonSageMaker; Status Code: 400; Error Code: "
        "ResourceLimitExceeded; Request ID: r-1; Proxy: null)"
    )


def test_training_sync_waits_for_completed_job_on_the_virtual_clock(pool: ClientPool) -> None:
    clock = VirtualClock(START)
    hold_in_progress(pool)
    describes = spy_describes(pool, clock)
    clock.call_at(START + 100, lambda: set_status("Completed"))
    result = run_sync(
        machine("arn:aws:states:::sagemaker:createTrainingJob.sync"),
        TRAINING,
        adapters=registry(pool),
        clock=clock,
    )
    assert result.status == "SUCCEEDED", result.cause
    # Exponential backoff 5, 10, 20, 40, 60 s: the job is seen Completed at t=135.
    assert describes == [5, 15, 35, 75, 135]
    assert result.stop_time == START + 135
    assert result.output["TrainingJobStatus"] == "Completed"
    assert result.output["TrainingJobName"] == JOB
    assert isinstance(result.output["CreationTime"], int)  # epoch milliseconds
    assert "SdkHttpMetadata" not in result.output
    assert result.event_types[3:6] == ["TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    submitted = next(e for e in result.history if e.type == "TaskSubmitted")
    assert submitted.details is not None
    assert submitted.details["output"]["TrainingJobArn"].endswith(f"/{JOB}")
    assert "SdkHttpMetadata" in submitted.details["output"]


def test_training_sync_failed_job_fails_the_task(pool: ClientPool) -> None:
    clock = VirtualClock(START)
    hold_in_progress(pool)
    clock.call_at(START + 20, lambda: set_status("Failed", "AlgorithmError: boom"))
    result = run_sync(
        machine("arn:aws:states:::sagemaker:createTrainingJob.sync"),
        TRAINING,
        adapters=registry(pool),
        clock=clock,
    )
    assert result.status == "FAILED"
    assert result.error == "States.TaskFailed"
    assert result.cause is not None
    cause = json.loads(result.cause)
    assert cause["TrainingJobStatus"] == "Failed"
    assert cause["FailureReason"] == "AlgorithmError: boom"
    assert result.stop_time == START + 35
    assert result.event_types[-2:] == ["TaskFailed", "ExecutionFailed"]


def test_training_sync_timeout_stops_the_job(pool: ClientPool) -> None:
    clock = VirtualClock(START)
    hold_in_progress(pool)
    stops: list[tuple[float, dict[str, Any]]] = []

    def stop(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        stops.append((clock.now() - START, json.loads(params["body"])))
        set_status("Stopped")
        return AWSResponse("https://sagemaker", 200, {}, None), {}

    client = pool.client("sagemaker", "us-east-1")
    client.meta.events.register("before-call.sagemaker.StopTrainingJob", stop)
    result = run_sync(
        machine("arn:aws:states:::sagemaker:createTrainingJob.sync", timeout=30),
        TRAINING,
        adapters=registry(pool),
        clock=clock,
    )
    assert result.status == "FAILED"
    assert result.error == "States.Timeout"
    assert stops == [(30, {"TrainingJobName": JOB})]
    assert "TaskTimedOut" in result.event_types


def test_stop_errors_are_swallowed(pool: ClientPool) -> None:
    # moto raises NotImplementedError for StopTrainingJob: the timeout still wins.
    clock = VirtualClock(START)
    hold_in_progress(pool)
    result = run_sync(
        machine("arn:aws:states:::sagemaker:createTrainingJob.sync", timeout=12),
        TRAINING,
        adapters=registry(pool),
        clock=clock,
    )
    assert (result.status, result.error) == ("FAILED", "States.Timeout")


def test_unsupported_pattern_is_a_runtime_error(pool: ClientPool) -> None:
    params = {"ModelName": "m1", "ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": "i"}}
    result = run_sync(
        machine("arn:aws:states:::sagemaker:createModel.sync"), params, adapters=registry(pool)
    )
    assert result.error == "States.Runtime"


@pytest.mark.parametrize("action", sorted(JOBS))
def test_every_sync_job_names_real_boto3_calls(pool: ClientPool, action: str) -> None:
    client = pool.client("sagemaker", "us-east-1")
    spec = JOBS[action]
    assert spec.stop is not None
    for method in (spec.submit, spec.describe, spec.stop, REQUEST_RESPONSE[action]):
        assert callable(getattr(client, method, None)), method
    shape = client.meta.service_model.operation_model(
        client.meta.method_to_api_mapping[spec.describe]
    ).output_shape
    assert spec.status_field in shape.members
    name_field = spec.status_field.removesuffix("Status") + "Name"
    assert spec.locate({name_field: "x"}, {}) == {name_field: "x"}


def test_a_sync_job_submitted_before_a_crash_is_polled_again_not_resubmitted(
    pool: ClientPool, tmp_path: Any
) -> None:
    """A resumed execution polls its .sync job again, it never creates it twice."""
    import anyio

    from runtime import run
    from runtime.durable.store import Store, StoreRecorder
    from runtime.engine.replay import Replay

    class Crash(Exception):
        """The process "dies" while the job runs."""

    creates: list[str] = []
    client = pool.client("sagemaker", "us-east-1")
    client.meta.events.register(
        "before-call.sagemaker.CreateTrainingJob", lambda **_: creates.append("create")
    )
    hold_in_progress(pool)
    definition = machine("arn:aws:states:::sagemaker:createTrainingJob.sync")
    definition["States"]["Task"]["Parameters"] = TRAINING

    def crash_after_submit(event: Any, frame: Any) -> None:
        if event.type == "TaskSubmitted":
            raise Crash

    with Store.open(tmp_path / "s.db") as store:
        first = StoreRecorder(store)
        with pytest.raises((Crash, BaseExceptionGroup)):
            run_sync(
                definition,
                adapters=registry(pool),
                clock=VirtualClock(start=START),
                observers=[first, crash_after_submit],
                name="train",
            )
        first._lease.release()
        set_status("Completed")  # the job finished while nothing ran
        record = store.get_execution("train")

        async def resumed() -> Any:
            return await run(
                definition,
                adapters=registry(pool),
                clock=VirtualClock(start=START),
                name="train",
                observers=[StoreRecorder(store, resuming=True)],
                replay=Replay(store.recorded(record.arn)),
                start_time=record.start_time,
            )

        result = anyio.run(resumed)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["TrainingJobStatus"] == "Completed"
    assert creates == ["create"]
    types = [e.type for e in result.history]
    assert types.count("TaskSubmitted") == 1
    assert types[-3:] == ["TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
