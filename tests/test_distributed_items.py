"""The pieces of a Distributed Map's Map Run: readers, batches, the inventory reader."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime import run_sync
from runtime.adapters import Services
from runtime.distributed import reader
from runtime.distributed.batcher import MAX_BATCH_BYTES, batches
from runtime.distributed.inventory import manifest_items
from runtime.distributed.store import Buckets


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "CHUNK", 3)  # every value straddles chunk boundaries


def items(data: bytes, input_type: str, **options: Any) -> list[Any]:
    return list(reader.stream_items(io.BytesIO(data), input_type, **options))


@pytest.mark.usefixtures("tiny_chunks")
def test_a_json_array_is_read_element_by_element() -> None:
    values = [1, 23456, "a,b]", {"x": [1, {"y": None}]}, True, -1.5e3, [], "é", None]
    assert items(json.dumps(values).encode(), "JSON") == values
    assert items(b" [ ] ", "JSON") == []
    assert items(b"\xef\xbb\xbf[12, 345]", "JSON") == [12, 345]


@pytest.mark.parametrize("text", [b"{}", b"[1, 2", b"[1 2]", b"[1] 2"])
def test_a_malformed_json_array_is_a_read_error(text: bytes) -> None:
    with pytest.raises(reader.ReadError):
        items(text, "JSON")


@pytest.mark.usefixtures("tiny_chunks")
def test_json_lines_skip_blank_lines() -> None:
    assert items(b'{"a": 1}\n\n[2]\r\n3', "JSONL") == [{"a": 1}, [2], 3]
    with pytest.raises(reader.ReadError, match="Line 2"):
        items(b"1\n{\n", "JSONL")


LINE_PIECES = ['{"a": 1}', "  2 ", "[1,", "2]", "", '"x"', "1 2", "NaN", "3\r", "tru", '"a\\nb"']


def _line_by_line(text: str) -> list[Any]:
    """JSON Lines read as the definition says: json.loads of each line, blanks skipped."""
    values: list[Any] = []
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                values.append(json.loads(line))
            except ValueError as exc:
                return [*values, f"Line {number} is not valid JSON: {exc}"]
    return values


@settings(deadline=None)
@given(
    st.lists(st.sampled_from(LINE_PIECES), max_size=8),
    st.sampled_from(["", "\n"]),
    st.integers(1, 12),
)
def test_json_lines_read_in_place_equal_line_by_line(
    lines: list[str], end: str, chunk: int
) -> None:
    text = "\n".join(lines) + end
    got: list[Any] = []
    try:
        for value in reader._json_lines(
            iter([text[i : i + chunk] for i in range(0, len(text), chunk)])
        ):
            got.append(value)
    except reader.ReadError as exc:
        got.append(str(exc))
    assert repr(got) == repr(_line_by_line(text))


@pytest.mark.usefixtures("tiny_chunks")
def test_csv_rows_are_objects_of_strings() -> None:
    text = b'id,note,n\r\n1,"two\nlines",3\r\n4,short\r\n5,6,7,extra\n'
    assert items(text, "CSV") == [
        {"id": "1", "note": "two\nlines", "n": "3"},
        {"id": "4", "note": "short", "n": ""},
        {"id": "5", "note": "6", "n": "7"},
    ]


@pytest.mark.parametrize(
    ("name", "char"), [("PIPE", "|"), ("SEMICOLON", ";"), ("SPACE", " "), ("TAB", "\t")]
)
def test_csv_delimiters_and_given_headers(name: str, char: str) -> None:
    text = f"1{char}2\n3{char}4\n".encode()
    options = {"header_location": "GIVEN", "headers": ("a", "b"), "delimiter": name}
    assert items(text, "CSV", **options) == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]


def test_duplicate_csv_headers_are_refused() -> None:
    with pytest.raises(reader.ReadError, match="CSV headers cannot contain duplicates"):
        items(b"a,a\n1,2\n", "CSV")


def test_batches_close_on_count_and_on_bytes() -> None:
    assert [n for _, n in batches(range(7), 3, None)] == [3, 3, 1]
    grouped = list(batches(["x" * 10] * 4, None, 45, {"k": 1}, True))
    assert all(len(json.dumps(b, separators=(",", ":"))) <= 45 for b, _ in grouped[:-1])
    assert grouped[0][0] == {"BatchInput": {"k": 1}, "Items": ["x" * 10]}
    huge = "y" * MAX_BATCH_BYTES
    assert [n for _, n in batches([1, huge, 2], 10, None)] == [1, 1, 1]


def test_an_inventory_manifest_lists_its_csv_files(tmp_path: Path) -> None:
    bucket = tmp_path / "inv"
    (bucket / "data").mkdir(parents=True)
    (bucket / "data" / "part1.csv.gz").write_bytes(gzip.compress(b'"src","a.txt","10"\n'))
    (bucket / "data" / "part2.csv.gz").write_bytes(gzip.compress(b'"src","b.txt","20"\n'))
    manifest = {
        "sourceBucket": "src",
        "destinationBucket": "arn:aws:s3:::inv",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size",
        "files": [{"key": "data/part1.csv.gz"}, {"key": "data/part2.csv.gz"}],
    }
    (bucket / "manifest.json").write_text(json.dumps(manifest))
    store = Buckets(None, {"inv": bucket})
    assert list(manifest_items(store, {"Bucket": "inv", "Key": "manifest.json"})) == [
        {"Bucket": "src", "Key": "a.txt", "Size": "10"},
        {"Bucket": "src", "Key": "b.txt", "Size": "20"},
    ]


def test_jsonl_output_type_and_compact_results(tmp_path: Path) -> None:
    (tmp_path / "in.json").write_text(json.dumps([{"v": 1}, {"v": 2}, {"v": 3}]))
    definition = {
        "StartAt": "Map",
        "States": {
            "Map": {
                "Type": "Map",
                "End": True,
                "Label": "numbers",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON", "MaxItemsPath": "$.max"},
                    "Parameters": {"Bucket": "b", "Key": "in.json"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Wait",
                    "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}},
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "b", "Prefix": "out/"},
                    "WriterConfig": {"OutputType": "JSONL", "Transformation": "COMPACT"},
                },
            }
        },
    }
    result = run_sync(definition, {"max": 2}, services=Services.create(buckets={"b": tmp_path}))
    assert result.status == "SUCCEEDED", result.cause
    assert ":mapRun:StateMachine/numbers:" in result.output["MapRunArn"]
    manifest = json.loads((tmp_path / result.output["ResultWriterDetails"]["Key"]).read_text())
    (entry,) = manifest["ResultFiles"]["SUCCEEDED"]
    assert entry["Key"].endswith("/SUCCEEDED_0.jsonl")
    lines = (tmp_path / entry["Key"]).read_text().splitlines()
    assert sorted(json.loads(line)["v"] for line in lines) == [1, 2]
    assert result.stop_time - result.start_time == pytest.approx(60)  # children in parallel


def test_a_failure_too_many_stops_the_running_children() -> None:
    from runtime import VirtualClock

    processor = {
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "SecondsPath": "$.Items[0].wait", "Next": "Check"},
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.Items[0].bad", "BooleanEquals": True, "Next": "Boom"}],
                "Default": "Done",
            },
            "Boom": {"Type": "Fail", "Error": "Bad"},
            "Done": {"Type": "Succeed"},
        },
    }
    definition = {
        "StartAt": "Map",
        "States": {
            "Map": {
                "Type": "Map",
                "End": True,
                "ToleratedFailureCount": 1,
                "MaxConcurrency": 3,
                "ItemBatcher": {"MaxItemsPerBatch": 1},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    **processor,
                },
            }
        },
    }
    items = [{"wait": 10 * (i + 1), "bad": i in (1, 2)} for i in range(8)]
    clock = VirtualClock(start=0.0)
    result = run_sync(definition, items, clock=clock)
    assert result.error == "States.ExceedToleratedFailureThreshold"
    assert clock.now() == 30.0  # the second failure, not the last child (80 s)


@pytest.mark.parametrize("output_type", ["JSON", "JSONL"])
def test_result_files_split_at_their_size_whichever_way_records_come(
    monkeypatch: pytest.MonkeyPatch, output_type: str
) -> None:
    from runtime.distributed import writer
    from runtime.distributed.writer import ChildRecord, ResultSink

    monkeypatch.setattr(writer, "MAX_FILE_BYTES", 700)
    sink = ResultSink("arn:aws:states:us-east-1:1:mapRun:m/Map:run", "p", "sm", "NONE", output_type)
    records = [ChildRecord(n, f"c{n}", {"n": n}, 0.0, 1.0, "SUCCEEDED", n) for n in range(40)]
    texts = [sink.texts(record)[0] for record in records]
    sink.add(records[0])
    sink.add_texts("SUCCEEDED", texts[1:3])
    separator = b"\n" if output_type == "JSONL" else b","
    for start in range(3, 40, 9):  # a worker's chunks, joined as the file joins them
        chunk = [text.encode() for text in texts[start : start + 9]]
        sink.add_joined(separator.join(chunk), [len(text) for text in chunk])
    files: dict[str, bytes] = {}

    def put(bucket: str, key: str, handle: Any) -> int:
        handle.seek(0)
        files[key] = handle.read()
        return len(files[key])

    sink.write("b", "out", put)
    manifest = json.loads(files.pop("out/run/manifest.json"))
    keys = [entry["Key"] for entry in manifest["ResultFiles"]["SUCCEEDED"]]
    assert keys == sorted(files, key=lambda key: int(key.rsplit("_", 1)[1].split(".")[0]))
    assert len(keys) > 3 and all(len(files[key]) <= 700 for key in keys)
    read: list[Any] = []
    for key in keys:
        text = files[key].decode()
        if output_type == "JSONL":
            assert text.endswith("\n")
            read += [json.loads(line) for line in text.splitlines()]
        else:
            read += json.loads(text)
    assert read == [json.loads(text) for text in texts]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    JSON_VALUES,
    JSON_VALUES,
    st.sampled_from(["SUCCEEDED", "FAILED", "TIMED_OUT"]),
    st.none() | st.text(),
    st.none() | st.text(),
    st.text(),
    st.integers(0, 3),
)
def test_a_child_record_written_directly_is_its_record_as_json(
    data: Any, output: Any, status: str, error: Any, cause: Any, label: str, redrives: int
) -> None:
    import dataclasses

    from runtime.distributed.writer import ChildRecord, ResultSink
    from runtime.engine.events import dumps

    child = ChildRecord(3, "name", data, 1.5, 2.25, status, output, error, cause, 1, redrives)
    arn, machine = f"arn:execution:{label}", f"arn:stateMachine:{label}"
    expected = dumps(child.record(arn, machine))
    assert child.text(arn, machine, None) == expected
    assert child.text(arn, machine, dumps(data)) == expected
    sink = ResultSink("run", f"arn:execution:{label}", machine, "NONE")
    [text] = sink.texts(dataclasses.replace(child, name=f"arn-less {label}"), dumps(data))
    renamed = dataclasses.replace(child, name=f"arn-less {label}")
    assert text == dumps(renamed.record(f"arn:execution:{label}:{renamed.name}", machine))


@settings(deadline=None)
@given(st.text(min_size=1), st.integers(0, 10**9))
def test_a_child_name_is_the_uuid5_of_its_map_run_and_index(arn: str, index: int) -> None:
    import uuid

    from runtime.distributed.workers import child_name

    assert child_name(arn, index) == str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}/{index}"))
