"""Distributed Map with ItemReader, ItemBatcher and ResultWriter, against moto's S3.

The written files are checked field by field against the example in AWS's ResultWriter
documentation (DG: input-output-resultwriter): the manifest's ``DestinationBucket``,
``MapRunArn`` and ``ResultFiles`` (``FAILED``, ``PENDING``, ``SUCCEEDED`` lists of
``Key``/``Size``), and each record's ``ExecutionArn``, ``Input``, ``InputDetails``,
``Name``, ``Output``, ``OutputDetails``, ``RedriveCount``, ``RedriveStatus``,
``RedriveStatusReason``, ``StartDate``, ``StateMachineArn``, ``Status``, ``StopDate``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from asl import compile_definition
from runtime import run_sync
from runtime.adapters import Services
from runtime.adapters.mock_config import MockConfig
from runtime.cli import main
from tests import moto_s3
from tests.moto_s3 import aws, fresh_bucket

BUCKET = "dmap-data"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}

#: The fields of a succeeded child in AWS's documented SUCCEEDED_0.json example.
SUCCEEDED_FIELDS = [
    "ExecutionArn",
    "Input",
    "InputDetails",
    "Name",
    "Output",
    "OutputDetails",
    "RedriveCount",
    "RedriveStatus",
    "RedriveStatusReason",
    "StartDate",
    "StateMachineArn",
    "Status",
    "StopDate",
]


moto_server = moto_s3.moto_server  # the fixture, for this module


@pytest.fixture
def s3(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    return fresh_bucket(moto_server, monkeypatch, BUCKET)


def dmap(processor: dict[str, Any] = PASS, **fields: Any) -> dict[str, Any]:
    state = {"Type": "Map", "End": True, "ItemProcessor": {"ProcessorConfig": DISTRIBUTED}}
    state["ItemProcessor"].update(processor)
    state.update(fields)
    return {"StartAt": "Map", "States": {"Map": state}}


def reader(key: str, input_type: str | None = None, **config: Any) -> dict[str, Any]:
    if input_type is None:
        return {
            "Resource": "arn:aws:states:::s3:listObjectsV2",
            "Parameters": {"Bucket": BUCKET, "Prefix": key},
        }
    return {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": input_type, **config},
        "Parameters": {"Bucket": BUCKET, "Key": key},
    }


WRITER = {
    "Resource": "arn:aws:states:::s3:putObject",
    "Parameters": {"Bucket": BUCKET, "Prefix": "results"},
}


def read_json(s3: Any, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def written(s3: Any, output: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The manifest the Map's output points to, and the records of each status."""
    details = output["ResultWriterDetails"]
    assert details["Bucket"] == BUCKET
    manifest = read_json(s3, details["Key"])
    files = {
        status: [record for entry in entries for record in read_json(s3, entry["Key"])]
        for status, entries in manifest["ResultFiles"].items()
    }
    return manifest, files


#: The label AWS generates for a Map state named "Map" that has no ``Label``.
MAP_LABEL = "46f3ea05-6caa-3126-b91f-3f70beea068c"


