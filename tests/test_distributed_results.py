"""What a Distributed Map's ResultWriter writes when its Map Run fails, and on a redrive,
against moto's S3.

The expected bytes come from Step Functions itself: executions captured from AWS and
replayed by a third-party emulator's tests (radkawar/stackd,
``testdata/aws/stepfunctions/distributed_map.json`` and ``redrive_map.json``):

- a Map Run that fails writes its results all the same: ``FAILED_0.json`` with the
  children that failed (``RedriveStatus`` ``REDRIVABLE_BY_MAP_RUN``, an
  ``OutputDetails`` and no ``Output``) or were aborted (``Status`` ABORTED, its own
  ``Cause``, no ``Error``), ``PENDING_0.json`` with the children never started, each
  ``{"Input": ..., "InputDetails": {"Included": true}, "Status": "PENDING"}`` (the input
  after ItemSelector), in item order, and a manifest listing them; a status without
  records has no file;
- a redrive writes under ``<map run id>/Redrive-<n>/`` what it ran, and its manifest lists
  the earlier generations' SUCCEEDED files, then its own files.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anyio
import pytest

from runtime import VirtualClock, run
from runtime.distributed.runs import MapRunRecord
from runtime.durable.resume import redrive
from runtime.durable.store import Store, StoreRecorder
from tests import moto_s3
from tests.moto_s3 import aws, fresh_bucket

BUCKET = "dmap-results"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:StateMachine/Life"
CHILD = "arn:aws:states:us-east-1:123456789012:execution:StateMachine/Life:"

#: A child's record in FAILED_0.json when it failed, in AWS's order (captured).
FAILED_FIELDS = [
    "Cause",
    "Error",
    "ExecutionArn",
    "Input",
    "InputDetails",
    "Name",
    "OutputDetails",
    "RedriveCount",
    "RedriveStatus",
    "StartDate",
    "StateMachineArn",
    "Status",
    "StopDate",
]

#: Waits ``$.value.wait`` seconds, then fails when ``$.value.fail``.
PROCESSOR = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "WaitBeforeDecision",
    "States": {
        "WaitBeforeDecision": {"Type": "Wait", "SecondsPath": "$.value.wait", "Next": "Decide"},
        "Decide": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.value.fail", "BooleanEquals": True, "Next": "FailItem"}],
            "Default": "ReturnItem",
        },
        "FailItem": {"Type": "Fail", "Error": "OwnedItemFailure", "Cause": "a bad item"},
        "ReturnItem": {"Type": "Pass", "End": True},
    },
}
SELECTOR = {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value"}


moto_server = moto_s3.moto_server  # the fixture, for this module


@pytest.fixture
def s3(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    return fresh_bucket(moto_server, monkeypatch, BUCKET)


def life(**fields: Any) -> dict[str, Any]:
    """The captured ``lifecycle`` machine: a labelled Map over ``$.items``."""
    state = {
        "Type": "Map",
        "Label": "Life",
        "ItemsPath": "$.items",
        "ItemSelector": SELECTOR,
        "ItemProcessor": PROCESSOR,
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": BUCKET, "Prefix": "results/cancel"},
        },
        "End": True,
        **fields,
    }
    return {"StartAt": "Map", "States": {"Map": state}}


def items(fail: set[int], count: int = 4, wait: dict[int, int] | None = None) -> dict[str, Any]:
    waits = wait or {}
    return {"items": [{"n": i, "wait": waits.get(i, 0), "fail": i in fail} for i in range(count)]}


def execute(definition: dict[str, Any], data: Any, **options: Any) -> Any:
    async def main() -> Any:
        clock = VirtualClock(start=1_700_000_000)  # 2023-11-14T22:13:20Z
        return await run(definition, data, services=aws(), clock=clock, **options)

    return anyio.run(main)


def body(s3: Any, key: str) -> bytes:
    data: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return data


def keys(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def pending_record(index: int, n: int, wait: int = 0) -> dict[str, Any]:
    value = {"n": n, "wait": wait, "fail": False}
    text = json.dumps({"index": index, "value": value}, separators=(",", ":"))
    return {"Input": text, "InputDetails": {"Included": True}, "Status": "PENDING"}


def test_a_map_run_past_its_tolerance_writes_its_pending_children(s3: Any) -> None:
    # The captured cancel_pending case: MaxConcurrency 1, no failure tolerated, the first
    # item fails; the items after it never start.
    definition = life(MaxConcurrency=1, ToleratedFailureCount=0)
    result = execute(definition, items({0}))
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "States.ExceedToleratedFailureThreshold",
        "The specified tolerated failure threshold was exceeded",
    )
    [started] = [e.details for e in result.history if e.type == "MapRunStarted"]
    arn = started["mapRunArn"]
    folder = f"results/cancel/{arn.rsplit(':', 1)[-1]}/"
    assert keys(s3) == [
        f"{folder}FAILED_0.json",
        f"{folder}PENDING_0.json",
        f"{folder}manifest.json",
    ]
    # PENDING_0.json, byte for byte as AWS writes it: compact, keys in this order.
    pending = [pending_record(i, i) for i in (1, 2, 3)]
    assert (
        body(s3, f"{folder}PENDING_0.json") == json.dumps(pending, separators=(",", ":")).encode()
    )
    [failed] = json.loads(body(s3, f"{folder}FAILED_0.json"))
    assert list(failed) == FAILED_FIELDS
    assert failed["Cause"] == "a bad item" and failed["Error"] == "OwnedItemFailure"
    assert failed["ExecutionArn"] == CHILD + failed["Name"]
    assert failed["Input"] == json.dumps(
        {"index": 0, "value": {"n": 0, "wait": 0, "fail": True}}, separators=(",", ":")
    )
    assert failed["InputDetails"] == failed["OutputDetails"] == {"Included": True}
    assert (failed["RedriveCount"], failed["RedriveStatus"]) == (0, "REDRIVABLE_BY_MAP_RUN")
    assert (failed["StateMachineArn"], failed["Status"]) == (MACHINE, "FAILED")
    manifest = body(s3, f"{folder}manifest.json")
    files = {
        "FAILED": [
            {"Key": f"{folder}FAILED_0.json", "Size": len(body(s3, f"{folder}FAILED_0.json"))}
        ],
        "PENDING": [
            {"Key": f"{folder}PENDING_0.json", "Size": len(body(s3, f"{folder}PENDING_0.json"))}
        ],
        "SUCCEEDED": [],
    }
    expected = {"DestinationBucket": BUCKET, "MapRunArn": arn, "ResultFiles": files}
    assert manifest == json.dumps(expected, separators=(",", ":")).encode()
    # The never-started items stay pending in the Map Run's counters.
    [described] = result.map_runs
    for counts in (described["itemCounts"], described["executionCounts"]):
        assert (counts["pending"], counts["failed"], counts["total"]) == (3, 1, 4)
        assert counts["resultsWritten"] == 1


def test_pending_records_in_json_lines(s3: Any) -> None:
    writer = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": BUCKET, "Prefix": "lines"},
        "WriterConfig": {"OutputType": "JSONL", "Transformation": "COMPACT"},
    }
    definition = life(MaxConcurrency=1, ResultWriter=writer)
    result = execute(definition, items({1}, count=5))
    assert result.error == "OwnedItemFailure"  # no tolerance: the child's own error
    folder = f"lines/{result.map_runs[0]['mapRunArn'].rsplit(':', 1)[-1]}/"
    assert keys(s3) == [
        f"{folder}FAILED_0.jsonl",
        f"{folder}PENDING_0.jsonl",
        f"{folder}SUCCEEDED_0.jsonl",
        f"{folder}manifest.json",
    ]
    lines = body(s3, f"{folder}PENDING_0.jsonl").decode()
    assert lines.endswith("\n")
    assert [json.loads(line) for line in lines.splitlines()] == [
        pending_record(i, i) for i in (2, 3, 4)
    ]
    manifest = json.loads(body(s3, f"{folder}manifest.json"))
    assert [f["Key"] for f in manifest["ResultFiles"]["PENDING"]] == [f"{folder}PENDING_0.jsonl"]


def test_a_child_running_when_the_map_run_fails_is_aborted_and_written(s3: Any) -> None:
    # The captured redrive_map case: two at a time; the second item fails after 8 s while
    # the third waits 30 s: the Map Run aborts it, and the three after never start.
    data = items({1}, count=6, wait={1: 8, 2: 30})
    result = execute(life(MaxConcurrency=2, ToleratedFailureCount=0), data)
    assert result.error == "States.ExceedToleratedFailureThreshold"
    arn = result.map_runs[0]["mapRunArn"]
    folder = f"results/cancel/{arn.rsplit(':', 1)[-1]}/"
    failed, aborted = json.loads(body(s3, f"{folder}FAILED_0.json"))
    assert failed["Status"] == "FAILED"
    assert list(aborted) == [field for field in FAILED_FIELDS if field != "Error"]
    assert aborted["Cause"] == (
        f"The map run execution [{arn}] which was managing this resource was aborted"
    )
    assert json.loads(aborted["Input"])["index"] == 2
    assert (aborted["Status"], aborted["RedriveStatus"]) == ("ABORTED", "REDRIVABLE_BY_MAP_RUN")
    # Started when the first item ended, stopped when the second failed, 8 s in.
    assert (aborted["StartDate"], aborted["StopDate"]) == (
        "2023-11-14T22:13:20.000Z",
        "2023-11-14T22:13:28.000Z",
    )
    pending = json.loads(body(s3, f"{folder}PENDING_0.json"))
    assert pending == [pending_record(i, i) for i in (3, 4, 5)]
    [succeeded] = json.loads(body(s3, f"{folder}SUCCEEDED_0.json"))
    assert json.loads(succeeded["Input"])["index"] == 0
    counts = result.map_runs[0]["itemCounts"]
    assert (counts["aborted"], counts["pending"], counts["resultsWritten"]) == (1, 3, 3)


def redrive_case(s3: Any, tmp_path: Any, mend: bool, drop_manifest: bool = False) -> Any:
    """Six items read from S3, the second bad: the run fails; it is redriven with the bad
    item mended (``mend``) or not."""
    lines = "".join(json.dumps({"n": n, "bad": n == 1}) + "\n" for n in range(6))
    s3.put_object(Bucket=BUCKET, Key="items.jsonl", Body=lines)
    processor = {
        **PROCESSOR,
        "States": {
            **PROCESSOR["States"],
            "WaitBeforeDecision": {"Type": "Pass", "Next": "Decide"},
            "Decide": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.value.bad", "BooleanEquals": True, "Next": "FailItem"}],
                "Default": "ReturnItem",
            },
        },
    }
    definition = life(
        ItemsPath=None,
        ItemReader={
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSONL"},
            "Parameters": {"Bucket": BUCKET, "Key": "items.jsonl"},
        },
        ItemProcessor=processor,
        MaxConcurrency=1,
        ToleratedFailureCount=0,
    )
    del definition["States"]["Map"]["ItemsPath"]
    start = float(int(time.time()))  # a redrive must come within 14 days of the stop

    async def main() -> Any:
        with Store.open(tmp_path / "s.db") as store:
            failed = await run(
                definition,
                {},
                services=aws(),
                clock=VirtualClock(start=start),
                name="job",
                observers=[StoreRecorder(store)],
            )
            assert failed.error == "States.ExceedToleratedFailureThreshold"
            first = {key: body(s3, key) for key in keys(s3) if key.startswith("results/")}
            if mend:
                s3.put_object(Bucket=BUCKET, Key="items.jsonl", Body=lines.replace("true", "false"))
            if drop_manifest:
                [manifest] = [key for key in first if key.endswith("/manifest.json")]
                s3.delete_object(Bucket=BUCKET, Key=manifest)
            redriven = await redrive(
                store, "job", services=aws(), clock=VirtualClock(start=start + 60)
            )
            [document] = store.map_runs(failed.arn)
        return redriven, MapRunRecord.from_json(document), first

    return anyio.run(main)


def test_a_redrive_writes_its_generation_under_redrive_1(s3: Any, tmp_path: Any) -> None:
    redriven, record, first = redrive_case(s3, tmp_path, mend=True)
    assert redriven.status == "SUCCEEDED", redriven.cause
    folder = f"results/cancel/{record.arn.rsplit(':', 1)[-1]}/"
    assert sorted(first) == [
        f"{folder}FAILED_0.json",
        f"{folder}PENDING_0.json",
        f"{folder}SUCCEEDED_0.json",
        f"{folder}manifest.json",
    ]
    now = {key: body(s3, key) for key in keys(s3) if key.startswith("results/")}
    assert {key: now[key] for key in first} == first  # the first run's files stay
    assert sorted(set(now) - set(first)) == [
        f"{folder}Redrive-1/SUCCEEDED_0.json",
        f"{folder}Redrive-1/manifest.json",
    ]
    assert redriven.output == {
        "MapRunArn": record.arn,
        "ResultWriterDetails": {"Bucket": BUCKET, "Key": f"{folder}Redrive-1/manifest.json"},
    }
    again = now[f"{folder}Redrive-1/SUCCEEDED_0.json"]
    manifest = {
        "DestinationBucket": BUCKET,
        "MapRunArn": record.arn,
        "ResultFiles": {
            "FAILED": [],
            "PENDING": [],
            "SUCCEEDED": [
                {
                    "Key": f"{folder}SUCCEEDED_0.json",
                    "Size": len(first[f"{folder}SUCCEEDED_0.json"]),
                },
                {"Key": f"{folder}Redrive-1/SUCCEEDED_0.json", "Size": len(again)},
            ],
        },
    }
    assert (
        now[f"{folder}Redrive-1/manifest.json"]
        == json.dumps(manifest, separators=(",", ":")).encode()
    )
    # The redrive's file holds what it ran: the failed child redriven, the pending ones new.
    ran = [(json.loads(r["Input"])["index"], r["RedriveCount"]) for r in json.loads(again)]
    assert ran == [(1, 1), (2, 0), (3, 0), (4, 0), (5, 0)]
    [kept] = json.loads(first[f"{folder}SUCCEEDED_0.json"])
    assert json.loads(kept["Input"])["index"] == 0


def test_a_redrive_that_fails_again_writes_its_own_failed_and_pending(
    s3: Any, tmp_path: Any
) -> None:
    redriven, record, _ = redrive_case(s3, tmp_path, mend=False)
    assert redriven.error == "States.ExceedToleratedFailureThreshold"
    folder = f"results/cancel/{record.arn.rsplit(':', 1)[-1]}/Redrive-1/"
    manifest = json.loads(body(s3, f"{folder}manifest.json"))
    files = manifest["ResultFiles"]
    assert [f["Key"] for f in files["FAILED"]] == [f"{folder}FAILED_0.json"]
    assert [f["Key"] for f in files["PENDING"]] == [f"{folder}PENDING_0.json"]
    assert [f["Key"].rsplit("/", 2)[-2:] for f in files["SUCCEEDED"]] == [
        [record.arn.rsplit(":", 1)[-1], "SUCCEEDED_0.json"]
    ]
    [failed] = json.loads(body(s3, f"{folder}FAILED_0.json"))
    assert (json.loads(failed["Input"])["index"], failed["RedriveCount"]) == (1, 1)
    pending = json.loads(body(s3, f"{folder}PENDING_0.json"))
    assert [json.loads(p["Input"])["index"] for p in pending] == [2, 3, 4, 5]
    assert record.redrive_count == 1 and record.items["pending"] == 4


def test_a_redrive_without_the_earlier_manifest_writes_every_child(s3: Any, tmp_path: Any) -> None:
    redriven, record, _ = redrive_case(s3, tmp_path, mend=True, drop_manifest=True)
    assert redriven.status == "SUCCEEDED", redriven.cause
    folder = f"results/cancel/{record.arn.rsplit(':', 1)[-1]}/Redrive-1/"
    manifest = json.loads(body(s3, f"{folder}manifest.json"))
    [only] = manifest["ResultFiles"]["SUCCEEDED"]
    assert only["Key"] == f"{folder}SUCCEEDED_0.json"
    records = json.loads(body(s3, only["Key"]))
    assert [json.loads(r["Input"])["index"] for r in records] == list(range(6))


def test_express_children_records_have_no_redrive_status(s3: Any) -> None:
    # Captured Express Map Runs: the records carry RedriveCount but no RedriveStatus.
    processor = {
        **PROCESSOR,
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
        "States": {**PROCESSOR["States"], "WaitBeforeDecision": {"Type": "Pass", "Next": "Decide"}},
    }
    result = execute(life(ItemProcessor=processor, ToleratedFailureCount=1), items({1}))
    assert result.status == "SUCCEEDED", result.cause
    folder = f"results/cancel/{result.map_runs[0]['mapRunArn'].rsplit(':', 1)[-1]}/"
    succeeded = json.loads(body(s3, f"{folder}SUCCEEDED_0.json"))
    [failed] = json.loads(body(s3, f"{folder}FAILED_0.json"))
    assert [json.loads(r["Input"])["index"] for r in succeeded] == [0, 2, 3]
    assert list(succeeded[0]) == [
        "ExecutionArn",
        "Input",
        "InputDetails",
        "Name",
        "Output",
        "OutputDetails",
        "RedriveCount",
        "StartDate",
        "StateMachineArn",
        "Status",
        "StopDate",
    ]
    assert list(failed) == [field for field in FAILED_FIELDS if field != "RedriveStatus"]


def test_express_children_running_when_the_map_run_fails_run_to_their_end(s3: Any) -> None:
    # Captured: the Express child waiting 30 s when the second item failed succeeded.
    processor = {
        **PROCESSOR,
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
    }
    data = items({1}, count=6, wait={1: 8, 2: 30})
    result = execute(life(ItemProcessor=processor, MaxConcurrency=2, ToleratedFailureCount=0), data)
    assert result.error == "States.ExceedToleratedFailureThreshold"
    folder = f"results/cancel/{result.map_runs[0]['mapRunArn'].rsplit(':', 1)[-1]}/"
    succeeded = json.loads(body(s3, f"{folder}SUCCEEDED_0.json"))
    assert [json.loads(r["Input"])["index"] for r in succeeded] == [0, 2]
    assert succeeded[1]["StopDate"] == "2023-11-14T22:13:50.000Z"
    [failed] = json.loads(body(s3, f"{folder}FAILED_0.json"))
    assert (json.loads(failed["Input"])["index"], failed["Status"]) == (1, "FAILED")
    pending = json.loads(body(s3, f"{folder}PENDING_0.json"))
    assert pending == [pending_record(i, i) for i in (3, 4, 5)]
    assert result.map_runs[0]["itemCounts"]["aborted"] == 0


def test_with_an_item_batcher_a_pending_record_holds_the_batch(s3: Any) -> None:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Decide",
        "States": {
            "Decide": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.Items[1].value.fail", "BooleanEquals": True, "Next": "Bad"}
                ],
                "Default": "Good",
            },
            "Bad": {"Type": "Fail", "Error": "OwnedItemFailure", "Cause": "a bad batch"},
            "Good": {"Type": "Pass", "End": True},
        },
    }
    definition = life(ItemProcessor=processor, ItemBatcher={"MaxItemsPerBatch": 2})
    result = execute(definition, items({1}, count=6))
    assert result.error == "OwnedItemFailure"
    folder = f"results/cancel/{result.map_runs[0]['mapRunArn'].rsplit(':', 1)[-1]}/"
    pending = json.loads(body(s3, f"{folder}PENDING_0.json"))
    batches = [json.loads(record.pop("Input")) for record in pending]
    assert pending == [{"InputDetails": {"Included": True}, "Status": "PENDING"}] * 2
    assert [[item["index"] for item in batch["Items"]] for batch in batches] == [[2, 3], [4, 5]]
    counts = result.map_runs[0]
    assert (counts["itemCounts"]["pending"], counts["executionCounts"]["pending"]) == (4, 2)
