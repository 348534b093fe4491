"""AWS Batch through real boto3 calls against moto without docker.

``mock_aws(config={"batch": {"use_docker": False}})`` selects moto's "batch_simple"
backend: SubmitJob, DescribeJobs and TerminateJob work and jobs end SUCCEEDED at once.
The ``.sync`` tests hold a job RUNNING from a botocore ``after-call`` hook and move it at a
virtual time with ``clock.call_at``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from moto.batch.models import batch_backends
from moto.core.models import DEFAULT_ACCOUNT_ID

from runtime import VirtualClock, run_sync
from runtime.adapters.aws import AwsSettings, ClientPool
from runtime.adapters.base import AdapterRegistry
from runtime.adapters.batch import from_boto, register, to_boto
from runtime.adapters.jobs import Backoff

START = 1_700_000_000.0
SUBMIT = "arn:aws:states:::batch:submitJob"
PARAMS = {
    "JobName": "job1",
    "JobQueue": "queue1",
    "JobDefinition": "def1",
    "ContainerOverrides": {"Environment": [{"Name": "COLOR", "Value": "blue"}]},
    "Parameters": {"Key": "value"},
}


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[ClientPool]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws(config={"batch": {"use_docker": False}}):
        pool = ClientPool(AwsSettings(region="us-east-1"))
        _queue(pool)
        yield pool


def _queue(pool: ClientPool) -> None:
    role = pool.client("iam", "us-east-1").create_role(
        RoleName="batch", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    batch = pool.client("batch", "us-east-1")
    env = batch.create_compute_environment(
        computeEnvironmentName="env1", type="UNMANAGED", state="ENABLED", serviceRole=role
    )
    batch.create_job_queue(
        jobQueueName="queue1",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}],
    )
    batch.register_job_definition(
        jobDefinitionName="def1",
        type="container",
        containerProperties={"image": "busybox", "vcpus": 1, "memory": 128},
    )


def machine(resource: str, timeout: int | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": resource, "End": True}
    if timeout is not None:
        state["TimeoutSeconds"] = timeout
    return {"StartAt": "Batch", "States": {"Batch": state}}


def run(pool: ClientPool, resource: str, clock: VirtualClock, timeout: int | None = None) -> Any:
    adapters = AdapterRegistry()
    register(adapters, pool, Backoff(initial=5, maximum=60))
    return run_sync(machine(resource, timeout), PARAMS, adapters=adapters, clock=clock)


def jobs() -> dict[str, Any]:
    found: dict[str, Any] = batch_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]._jobs
    return found


def hold_running(pool: ClientPool) -> None:
    def hold(parsed: dict[str, Any], **_: Any) -> None:
        jobs()[parsed["jobId"]].status = "RUNNING"

    pool.client("batch", "us-east-1").meta.events.register("after-call.batch.SubmitJob", hold)


def set_status(status: str) -> None:
    for job in jobs().values():
        job.status = status


def test_submit_job_request_response(pool: ClientPool) -> None:
    result = run(pool, SUBMIT, VirtualClock(START))
    assert result.status == "SUCCEEDED", result.cause
    output = result.output
    assert set(output) == {"JobArn", "JobId", "JobName", "SdkHttpMetadata", "SdkResponseMetadata"}
    assert output["JobName"] == "job1"
    job = jobs()[output["JobId"]]
    # PascalCase parameters reached Batch as its camelCase members.
    assert {"name": "COLOR", "value": "blue"} in job.container_overrides["environment"]
    assert job.parameters == {"Key": "value"}
    assert "TaskSubmitted" not in result.event_types


def test_sync_waits_for_succeeded_job(pool: ClientPool) -> None:
    clock = VirtualClock(START)
    hold_running(pool)
    clock.call_at(START + 30, lambda: set_status("SUCCEEDED"))
    result = run(pool, SUBMIT + ".sync", clock)
    assert result.status == "SUCCEEDED", result.cause
    assert result.stop_time == START + 35  # polls at 5, 15, 35
    output = result.output
    assert output["Status"] == "SUCCEEDED"
    assert output["JobName"] == "job1"
    assert isinstance(output["CreatedAt"], int)
    environment = output["Container"]["Environment"]
    assert {"Name": "MANAGED_BY_AWS", "Value": "STARTED_BY_STEP_FUNCTIONS"} in environment
    assert {"Name": "COLOR", "Value": "blue"} in environment
    submitted = next(e for e in result.history if e.type == "TaskSubmitted")
    assert submitted.details is not None
    assert submitted.details["output"]["JobId"] == output["JobId"]


def test_sync_failed_job_fails_the_task(pool: ClientPool) -> None:
    clock = VirtualClock(START)
    hold_running(pool)
    clock.call_at(START + 10, lambda: set_status("FAILED"))
    result = run(pool, SUBMIT + ".sync", clock)
    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    assert result.cause is not None
    cause = json.loads(result.cause)
    assert cause["Status"] == "FAILED"
    assert cause["JobName"] == "job1"


def test_sync_timeout_terminates_the_job(pool: ClientPool) -> None:
    clock = VirtualClock(START)
    hold_running(pool)
    terminated: list[tuple[float, dict[str, Any]]] = []
    pool.client("batch", "us-east-1").meta.events.register(
        "provide-client-params.batch.TerminateJob",
        lambda params, **_: terminated.append((clock.now() - START, dict(params))),
    )
    result = run(pool, SUBMIT + ".sync", clock, timeout=20)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert len(terminated) == 1
    at, params = terminated[0]
    assert at == 20
    assert params["jobId"] == next(iter(jobs()))
    assert params["reason"]


def test_missing_queue_is_batch_client_exception(pool: ClientPool) -> None:
    adapters = AdapterRegistry()
    register(adapters, pool)
    params = {**PARAMS, "JobQueue": "nope"}
    result = run_sync(machine(SUBMIT), params, adapters=adapters)
    assert result.error == "Batch.ClientException"
    assert result.cause is not None
    assert "(Service: AWSBatch; Status Code: 400; Error Code: ClientException;" in result.cause


def test_case_mapping_both_ways(pool: ClientPool) -> None:
    model = pool.client("batch", "us-east-1").meta.service_model
    shape = model.operation_model("SubmitJob").input_shape
    request = to_boto({"ContainerOverrides": {"Vcpus": 2, "Command": ["a"]}, "Extra": 1}, shape)
    assert request == {"containerOverrides": {"vcpus": 2, "command": ["a"]}, "Extra": 1}
    out = model.operation_model("DescribeJobs").output_shape
    response = {"jobs": [{"jobId": "1", "parameters": {"lower": "x"}}], "ResponseMetadata": {}}
    assert from_boto(response, out) == {"Jobs": [{"JobId": "1", "Parameters": {"lower": "x"}}]}


def test_a_sync_job_submitted_before_a_crash_is_polled_again_not_resubmitted(
    pool: ClientPool, tmp_path: Any
) -> None:
    """A resumed execution polls its Batch job by the recorded JobId."""
    import anyio

    from runtime import run as run_async
    from runtime.durable.store import Store, StoreRecorder
    from runtime.engine.replay import Replay

    class Crash(Exception):
        """The process "dies" while the job runs."""

    def crash_after_submit(event: Any, frame: Any) -> None:
        if event.type == "TaskSubmitted":
            raise Crash

    hold_running(pool)
    adapters = AdapterRegistry()
    register(adapters, pool, Backoff(initial=5, maximum=60))
    definition = machine(SUBMIT + ".sync")
    with Store.open(tmp_path / "s.db") as store:
        first = StoreRecorder(store)
        with pytest.raises((Crash, BaseExceptionGroup)):
            run_sync(
                definition,
                PARAMS,
                adapters=adapters,
                clock=VirtualClock(START),
                observers=[first, crash_after_submit],
                name="batch",
            )
        first._lease.release()
        set_status("SUCCEEDED")
        record = store.get_execution("batch")

        async def resumed() -> Any:
            return await run_async(
                definition,
                PARAMS,
                adapters=adapters,
                clock=VirtualClock(START),
                name="batch",
                observers=[StoreRecorder(store, resuming=True)],
                replay=Replay(store.recorded(record.arn)),
                start_time=record.start_time,
            )

        result = anyio.run(resumed)
    assert result.status == "SUCCEEDED", result.cause
    assert len(jobs()) == 1  # submitted once
    assert result.output["Status"] == "SUCCEEDED"
    assert [e.type for e in result.history].count("TaskSubmitted") == 1