def check_layout(s3: Any, output: dict[str, Any]) -> dict[str, list[Any]]:
    run_id = output["MapRunArn"].rsplit(":", 1)[-1]
    assert list(output) == ["MapRunArn", "ResultWriterDetails"]
    assert output["ResultWriterDetails"]["Key"] == f"results/{run_id}/manifest.json"
    manifest, files = written(s3, output)
    assert list(manifest) == ["DestinationBucket", "MapRunArn", "ResultFiles"]
    assert manifest["DestinationBucket"] == BUCKET
    assert manifest["MapRunArn"] == output["MapRunArn"]
    assert list(manifest["ResultFiles"]) == ["FAILED", "PENDING", "SUCCEEDED"]
    for number, entry in enumerate(manifest["ResultFiles"]["SUCCEEDED"]):
        assert entry["Key"] == f"results/{run_id}/SUCCEEDED_{number}.json"
        body = s3.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read()
        assert entry["Size"] == len(body)
    for record in files["SUCCEEDED"]:
        assert list(record) == SUCCEEDED_FIELDS
        # The Map state "Map" has no Label: AWS's label is the UUID v3 of its name.
        assert record["ExecutionArn"].startswith(
            f"arn:aws:states:us-east-1:123456789012:execution:StateMachine/{MAP_LABEL}:"
        )
        assert record["ExecutionArn"].endswith(":" + record["Name"])
        assert record["StateMachineArn"] == (
            f"arn:aws:states:us-east-1:123456789012:stateMachine:StateMachine/{MAP_LABEL}"
        )
        assert record["InputDetails"] == record["OutputDetails"] == {"Included": True}
        assert (record["RedriveCount"], record["RedriveStatus"], record["Status"]) == (
            0,
            "NOT_REDRIVABLE",
            "SUCCEEDED",
        )
        assert record["RedriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
        assert record["StartDate"].endswith("Z") and record["StopDate"].endswith("Z")
    return files


# -- the three sources through ItemBatcher and ResultWriter ---------------------------


def test_a_csv_of_100000_rows_is_batched_and_exported(s3: Any) -> None:
    rows = "".join(f"{i},name {i},{i % 7}\n" for i in range(100_000))
    s3.put_object(Bucket=BUCKET, Key="big.csv", Body="id,name,group\n" + rows)
    definition = dmap(
        ItemReader=reader("big.csv", "CSV", CSVHeaderLocation="FIRST_ROW"),
        ItemBatcher={"MaxItemsPerBatch": 1000, "BatchInput": {"source.$": "$.source"}},
        ResultWriter=WRITER,
    )
    result = run_sync(definition, {"source": "big.csv"}, services=aws())
    assert result.status == "SUCCEEDED", result.cause
    files = check_layout(s3, result.output)
    assert files["FAILED"] == files["PENDING"] == []
    batches = [json.loads(record["Input"]) for record in files["SUCCEEDED"]]
    assert len(batches) == 100
    assert all(batch["BatchInput"] == {"source": "big.csv"} for batch in batches)
    items = [item for batch in batches for item in batch["Items"]]
    assert len(items) == 100_000
    assert items[0] == {"id": "0", "name": "name 0", "group": "0"}
    assert sorted(int(item["id"]) for item in items) == list(range(100_000))
    started = [e.details for e in result.history if e.type == "MapRunStarted"]
    assert started == [{"mapRunArn": result.output["MapRunArn"]}]


def test_a_json_lines_file_is_batched_by_bytes_and_exported(s3: Any) -> None:
    lines = "".join(json.dumps({"n": i, "pad": "x" * 90}) + "\n" for i in range(5000))
    s3.put_object(Bucket=BUCKET, Key="items.jsonl", Body=lines)
    definition = dmap(
        ItemReader=reader("items.jsonl", "JSONL"),
        ItemBatcher={"MaxInputBytesPerBatch": 10_000},
        ResultWriter=WRITER,
    )
    result = run_sync(definition, {}, services=aws())
    assert result.status == "SUCCEEDED", result.cause
    files = check_layout(s3, result.output)
    inputs = [record["Input"] for record in files["SUCCEEDED"]]
    assert all(len(text.encode()) <= 10_000 for text in inputs)
    items = [item for text in inputs for item in json.loads(text)["Items"]]
    assert sorted(item["n"] for item in items) == list(range(5000))


def test_a_listing_of_5000_keys_gives_aws_item_shape(s3: Any) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    # Straight into moto's backend: 5,000 PutObject calls through boto3 take a minute.
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for i in range(5000):
        backend.put_object(
            BUCKET, f"images/{i:05d}.jpg", b"x" * (i % 10), disable_notification=True
        )
    s3.put_object(Bucket=BUCKET, Key="images/nested/skip.jpg", Body=b"")
    s3.put_object(Bucket=BUCKET, Key="other/skip.jpg", Body=b"")
    listing = reader("images/")
    listing["Parameters"]["Delimiter"] = "/"
    definition = dmap(
        ItemReader=listing,
        ItemBatcher={"MaxItemsPerBatch": 500},
        ResultWriter=WRITER,
    )
    result = run_sync(definition, {}, services=aws())
    assert result.status == "SUCCEEDED", result.cause
    files = check_layout(s3, result.output)
    items = [i for r in files["SUCCEEDED"] for i in json.loads(r["Input"])["Items"]]
    assert [item["Key"] for item in items] == [f"images/{i:05d}.jpg" for i in range(5000)]
    first = items[1]
    assert list(first) == ["Etag", "Key", "LastModified", "Size", "StorageClass"]
    assert first["Etag"].startswith('"') and first["Size"] == 1
    assert isinstance(first["LastModified"], int) and first["StorageClass"] == "STANDARD"


# -- failure tolerance -----------------------------------------------------------------

FAILING = {
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.bad", "BooleanEquals": True, "Next": "Boom"}],
            "Default": "Fine",
        },
        "Boom": {"Type": "Fail", "Error": "Item.Bad", "Cause": "bad item"},
        "Fine": {"Type": "Pass", "End": True},
    },
}


