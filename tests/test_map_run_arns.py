"""The ARNs of Map Runs and their children, in the shapes AWS gives them.

Pinned against real AWS captures (the public repository radkawar/stackd,
testdata/aws/stepfunctions/distributed_map.json and redrive_map.json, us-west-2):

- a Map state without ``Label``: ``...:mapRun:<machine>/<label>:<id>`` where the label is
  the name-based UUID version 3 of the state's name (``LoadMap`` gave
  ``34a8d7c6-ed5e-37c8-a758-52f3cbb41e32``, ``MetadataMap``
  ``1fd734cc-83be-385a-ae9e-ab3a2c2ee9dd``); its children are
  ``...:execution:<machine>/<label>:<name>`` of ``...:stateMachine:<machine>/<label>``;
- ``ExecutionType: EXPRESS`` children: ``...:express:<machine>/<label>:<name>:<id>``
  (``$$.Execution.Id``, ``ExecutionArn`` in the result files, ListExecutions), their
  ``Name`` in the result files being ``<name>`` and ListExecutions' ``name``
  ``<name>:<id>``; a redriven Express child keeps its ARN.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import anyio

from runtime import VirtualClock, run
from runtime.adapters import Services
from runtime.distributed.runs import MapRunRecord, child_list_item, default_label
from runtime.durable.resume import redrive
from runtime.durable.store import Store, StoreRecorder

UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
#: The UUID version 3 of "Map" (the MD5 of the name, as AWS makes labels).
MAP_LABEL = "46f3ea05-6caa-3126-b91f-3f70beea068c"
HEAD = "arn:aws:states:us-east-1:123456789012"


def test_a_generated_label_is_the_one_aws_gave() -> None:
    assert default_label("LoadMap") == "34a8d7c6-ed5e-37c8-a758-52f3cbb41e32"
    assert default_label("MetadataMap") == "1fd734cc-83be-385a-ae9e-ab3a2c2ee9dd"
    assert default_label("Map") == MAP_LABEL
    assert default_label("Ünïcode") != default_label("Unicode")


def processor(express: bool) -> dict[str, Any]:
    return {
        "ProcessorConfig": {
            "Mode": "DISTRIBUTED",
            "ExecutionType": "EXPRESS" if express else "STANDARD",
        },
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.bad", "BooleanEquals": True, "Next": "Broken"}],
                "Default": "Shape",
            },
            "Broken": {"Type": "Fail", "Error": "Item.Bad", "Cause": "a bad item"},
            "Shape": {"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id"}, "End": True},
        },
    }


def map_run(
    folder: Path, express: bool, processes: int, mend: bool = False, **fields: Any
) -> tuple[Any, MapRunRecord, list[dict[str, Any]], dict[str, Any]]:
    """A Distributed Map over 600 items, every 100th bad, recorded in a store; with
    ``mend`` the items are mended and the failed run redriven."""
    folder.mkdir()
    write = (folder / "items.jsonl").write_text
    write("".join(json.dumps({"n": n, "bad": n % 100 == 7}) + "\n" for n in range(600)))
    state = {
        "Type": "Map",
        "ItemProcessor": processor(express),
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSONL"},
            "Parameters": {"Bucket": "data", "Key": "items.jsonl"},
        },
        "ToleratedFailurePercentage": 0 if mend else 5,
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "data", "Prefix": "out"},
            "WriterConfig": {"Transformation": "NONE"},
        },
        "End": True,
        **fields,
    }
    services = Services.create(buckets={"data": folder})
    # A redrive must come within 14 days of the stop (a real clock's date).
    start = float(int(time.time())) if mend else 1_700_000_000.0

    async def main() -> Any:
        with Store.open(folder / "s.db") as store:
            result = await run(
                {"StartAt": "Map", "States": {"Map": state}},
                {},
                services=services,
                clock=VirtualClock(start=start),
                name="same",
                observers=[StoreRecorder(store)],
                processes=processes,
            )
            if mend:
                assert result.error == "States.ExceedToleratedFailureThreshold"
                write("".join(json.dumps({"n": n, "bad": False}) + "\n" for n in range(600)))
                result = await redrive(
                    store,
                    "same",
                    services=services,
                    clock=VirtualClock(start=start + 60),
                    processes=processes,
                )
            [document] = store.map_runs(result.arn)
            record = MapRunRecord.from_json(document)
            children = store.map_run_children(record.arn)
        return result, record, children

    result, record, children = anyio.run(main)
    files = {
        str(path.relative_to(folder)): json.loads(path.read_text())
        for path in sorted((folder / "out").rglob("*.json"))
    }
    return result, record, children, files


def records(files: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for key, body in files.items() if "manifest" not in key for r in body]


def test_a_map_without_label_is_named_by_the_label_aws_generates(tmp_path: Path) -> None:
    result, record, children, files = map_run(tmp_path / "standard", False, 1)
    assert result.status == "SUCCEEDED", result.cause
    assert re.fullmatch(f"{HEAD}:mapRun:StateMachine/{MAP_LABEL}:{UUID}", record.arn)
    assert result.output["MapRunArn"] == record.arn
    assert not record.express and '"executionType":"STANDARD"' in record.to_json()
    written = records(files)
    assert len(written) == 600
    for row in written:
        assert row["ExecutionArn"] == f"{HEAD}:execution:StateMachine/{MAP_LABEL}:{row['Name']}"
        assert row["StateMachineArn"] == f"{HEAD}:stateMachine:StateMachine/{MAP_LABEL}"
    # $$.Execution.Id is the child's own ARN only where the engine says so: what the results
    # files and ListExecutions give must agree with each other.
    listed = [child_list_item(child, record.arn) for child in children]
    by_name = {row["Name"]: row["ExecutionArn"] for row in written}
    assert {item["name"]: item["executionArn"] for item in listed} == by_name
    assert {item["stateMachineArn"] for item in listed} == {
        f"{HEAD}:stateMachine:StateMachine/{MAP_LABEL}"
    }


def test_a_label_names_the_run_and_its_children(tmp_path: Path) -> None:
    _, record, _, files = map_run(tmp_path / "labelled", False, 1, Label="Rows")
    assert re.fullmatch(f"{HEAD}:mapRun:StateMachine/Rows:{UUID}", record.arn)
    for row in records(files):
        assert row["ExecutionArn"] == f"{HEAD}:execution:StateMachine/Rows:{row['Name']}"


def test_express_children_have_express_arns_in_one_process_as_in_two(
    tmp_path: Path, capsys: Any
) -> None:
    from runtime.cli import main

    one = map_run(tmp_path / "one", True, 1, Label="ProbeMap")
    two = map_run(tmp_path / "two", True, 2, Label="ProbeMap")
    result, record, children, files = one
    assert result.status == "SUCCEEDED", result.cause
    assert record.express and '"executionType":"EXPRESS"' in record.to_json()
    assert MapRunRecord.from_json(record.to_json()) == record
    written = records(files)
    assert len(written) == 600 and {r["Status"] for r in written} == {"SUCCEEDED", "FAILED"}
    pattern = re.compile(f"{HEAD}:express:StateMachine/ProbeMap:({UUID}):({UUID})")
    ids = set()
    for row in written:
        match = pattern.fullmatch(row["ExecutionArn"])
        assert match is not None, row["ExecutionArn"]
        assert match[1] == row["Name"]  # the results file names the child without its id
        ids.add(match[2])
        assert row["StateMachineArn"] == f"{HEAD}:stateMachine:StateMachine/ProbeMap"
    assert len(ids) == 600
    # ListExecutions(mapRunArn): the express ARN, named <name>:<id> as AWS lists it.
    listed = [child_list_item(child, record.arn, record.express) for child in children]
    by_arn = {row["ExecutionArn"]: row["Name"] for row in written}
    assert {item["executionArn"]: item["name"].split(":")[0] for item in listed} == by_arn
    for item in listed:
        assert item["executionArn"].endswith(":" + item["name"])
    # `asl executions --map-run` lists them so too, from the stored Map Run.
    store = str(tmp_path / "one" / "s.db")
    assert main(["executions", "--store", store, "--map-run", record.arn, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["executions"] == listed[:100]  # its --limit
    # Worker processes derive the same ARNs.
    assert files == two[3]
    assert (record, children) == (two[1], two[2])


def test_a_redriven_express_child_keeps_its_arn(tmp_path: Path) -> None:
    result, record, _, files = map_run(tmp_path / "again", True, 1, mend=True, Label="ProbeMap")
    assert result.status == "SUCCEEDED", result.cause
    assert record.redrive_count == 1
    [failed_key] = [key for key in files if key.endswith("/FAILED_0.json")]
    failed = {row["Name"]: row["ExecutionArn"] for row in files[failed_key]}
    [again_key] = [key for key in files if key.endswith("/Redrive-1/SUCCEEDED_0.json")]
    redriven = {row["Name"]: row["ExecutionArn"] for row in files[again_key]}
    assert len(failed) == 6 and redriven == failed
    assert {row["RedriveCount"] for row in files[again_key]} == {1}
