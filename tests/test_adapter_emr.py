"""Amazon EMR through real boto3 calls against moto's EMR, in process.

moto's clusters are ``WAITING`` as soon as RunJobFlow returns and a step is ``RUNNING``
as soon as it is added; the ``.sync`` tests move them on at a virtual time through moto's
backend. moto does not implement CancelSteps: a ``before-call`` hook answers it (and
cancels the step in the backend), as EMR would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.emr.models import emr_backends

from runtime import MockConfig, VirtualClock, run_sync
from runtime.adapters.aws import AwsSettings, ClientPool
from runtime.adapters.base import AdapterRegistry
from runtime.adapters.emr import EmrPolling, register

START = 1_700_000_000.0
EMR = "arn:aws:states:::elasticmapreduce:"
CLUSTER = {
    "Name": "weekly-analysis",
    "ReleaseLabel": "emr-6.15.0",
    "Applications": [{"Name": "Hadoop"}],
    "ServiceRole": "EMR_DefaultRole",
    "JobFlowRole": "EMR_EC2_DefaultRole",
    "Instances": {
        "KeepJobFlowAliveWhenNoSteps": True,
        "InstanceGroups": [
            {
                "Name": "Primary",
                "InstanceRole": "MASTER",
                "InstanceType": "m5.xlarge",
                "InstanceCount": 1,
            },
            {
                "Name": "Core",
                "InstanceRole": "CORE",
                "InstanceType": "m5.xlarge",
                "InstanceCount": 2,
            },
        ],
    },
}
STEP = {
    "Name": "wordcount",
    "ActionOnFailure": "CONTINUE",
    "HadoopJarStep": {"Jar": "command-runner.jar", "Args": ["hadoop-streaming", "-input", "x"]},
}


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[ClientPool]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield ClientPool(AwsSettings(region="us-east-1"))


def backend() -> Any:
    return emr_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]


def the_cluster() -> Any:
    (cluster,) = backend().clusters.values()
    return cluster


def the_step() -> Any:
    (step,) = the_cluster().steps
    return step


def task(resource: str, arguments: Any, **more: Any) -> dict[str, Any]:
    state = {"Type": "Task", "Resource": EMR + resource, "Parameters": arguments, **more}
    return {"StartAt": "Emr", "States": {"Emr": {**state, "End": True}}}


def run(pool: ClientPool, definition: Any, clock: VirtualClock | None = None) -> Any:
    adapters = AdapterRegistry()
    register(adapters, pool)
    return run_sync(definition, {}, adapters=adapters, clock=clock or VirtualClock(START))


def create_cluster(pool: ClientPool) -> str:
    response = pool.client("emr", "us-east-1").run_job_flow(**CLUSTER)
    return str(response["JobFlowId"])


def test_create_cluster_returns_the_cluster_id(pool: ClientPool) -> None:
    result = run(pool, task("createCluster", CLUSTER))
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"ClusterId": the_cluster().id}
    assert the_cluster().name == "weekly-analysis"
    assert "TaskSubmitted" not in result.event_types


def test_create_cluster_sync_waits_for_waiting(pool: ClientPool) -> None:
    clock = VirtualClock(START)

    def starting(parsed: dict[str, Any], **_: Any) -> None:
        backend().clusters[parsed["JobFlowId"]].state = "STARTING"

    pool.client("emr", "us-east-1").meta.events.register("after-call.emr.RunJobFlow", starting)
    clock.call_at(START + 150, lambda: setattr(the_cluster(), "state", "WAITING"))
    result = run(pool, task("createCluster.sync", CLUSTER), clock)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"ClusterId": the_cluster().id}
    # Polled every 60 s: at 60, 120 and 180.
    assert result.stop_time == START + 180
    submitted = next(e for e in result.history if e.type == "TaskSubmitted")
    assert submitted.details is not None
    assert submitted.details["output"] == {"ClusterId": the_cluster().id}


def test_a_cluster_terminated_while_starting_fails_the_task(pool: ClientPool) -> None:
    clock = VirtualClock(START)

    def starting(parsed: dict[str, Any], **_: Any) -> None:
        backend().clusters[parsed["JobFlowId"]].state = "STARTING"

    pool.client("emr", "us-east-1").meta.events.register("after-call.emr.RunJobFlow", starting)
    clock.call_at(START + 30, lambda: setattr(the_cluster(), "state", "TERMINATED_WITH_ERRORS"))
    result = run(pool, task("createCluster.sync", CLUSTER), clock)
    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    cause = json.loads(result.cause)
    assert cause["Status"]["State"] == "TERMINATED_WITH_ERRORS"
    assert cause["Id"] == the_cluster().id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Instances": {"KeepJobFlowAliveWhenNoSteps": False}}, "KeepJobFlowAliveWhenNoSteps"),
        ({"Steps": [STEP]}, "Steps is not allowed"),
    ],
)
def test_create_cluster_refuses_what_the_integration_does_not_allow(
    pool: ClientPool, change: dict[str, Any], message: str
) -> None:
    result = run(pool, task("createCluster", {**CLUSTER, **change}))
    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    assert message in result.cause
    assert backend().clusters == {}


def test_add_step_returns_the_step_id(pool: ClientPool) -> None:
    cluster = create_cluster(pool)
    result = run(pool, task("addStep", {"ClusterId": cluster, "Step": STEP}))
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"StepId": the_step().id}
    assert the_step().name == "wordcount"
    assert the_step().args == ["hadoop-streaming", "-input", "x"]


def test_add_step_sync_waits_for_completed(pool: ClientPool) -> None:
    cluster = create_cluster(pool)
    clock = VirtualClock(START)
    clock.call_at(START + 700, lambda: setattr(the_step(), "state", "COMPLETED"))
    result = run(pool, task("addStep.sync", {"ClusterId": cluster, "Step": STEP}), clock)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"StepId": the_step().id}
    # 60 s polls up to 600 s, then 300 s: 60, 120, ..., 600, 900.
    assert result.stop_time == START + 900


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED", "INTERRUPTED"])
def test_a_step_that_does_not_complete_fails_the_task(pool: ClientPool, state: str) -> None:
    cluster = create_cluster(pool)
    clock = VirtualClock(START)
    clock.call_at(START + 10, lambda: setattr(the_step(), "state", state))
    result = run(pool, task("addStep.sync", {"ClusterId": cluster, "Step": STEP}), clock)
    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    cause = json.loads(result.cause)
    assert cause["Status"]["State"] == state
    assert cause["Name"] == "wordcount"


def fake_cancel_steps(pool: ClientPool, clock: VirtualClock, calls: list[Any]) -> None:
    """moto has no CancelSteps: answer it here and cancel the step in moto's backend."""

    def answer(params: dict[str, Any], **_: Any) -> Any:
        params = json.loads(params["body"])  # the serialised request
        calls.append((clock.now() - START, params))
        for step in the_cluster().steps:
            if step.id in params["StepIds"]:
                step.state = "CANCELLED"
        info = [{"StepId": sid, "Status": "SUBMITTED", "Reason": ""} for sid in params["StepIds"]]
        http = AWSResponse("https://elasticmapreduce.us-east-1.amazonaws.com/", 200, {}, None)
        return (http, {"CancelStepsInfoList": info, "ResponseMetadata": {"HTTPStatusCode": 200}})

    pool.client("emr", "us-east-1").meta.events.register("before-call.emr.CancelSteps", answer)