def tolerance_run(s3: Any, failing: int) -> Any:
    lines = "".join(json.dumps({"n": i, "bad": i < failing}) + "\n" for i in range(100))
    s3.put_object(Bucket=BUCKET, Key="t.jsonl", Body=lines)
    definition = dmap(
        FAILING,
        ItemReader=reader("t.jsonl", "JSONL"),
        ToleratedFailurePercentage=5,
        ResultWriter=WRITER,
    )
    return run_sync(definition, {}, services=aws())


def test_three_percent_failing_within_five_percent_tolerated(s3: Any) -> None:
    result = tolerance_run(s3, 3)
    assert result.status == "SUCCEEDED", result.cause
    files = check_layout(s3, result.output)
    assert len(files["SUCCEEDED"]) == 97
    assert [(r["Status"], r["Error"], r["Cause"]) for r in files["FAILED"]] == [
        ("FAILED", "Item.Bad", "bad item")
    ] * 3
    assert "Output" not in files["FAILED"][0]


def test_six_percent_failing_exceeds_the_threshold(s3: Any) -> None:
    result = tolerance_run(s3, 6)
    assert (result.status, result.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert result.cause == "The specified tolerated failure threshold was exceeded"
    failed = [e.details for e in result.history if e.type == "MapRunFailed"]
    assert failed == [
        {
            "error": "States.ExceedToleratedFailureThreshold",
            "cause": "The specified tolerated failure threshold was exceeded",
        }
    ]


def test_tolerated_count_counts_every_item_of_a_failed_batch() -> None:
    items = [{"bad": i == 0} for i in range(10)]
    definition = dmap(
        {"StartAt": "Fail", "States": {"Fail": {"Type": "Fail", "Error": "E"}}},
        ItemBatcher={"MaxItemsPerBatch": 4},
        ToleratedFailureCount=3,
    )
    result = run_sync(definition, items)
    assert result.error == "States.ExceedToleratedFailureThreshold"


# -- offline, mocks, other shapes ----------------------------------------------------------


def test_a_local_directory_stands_in_for_a_bucket(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "in").mkdir(parents=True)
    (data / "in" / "rows.csv").write_text("a|b\n1|2\n3|4\n5|6\n")
    definition = dmap(
        ItemReader=reader(
            "in/rows.csv", "CSV", CSVHeaderLocation="GIVEN", CSVHeaders=["x", "y"], MaxItems=3
        ),
        ItemBatcher={"MaxItemsPerBatch": 2},
        ResultWriter=WRITER,
    )
    definition["States"]["Map"]["ItemReader"]["ReaderConfig"]["CSVDelimiter"] = "PIPE"
    services = Services.create(buckets={BUCKET: data})
    result = run_sync(definition, {}, services=services)
    assert result.status == "SUCCEEDED", result.cause
    manifest = json.loads((data / result.output["ResultWriterDetails"]["Key"]).read_text())
    (entry,) = manifest["ResultFiles"]["SUCCEEDED"]
    records = json.loads((data / entry["Key"]).read_text())
    assert entry["Size"] == (data / entry["Key"]).stat().st_size
    batches = [json.loads(r["Input"]) for r in records]
    assert sorted(batches, key=lambda b: len(b["Items"]), reverse=True) == [
        {"Items": [{"x": "a", "y": "b"}, {"x": "1", "y": "2"}]},  # GIVEN: no header row
        {"Items": [{"x": "3", "y": "4"}]},  # MaxItems 3
    ]


def test_asl_exec_maps_a_bucket_to_a_directory(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "items.json").write_text(json.dumps([{"v": 1}, {"v": 2}]))
    definition = dmap(ItemReader=reader("items.json", "JSON"))
    path = tmp_path / "m.json"
    path.write_text(json.dumps(definition))
    code = main(
        [
            "exec",
            str(path),
            "--quiet",
            "--offline",
            "--no-store",
            "--bucket",
            f"{BUCKET}={tmp_path}",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out) == [{"v": 1}, {"v": 2}]


def test_a_mock_config_answers_the_item_reader() -> None:
    config = MockConfig.parse(
        {
            "StateMachines": {"M": {"TestCases": {"Happy": {"Map": "Rows"}}}},
            "MockedResponses": {"Rows": {"0": {"Return": "id,name\n1,a\n2,b\n"}}},
        }
    )
    definition = dmap(ItemReader=reader("any.csv", "CSV"))
    result = run_sync(definition, {}, mocks=config.test_case("Happy", "M"))
    assert result.output == [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}]


def test_jsonata_arguments_and_writer_config_flatten(tmp_path: Path) -> None:
    (tmp_path / "lists.jsonl").write_text("[1, 2]\n[3]\n")
    definition = dmap(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        QueryLanguage="JSONata",
        ItemReader={
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSONL", "MaxItems": "{% $states.input.max %}"},
            "Arguments": {"Bucket": BUCKET, "Key": "{% $states.input.key %}"},
        },
        ResultWriter={"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSON"}},
    )
    services = Services.create(buckets={BUCKET: tmp_path})
    result = run_sync(definition, {"key": "lists.jsonl", "max": 5}, services=services)
    assert result.output == [1, 2, 3]


