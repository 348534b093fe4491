"""DescribeMapRun, ListMapRuns, UpdateMapRun and ListExecutions(mapRunArn) through
``asl serve --api``, driven by unmodified boto3 (botocore checks the answers' shapes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from runtime.server.api import ApiOptions, ApiServer

ROLE = "arn:aws:iam::123456789012:role/DummyRole"
ITEMS = [{"n": n, "bad": n % 10 == 3} for n in range(30)]
MACHINE = {
    "StartAt": "Map",
    "States": {
        "Map": {
            "Type": "Map",
            "Label": "Rows",
            "ToleratedFailurePercentage": 50,
            "MaxConcurrency": 5,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Check",
                "States": {
                    "Check": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.bad", "BooleanEquals": True, "Next": "No"}],
                        "Default": "Yes",
                    },
                    "No": {"Type": "Fail", "Error": "Row.Bad", "Cause": "bad row"},
                    "Yes": {"Type": "Pass", "End": True},
                },
            },
            "End": True,
        }
    },
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    folder: Path = tmp_path_factory.mktemp("maprun-api")
    options = ApiOptions(store=str(folder / "store.db"), port=0, clock="virtual")
    with ApiServer(options) as running:
        yield running


@pytest.fixture(scope="module")
def sfn(server: ApiServer) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="dummy",
        aws_secret_access_key="dummy",
    )


@pytest.fixture(scope="module")
def execution(server: ApiServer, sfn: Any) -> str:
    machine = sfn.create_state_machine(name="rows", definition=json.dumps(MACHINE), roleArn=ROLE)[
        "stateMachineArn"
    ]
    arn: str = sfn.start_execution(stateMachineArn=machine, input=json.dumps(ITEMS))["executionArn"]
    assert server.wait_ended(arn, timeout=60), "the execution did not end"
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    return arn


def test_list_and_describe_map_runs(sfn: Any, execution: str) -> None:
    [listed] = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    arn = listed["mapRunArn"]
    assert arn.startswith("arn:aws:states:us-east-1:123456789012:mapRun:rows/Rows:")
    assert listed["executionArn"] == execution
    assert listed["stateMachineArn"].endswith(":stateMachine:rows")
    described = sfn.describe_map_run(mapRunArn=arn)
    assert described["status"] == "SUCCEEDED"
    assert (described["maxConcurrency"], described["toleratedFailurePercentage"]) == (5, 50.0)
    assert described["itemCounts"]["succeeded"] == 27
    assert described["itemCounts"]["failed"] == 3
    assert described["executionCounts"]["total"] == 30
    assert described["redriveCount"] == 0
    assert described["startDate"] <= described["stopDate"]


def test_list_executions_of_a_map_run(sfn: Any, execution: str) -> None:
    arn = sfn.list_map_runs(executionArn=execution)["mapRuns"][0]["mapRunArn"]
    pages = sfn.get_paginator("list_executions").paginate(
        mapRunArn=arn, PaginationConfig={"PageSize": 7}
    )
    children = [item for page in pages for item in page["executions"]]
    assert len(children) == 30
    assert {c["mapRunArn"] for c in children} == {arn}
    assert all(c["executionArn"].endswith(":" + c["name"]) for c in children)
    assert children[0]["executionArn"].startswith(
        "arn:aws:states:us-east-1:123456789012:execution:rows/Rows:"
    )
    assert children[0]["stateMachineArn"].endswith(":stateMachine:rows/Rows")
    failed = sfn.list_executions(mapRunArn=arn, statusFilter="FAILED")["executions"]
    assert len(failed) == 3 and {c["itemCount"] for c in failed} == {1}


def test_map_run_errors(sfn: Any, execution: str) -> None:
    arn = sfn.list_map_runs(executionArn=execution)["mapRuns"][0]["mapRunArn"]
    with pytest.raises(sfn.exceptions.ValidationException, match="SUCCEEDED"):
        sfn.update_map_run(mapRunArn=arn, toleratedFailureCount=3)
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.describe_map_run(mapRunArn=arn[:-4] + "0000")
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_map_run(mapRunArn=execution)
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.list_map_runs(executionArn=execution + "x")