def test_a_timed_out_add_step_sync_cancels_the_step(pool: ClientPool) -> None:
    cluster = create_cluster(pool)
    clock = VirtualClock(START)
    calls: list[Any] = []
    fake_cancel_steps(pool, clock, calls)
    definition = task("addStep.sync", {"ClusterId": cluster, "Step": STEP}, TimeoutSeconds=100)
    result = run(pool, definition, clock)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert calls == [(100, {"ClusterId": cluster, "StepIds": [the_step().id]})]
    assert the_step().state == "CANCELLED"


def test_cancel_step(pool: ClientPool) -> None:
    cluster = create_cluster(pool)
    pool.client("emr", "us-east-1").add_job_flow_steps(JobFlowId=cluster, Steps=[STEP])
    calls: list[Any] = []
    clock = VirtualClock(START)
    fake_cancel_steps(pool, clock, calls)
    arguments = {"ClusterId": cluster, "StepId": the_step().id}
    result = run(pool, task("cancelStep", arguments), clock)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {
        "CancelStepsInfo": {"StepId": the_step().id, "Status": "SUBMITTED", "Reason": ""}
    }
    assert calls[0][1] == {"ClusterId": cluster, "StepIds": [the_step().id]}


def test_terminate_cluster_and_sync(pool: ClientPool) -> None:
    cluster = create_cluster(pool)
    result = run(pool, task("terminateCluster", {"ClusterId": cluster}))
    assert (result.status, result.output) == ("SUCCEEDED", {})
    assert the_cluster().state == "TERMINATED"
    other = create_cluster(pool)
    clusters = backend().clusters
    clock = VirtualClock(START)
    # moto terminates at once; hold the cluster TERMINATING until t=90.
    pool.client("emr", "us-east-1").meta.events.register(
        "after-call.emr.TerminateJobFlows",
        lambda **_: setattr(clusters[other], "state", "TERMINATING"),
    )
    clock.call_at(START + 90, lambda: setattr(clusters[other], "state", "TERMINATED"))
    result = run(pool, task("terminateCluster.sync", {"ClusterId": other}), clock)
    assert (result.status, result.output) == ("SUCCEEDED", {})
    assert result.stop_time == START + 120