def test_a_missing_object_fails_with_item_reader_failed(s3: Any) -> None:
    result = run_sync(dmap(ItemReader=reader("nope.json", "JSON")), {}, services=aws())
    assert (result.status, result.error) == ("FAILED", "States.ItemReaderFailed")
    assert "NoSuchKey" in (result.cause or "")


def test_these_fields_validate_without_a_diagnostic() -> None:
    definition = dmap(
        ItemReader=reader("k.csv", "CSV", CSVHeaderLocation="FIRST_ROW", MaxItems=10),
        ItemBatcher={"MaxItemsPerBatch": 10, "MaxInputBytesPerBatch": 1024, "BatchInput": {}},
        ResultWriter={**WRITER, "WriterConfig": {"OutputType": "JSONL", "Transformation": "NONE"}},
        ToleratedFailurePercentage=5,
        Label="rows",
    )
    compile_definition(definition)


def test_a_mock_config_answers_a_listing_with_iso_dates() -> None:
    entry = {"ETag": '"e"', "Size": 3, "StorageClass": "STANDARD"}
    listing = {
        "Contents": [
            {**entry, "Key": "p/a", "LastModified": "2024-01-01T00:00:00Z"},
            {**entry, "Key": "p/b", "LastModified": "2024-01-01T00:00:10+00:00"},
        ]
    }
    config = MockConfig.parse(
        {
            "StateMachines": {"M": {"TestCases": {"Happy": {"Map": "Listing"}}}},
            "MockedResponses": {"Listing": {"0": {"Return": listing}}},
        }
    )
    result = run_sync(dmap(ItemReader=reader("p/")), {}, mocks=config.test_case("Happy", "M"))
    assert [item["LastModified"] for item in result.output] == [1704067200, 1704067210]
    assert result.output[0] == {
        "Etag": '"e"',
        "Key": "p/a",
        "LastModified": 1704067200,
        "Size": 3,
        "StorageClass": "STANDARD",
    }
    listing["Contents"][0]["LastModified"] = "yesterday"
    config = MockConfig.parse(
        {
            "StateMachines": {"M": {"TestCases": {"Happy": {"Map": "Listing"}}}},
            "MockedResponses": {"Listing": {"0": {"Return": listing}}},
        }
    )
    failed = run_sync(dmap(ItemReader=reader("p/")), {}, mocks=config.test_case("Happy", "M"))
    assert failed.error == "States.ItemReaderFailed"
    assert failed.cause == "LastModified of 'p/a' is not an ISO 8601 time: 'yesterday'"