def test_termination_protection_then_a_refused_terminate(pool: ClientPool) -> None:
    cluster = create_cluster(pool)
    definition = {
        "StartAt": "Protect",
        "States": {
            "Protect": {
                "Type": "Task",
                "Resource": EMR + "setClusterTerminationProtection",
                "Parameters": {"ClusterId": cluster, "TerminationProtected": True},
                "Next": "Terminate",
            },
            "Terminate": {
                "Type": "Task",
                "Resource": EMR + "terminateCluster",
                "Parameters": {"ClusterId": cluster},
                "End": True,
            },
        },
    }
    result = run(pool, definition)
    assert the_cluster().termination_protected is True
    assert (result.status, result.error) == ("FAILED", "ElasticMapReduce.ValidationException")
    assert "termination protected" in result.cause
    assert "(Service: AmazonElasticMapReduce; Status Code: 400;" in result.cause


def test_modify_instance_group_by_name(pool: ClientPool) -> None:
    cluster = create_cluster(pool)
    arguments = {
        "ClusterId": cluster,
        "InstanceGroupName": "Core",
        "InstanceGroup": {"InstanceCount": 5},
    }
    result = run(pool, task("modifyInstanceGroupByName", arguments))
    assert (result.status, result.output) == ("SUCCEEDED", {})
    groups = pool.client("emr", "us-east-1").list_instance_groups(ClusterId=cluster)
    counts = {g["Name"]: g["RequestedInstanceCount"] for g in groups["InstanceGroups"]}
    assert counts == {"Primary": 1, "Core": 5}


def test_modify_an_unknown_instance_group_is_named(pool: ClientPool) -> None:
    cluster = create_cluster(pool)
    arguments = {
        "ClusterId": cluster,
        "InstanceGroupName": "Task",
        "InstanceGroup": {"InstanceCount": 5},
    }
    result = run(pool, task("modifyInstanceGroupByName", arguments))
    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    assert "no instance groups named 'Task'" in result.cause


def test_an_unknown_cluster_is_an_emr_error(pool: ClientPool) -> None:
    result = run(pool, task("addStep", {"ClusterId": "j-NOPE", "Step": STEP}))
    assert result.status == "FAILED"
    assert result.error is not None and result.error.startswith("ElasticMapReduce.")


@pytest.mark.parametrize("resource", ["cancelStep.sync", "describeCluster"])
def test_unsupported_resources_are_named(pool: ClientPool, resource: str) -> None:
    result = run(pool, task(resource, {"ClusterId": "j-1"}))
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "not supported by the Amazon EMR integration" in result.cause


def test_polling_is_60_seconds_for_ten_minutes_then_300() -> None:
    delays = EmrPolling().delays()
    assert [next(delays) for _ in range(12)] == [60.0] * 10 + [300.0, 300.0]


def test_a_sync_cluster_created_before_a_crash_is_polled_again_not_recreated(
    pool: ClientPool, tmp_path: Any
) -> None:
    import anyio

    from runtime import run as run_async
    from runtime.durable.store import Store, StoreRecorder
    from runtime.engine.replay import Replay

    class Crash(Exception):
        """The process "dies" while the cluster starts."""

    def crash_after_submit(event: Any, frame: Any) -> None:
        if event.type == "TaskSubmitted":
            raise Crash

    def starting(parsed: dict[str, Any], **_: Any) -> None:
        backend().clusters[parsed["JobFlowId"]].state = "STARTING"

    pool.client("emr", "us-east-1").meta.events.register("after-call.emr.RunJobFlow", starting)
    adapters = AdapterRegistry()
    register(adapters, pool)
    definition = task("createCluster.sync", CLUSTER)
    with Store.open(tmp_path / "s.db") as store:
        first = StoreRecorder(store)
        with pytest.raises((Crash, BaseExceptionGroup)):
            run_sync(
                definition,
                {},
                adapters=adapters,
                clock=VirtualClock(START),
                observers=[first, crash_after_submit],
                name="emr",
            )
        first._lease.release()
        the_cluster().state = "WAITING"
        record = store.get_execution("emr")

        async def resumed() -> Any:
            return await run_async(
                definition,
                {},
                adapters=adapters,
                clock=VirtualClock(START),
                name="emr",
                observers=[StoreRecorder(store, resuming=True)],
                replay=Replay(store.recorded(record.arn)),
                start_time=record.start_time,
            )

        result = anyio.run(resumed)
    assert result.status == "SUCCEEDED", result.cause
    assert len(backend().clusters) == 1  # created once
    assert result.output == {"ClusterId": the_cluster().id}


def test_emr_states_run_offline_on_mocks() -> None:
    definition = {
        "StartAt": "Create",
        "States": {
            "Create": {
                "Type": "Task",
                "Resource": EMR + "createCluster.sync",
                "Parameters": CLUSTER,
                "ResultPath": "$.cluster",
                "Next": "Step",
            },
            "Step": {
                "Type": "Task",
                "Resource": EMR + "addStep.sync",
                "Parameters": {"ClusterId.$": "$.cluster.ClusterId", "Step": STEP},
                "ResultPath": "$.step",
                "Next": "Terminate",
            },
            "Terminate": {
                "Type": "Task",
                "Resource": EMR + "terminateCluster.sync",
                "Parameters": {"ClusterId.$": "$.cluster.ClusterId"},
                "ResultPath": None,
                "End": True,
            },
        },
    }
    config = MockConfig.parse(
        {
            "StateMachines": {
                "m": {"TestCases": {"T": {"Create": "C", "Step": "S", "Terminate": "X"}}}
            },
            "MockedResponses": {
                "C": {"0": {"Return": {"ClusterId": "j-ABC"}}},
                "S": {"0": {"Return": {"StepId": "s-1"}}},
                "X": {"0": {"Return": {}}},
            },
        }
    )
    mocks = config.test_case("T", "m")
    result = run_sync(definition, {}, mocks=mocks)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"cluster": {"ClusterId": "j-ABC"}, "step": {"StepId": "s-1"}}
