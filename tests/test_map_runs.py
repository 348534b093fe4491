"""Map Runs: the resource DescribeMapRun shows, its events, its stored children, redrive.

The store keeps each Map Run with its child executions; a redrive re-runs only the
children that did not succeed (AWS DG: redrive-map-run) and writes ``MapRunRedriven``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio

from runtime import TaskFailure, VirtualClock, run
from runtime.adapters import Services
from runtime.adapters.local_lambda import LocalFunctions
from runtime.distributed.runs import MapRunRecord
from runtime.durable.resume import redrive
from runtime.durable.store import Store, StoreRecorder

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:work"


def machine(**fields: Any) -> dict[str, Any]:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": FUNCTION, "End": True}},
    }
    state = {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}
    return {"StartAt": "Map", "States": {"Map": state}}


class Worker:
    """A local Lambda function that fails the items marked bad while ``broken``."""

    def __init__(self) -> None:
        self.broken = True
        self.calls: list[int] = []

    def __call__(self, event: Any, context: Any) -> Any:
        self.calls.append(event["n"])
        if self.broken and event["bad"]:
            raise TaskFailure("Item.Bad", f"item {event['n']} is bad")
        return {"done": event["n"]}

    def services(self, tmp_path: Path) -> Services:
        functions = LocalFunctions()
        functions.add("work", self)
        return Services.create(functions=functions, buckets={"data": tmp_path})


def items(tmp_path: Path, count: int, bad: int) -> None:
    rows = (json.dumps({"n": n, "bad": n % (count // bad) == 0}) for n in range(count))
    (tmp_path / "items.jsonl").write_text("\n".join(rows) + "\n")


READER = {
    "Resource": "arn:aws:states:::s3:getObject",
    "ReaderConfig": {"InputType": "JSONL"},
    "Parameters": {"Bucket": "data", "Key": "items.jsonl"},
}
WRITER = {
    "Resource": "arn:aws:states:::s3:putObject",
    "Parameters": {"Bucket": "data", "Prefix": "out"},
}


def start(store: Store, worker: Worker, tmp_path: Path, **fields: Any) -> Any:
    async def main() -> Any:
        return await run(
            machine(**fields),
            {},
            services=worker.services(tmp_path),
            clock=VirtualClock(),
            name="job",
            observers=[StoreRecorder(store)],
        )

    return anyio.run(main)


def test_a_map_run_is_stored_with_its_counters_and_children(tmp_path: Path) -> None:
    items(tmp_path, 100, 3)
    worker = Worker()
    with Store.open(tmp_path / "s.db") as store:
        result = start(
            store,
            worker,
            tmp_path,
            ItemReader=READER,
            ToleratedFailurePercentage=5,
            MaxConcurrency=7,
            Label="Work",
        )
        assert result.status == "SUCCEEDED", result.cause
        [document] = store.map_runs(result.arn)
        described = MapRunRecord.from_json(document).describe()
        children = store.map_run_children(described["mapRunArn"])
    arn = described.pop("mapRunArn")
    assert arn.startswith("arn:aws:states:us-east-1:123456789012:mapRun:StateMachine/Work:")
    assert described.pop("startDate") == described.pop("stopDate") == result.start_time
    counts = {
        "pending": 0,
        "running": 0,
        "succeeded": 96,
        "failed": 4,
        "timedOut": 0,
        "aborted": 0,
        "total": 100,
        "resultsWritten": 0,
        "failuresNotRedrivable": 0,
        "pendingRedrive": 0,
    }
    assert described == {
        "executionArn": result.arn,
        "status": "SUCCEEDED",
        "maxConcurrency": 7,
        "toleratedFailurePercentage": 5.0,
        "toleratedFailureCount": 0,
        "itemCounts": counts,
        "executionCounts": counts,
        "redriveCount": 0,
    }
    assert [c["index"] for c in children] == list(range(100))
    assert [c["input"]["n"] for c in children if c["status"] == "FAILED"] == [0, 33, 66, 99]
    assert children[1]["output"] == {"done": 1}
    assert (children[0]["error"], children[0]["cause"]) == ("Item.Bad", "item 0 is bad")


def test_redrive_reruns_only_the_failed_children(tmp_path: Path) -> None:
    items(tmp_path, 100, 6)
    worker = Worker()
    with Store.open(tmp_path / "s.db") as store:
        failed = start(
            store,
            worker,
            tmp_path,
            ItemReader=READER,
            ItemSelector={"n.$": "$$.Map.Item.Value.n", "bad.$": "$$.Map.Item.Value.bad"},
            ToleratedFailurePercentage=5,
            ResultWriter=WRITER,
        )
        assert failed.error == "States.ExceedToleratedFailureThreshold"
        worker.calls.clear()
        worker.broken = False
        redriven = anyio.run(
            lambda: redrive(store, "job", services=worker.services(tmp_path), clock=VirtualClock())
        )
        [document] = store.map_runs(failed.arn)
        record = MapRunRecord.from_json(document)
    assert redriven.status == "SUCCEEDED", redriven.cause
    types = [e.type for e in redriven.history]
    assert types[types.index("ExecutionRedriven") :] == [
        "ExecutionRedriven",
        "MapRunRedriven",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    redriven_event = next(e for e in redriven.history if e.type == "MapRunRedriven")
    assert redriven_event.details == {"mapRunArn": record.arn, "redriveCount": 1}
    assert (record.status, record.redrive_count) == ("SUCCEEDED", 1)
    assert record.executions["succeeded"] == 100 and record.executions["failed"] == 0
    assert record.redrive_date is not None
    bad = [n for n in range(100) if n % 16 == 0]
    assert len(bad) == 7
    # AWS's layout (captured: see the README): the redrive writes under Redrive-1/ what
    # it ran, and its manifest lists the first run's SUCCEEDED file before its own.
    folder = f"out/{record.arn.rsplit(':', 1)[-1]}/"
    manifest_key = redriven.output["ResultWriterDetails"]["Key"]
    assert manifest_key == f"{folder}Redrive-1/manifest.json"
    manifest = json.loads((tmp_path / manifest_key).read_text())
    assert manifest["ResultFiles"]["FAILED"] == manifest["ResultFiles"]["PENDING"] == []
    first, again = manifest["ResultFiles"]["SUCCEEDED"]
    assert first["Key"] == f"{folder}SUCCEEDED_0.json"
    assert again["Key"] == f"{folder}Redrive-1/SUCCEEDED_0.json"
    before = json.loads((tmp_path / first["Key"]).read_text())
    records = json.loads((tmp_path / again["Key"]).read_text())
    assert len(before) == 93 and {r["RedriveCount"] for r in before} == {0}
    assert [json.loads(r["Input"])["n"] for r in records] == sorted(worker.calls) == bad
    assert {(r["RedriveCount"], r["Status"]) for r in records} == {(1, "SUCCEEDED")}
    # The first run's files stay as they were written.
    first_manifest = json.loads((tmp_path / folder / "manifest.json").read_text())
    assert [f["Key"] for f in first_manifest["ResultFiles"]["FAILED"]] == [f"{folder}FAILED_0.json"]
    assert first_manifest["ResultFiles"]["SUCCEEDED"] == [first]


# -- worker processes ----------------------------------------------------------------------

CPU_PROCESSOR = {
    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.bad", "BooleanEquals": True, "Next": "Broken"}],
            "Default": "Shape",
        },
        "Broken": {"Type": "Fail", "Error": "Item.Bad", "Cause": "a bad item"},
        "Shape": {
            "Type": "Pass",
            "Parameters": {
                "n.$": "$.n",
                "text.$": "States.Format('item {} of {}', $.n, $$.Execution.Name)",
            },
            "End": True,
        },
    },
}


def processes_run(
    tmp_path: Path, processes: int, bad_every: int, stored: bool = True, **fields: Any
) -> Any:
    """A Distributed Map of 1,200 items (more than one chunk) with ``processes``, recorded
    in a store (which keeps every child) or not."""
    folder = tmp_path / f"{processes}-{stored}"
    folder.mkdir()
    rows = (json.dumps({"n": n, "bad": n % bad_every == 6}) for n in range(1200))
    (folder / "items.jsonl").write_text("\n".join(rows) + "\n")
    state = {
        "Type": "Map",
        "ItemProcessor": CPU_PROCESSOR,
        "ItemReader": READER,
        "End": True,
        **fields,
    }

    async def main() -> Any:
        with Store.open(folder / "s.db") as store:
            result = await run(
                {"StartAt": "Map", "States": {"Map": state}},
                {},
                services=Services.create(buckets={"data": folder}),
                clock=VirtualClock(start=1_700_000_000),
                name="same",
                observers=[StoreRecorder(store)] if stored else [],
                processes=processes,
            )
            if stored:
                [document] = store.map_runs(result.arn)
                children = store.map_run_children(MapRunRecord.from_json(document).arn)
            else:
                document, children = json.dumps(result.map_runs), []
        files = {
            str(path.relative_to(folder)): path.read_bytes()
            for path in sorted((folder / "out").rglob("*"))
            if path.is_file()
        }
        return result, document, children, files

    return anyio.run(main)


def outcome(run_result: Any) -> Any:
    result, document, children, files = run_result
    history = [(e.id, e.previous_event_id, e.type, e.timestamp, e.details) for e in result.history]
    return (
        result.status,
        result.output,
        result.error,
        result.transitions,
        history,
        document,
        children,
        files,
    )


def batched_fields() -> dict[str, Any]:
    """A Distributed Map with ItemSelector, ItemBatcher, ResultWriter and 5% tolerated."""
    fields: dict[str, Any] = {
        "ToleratedFailurePercentage": 5,
        "ItemBatcher": {"MaxItemsPerBatch": 2},
        "ItemSelector": {"n.$": "$$.Map.Item.Value.n", "bad.$": "$$.Map.Item.Value.bad"},
        "ResultWriter": WRITER,
    }
    # ItemSelector feeds the batcher; each child gets {"Items": [...]} and fails on none.
    fields["ItemProcessor"] = {
        **CPU_PROCESSOR,
        "States": {
            **CPU_PROCESSOR["States"],
            "Check": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.Items[0].bad", "BooleanEquals": True, "Next": "Broken"}
                ],
                "Default": "Shape",
            },
            "Shape": {
                "Type": "Pass",
                "Parameters": {"n.$": "$.Items[0].n", "text.$": "States.Format('{}', $.Items)"},
                "End": True,
            },
        },
    }
    return fields


def test_two_processes_give_what_one_gives(tmp_path: Path) -> None:
    fields = batched_fields()
    one = processes_run(tmp_path, 1, 40, **fields)
    two = processes_run(tmp_path, 2, 40, **fields)
    assert one[0].status == "SUCCEEDED", one[0].cause
    assert outcome(two) == outcome(one)
    # Without a store the workers' records are all the parent keeps: the same files.
    unstored = processes_run(tmp_path, 2, 40, stored=False, **fields)
    assert outcome(unstored)[:5] + outcome(unstored)[7:] == outcome(one)[:5] + outcome(one)[7:]
    assert json.loads(outcome(unstored)[5]) == [MapRunRecord.from_json(one[1]).describe()]
    assert len(one[3]) == 3  # manifest, SUCCEEDED_0.json, FAILED_0.json


def test_chunks_the_parent_runs_while_workers_are_busy_keep_their_order(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # Workers that are never done before the parent asks: the parent runs the third
    # chunk itself (two are queued on the one worker), and the results stay in order.
    from runtime.distributed import maprun
    from runtime.distributed.workers import WorkerPool

    submit, real = WorkerPool.submit, maprun.run_children
    here = [0]

    class Slow:
        def __init__(self, future: Any) -> None:
            self.future = future

        def done(self) -> bool:
            return False

        def result(self) -> Any:
            return self.future.result()

        def cancel(self) -> bool:
            return bool(self.future.cancel())

    async def counted(*args: Any) -> None:
        here[0] += 1
        await real(*args)

    workers_up_first(monkeypatch)
    monkeypatch.setattr(maprun, "QUEUED_PER_WORKER", 2)
    monkeypatch.setattr(WorkerPool, "submit", lambda pool, *a: Slow(submit(pool, *a)))
    monkeypatch.setattr(maprun, "run_children", counted)
    fields = batched_fields()
    del fields["ItemBatcher"]  # 1,200 children: three chunks
    fields["ItemProcessor"] = CPU_PROCESSOR
    two = processes_run(tmp_path, 2, 40, **fields)
    assert here[0] == 1
    one = processes_run(tmp_path, 1, 40, **fields)
    assert one[0].status == "SUCCEEDED", one[0].cause
    assert outcome(two) == outcome(one)


def test_two_processes_stop_where_one_stops(tmp_path: Path) -> None:
    one = processes_run(tmp_path, 1, 10, ToleratedFailureCount=20)
    two = processes_run(tmp_path, 2, 10, ToleratedFailureCount=20)
    assert one[0].error == "States.ExceedToleratedFailureThreshold"
    assert outcome(two) == outcome(one)
    counts = MapRunRecord.from_json(one[1]).items
    assert (counts["failed"], counts["succeeded"]) == (21, 186)
    # Without a tolerance, the first failed child fails the Map with its own error.
    (tmp_path / "first").mkdir()
    one = processes_run(tmp_path / "first", 1, 600, stored=False, ResultWriter=WRITER)
    two = processes_run(tmp_path / "first", 2, 600, stored=False, ResultWriter=WRITER)
    assert (one[0].error, one[0].cause) == ("Item.Bad", "a bad item")
    assert outcome(two) == outcome(one)
    # The items after the failure are exported as never started, the same from both.
    [pending] = [name for name in one[3] if name.endswith("PENDING_0.json")]
    assert len(json.loads(one[3][pending])) == 1200 - 7


def test_children_run_here_in_chunks_give_what_children_run_alone_give(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # One process runs the children of a processor that never waits a chunk at a time,
    # with the workers' code; one at a time (as when the processor may wait) is the
    # reference, with and without a store, exported records or a tolerance stop.
    from runtime.distributed.maprun import MapRun

    cases: list[tuple[int, bool, dict[str, Any]]] = [
        (40, True, batched_fields()),
        (40, False, batched_fields()),
        (10, True, {"ToleratedFailureCount": 20, "ResultWriter": WRITER}),
        (10, False, {"ToleratedFailureCount": 20}),
        (600, False, {"ResultWriter": {**WRITER, "WriterConfig": {"OutputType": "JSONL"}}}),
    ]
    for number, (bad_every, stored, fields) in enumerate(cases):
        (tmp_path / f"chunks{number}").mkdir()
        (tmp_path / f"alone{number}").mkdir()
        chunked = processes_run(tmp_path / f"chunks{number}", 1, bad_every, stored, **fields)
        with monkeypatch.context() as patch:
            patch.setattr(MapRun, "_environment", lambda self: None)
            alone = processes_run(tmp_path / f"alone{number}", 1, bad_every, stored, **fields)
        assert outcome(chunked) == outcome(alone), number
        assert outcome(alone)[0] in ("SUCCEEDED", "FAILED")


def test_a_source_failing_in_a_chunk_fails_the_run_after_the_children_read_before_it(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # Line 701 is not JSON: the 700 children before it run and count, then the run fails,
    # one at a time, a chunk at a time here, and with a worker process.
    from runtime.distributed.maprun import MapRun

    rows = [json.dumps({"n": n, "bad": False}) for n in range(1200)]
    rows[700] = "{not json"
    state = {"Type": "Map", "ItemProcessor": CPU_PROCESSOR, "ItemReader": READER, "End": True}

    def failing(folder: Path, processes: int) -> Any:
        folder.mkdir()
        (folder / "items.jsonl").write_text("\n".join(rows) + "\n")

        async def main() -> Any:
            with Store.open(folder / "s.db") as store:
                result = await run(
                    {"StartAt": "Map", "States": {"Map": state}},
                    {},
                    services=Services.create(buckets={"data": folder}),
                    clock=VirtualClock(start=1_700_000_000),
                    name="same",
                    observers=[StoreRecorder(store)],
                    processes=processes,
                )
                [document] = store.map_runs(result.arn)
                arn = MapRunRecord.from_json(document).arn
                return outcome((result, document, store.map_run_children(arn), {}))

        return anyio.run(main)

    chunked = failing(tmp_path / "chunked", 1)
    two = failing(tmp_path / "two", 2)
    with monkeypatch.context() as patch:
        patch.setattr(MapRun, "_environment", lambda self: None)
        alone = failing(tmp_path / "alone", 1)
    assert alone[0] == "FAILED" and alone[2] == "States.ItemReaderFailed"
    assert len(alone[6]) == 700
    assert chunked == alone
    assert two == alone


def test_stopping_the_execution_in_a_chunk_run_here_aborts_the_running_child(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # A child running in this process is cancelled at the engine's next checkpoint (every
    # 256 transitions): children that ended count, the running one is aborted.
    from runtime.distributed import maprun

    real = maprun.run_children
    running: list[Any] = []
    chunks = [0]

    async def stopping(env: Any, sink: Any, now: float, chunk: Any, *rest: Any) -> None:
        chunks[0] += 1
        if chunks[0] == 2:
            running[0].abort("Stop.It", "enough")
        await real(env, sink, now, chunk, *rest)

    def watch(event: Any, frame: Any) -> None:
        return None

    watch.attach = running.append  # type: ignore[attr-defined]
    monkeypatch.setattr(maprun, "run_children", stopping)
    rows = (json.dumps({"n": n, "bad": False}) for n in range(2000))
    (tmp_path / "items.jsonl").write_text("\n".join(rows) + "\n")
    state = {"Type": "Map", "ItemProcessor": CPU_PROCESSOR, "ItemReader": READER, "End": True}

    async def main() -> Any:
        with Store.open(tmp_path / "s.db") as store:
            result = await run(
                {"StartAt": "Map", "States": {"Map": state}},
                {},
                services=Services.create(buckets={"data": tmp_path}),
                clock=VirtualClock(),
                observers=[StoreRecorder(store), watch],
            )
            [document] = store.map_runs(result.arn)
        return result, MapRunRecord.from_json(document)

    result, record = anyio.run(main)
    assert (result.status, result.error) == ("ABORTED", "Stop.It")
    assert [e.type for e in result.history][-3:] == [
        "MapRunAborted",
        "MapStateAborted",
        "ExecutionAborted",
    ]
    # Two transitions a child (Check, Shape): the 256th is the first of child 128.
    assert record.executions["succeeded"] == 512 + 127
    assert record.executions["aborted"] == 1
    assert record.items["succeeded"] == 512 + 127 and record.items["aborted"] == 1


# -- the command line ------------------------------------------------------------------------


def test_asl_executions_lists_the_children_of_a_map_run(tmp_path: Path, capsys: Any) -> None:
    from runtime.cli import main

    items(tmp_path, 20, 4)
    definition = {
        "StartAt": "Map",
        "States": {
            "Map": {
                "Type": "Map",
                "ItemReader": READER,
                "ToleratedFailurePercentage": 50,
                "ItemProcessor": CPU_PROCESSOR,
                "End": True,
            }
        },
    }
    (tmp_path / "m.json").write_text(json.dumps(definition))
    store = str(tmp_path / "s.db")
    bucket = f"data={tmp_path}"
    argv = ["exec", str(tmp_path / "m.json"), "--quiet", "--offline", "--store", store]
    assert main([*argv, "--bucket", bucket, "--processes", "1", "--name", "e"]) == 0
    capsys.readouterr()
    with Store.open(store) as opened:
        [document] = opened.map_runs(opened.get_execution("e").arn)
    arn = MapRunRecord.from_json(document).arn
    assert main(["executions", "--store", store, "--map-run", arn, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["executions"]
    assert [c["status"] for c in listed].count("FAILED") == 4
    assert {c["mapRunArn"] for c in listed} == {arn} and len(listed) == 20
    assert main(["executions", "--store", store, "--map-run", arn, "--status", "FAILED"]) == 0
    assert capsys.readouterr().out.count("FAILED") == 4
    assert main(["executions", "--store", store, "--map-run", arn + "x"]) == 1
    assert "no Map Run" in capsys.readouterr().err
    assert main([*argv, "--bucket", bucket, "--processes", "0"]) == 2
    assert "--processes" in capsys.readouterr().err


# -- the report ----------------------------------------------------------------------------


def test_the_report_shows_each_map_run_with_its_counters(tmp_path: Path) -> None:
    from runtime.cli import main
    from runtime.report import report_html

    items(tmp_path, 100, 3)
    worker = Worker()
    with Store.open(tmp_path / "s.db") as store:
        result = start(store, worker, tmp_path, ItemReader=READER, ToleratedFailureCount=9)
    assert result.map_runs[0]["itemCounts"]["failed"] == 4
    html = report_html(result, None)
    panel = html[html.index('<section id="map-runs"') :]
    arn = result.map_runs[0]["mapRunArn"]
    assert arn in panel and "<td>failed</td><td>4</td><td>4</td>" in panel
    assert "<td>succeeded</td><td>96</td><td>96</td>" in panel
    (tmp_path / "h.json").write_text(json.dumps({"events": result.history_json()}))
    out = tmp_path / "r.html"
    assert main(["report", str(tmp_path / "h.json"), "--html", str(out)]) == 0
    assert "Counters are not in the history" in out.read_text()
    store_flag = ["--store", str(tmp_path / "s.db")]
    assert main(["report", str(tmp_path / "h.json"), "--html", str(out), *store_flag]) == 0
    assert "<td>succeeded</td><td>96</td><td>96</td>" in out.read_text()


# -- Express children ----------------------------------------------------------------------


def test_express_children_time_out_after_five_minutes() -> None:
    from runtime import run_sync

    def waiting(kind: str) -> dict[str, Any]:
        processor = {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": kind},
            "StartAt": "Wait",
            "States": {"Wait": {"Type": "Wait", "SecondsPath": "$.s", "End": True}},
        }
        state = {
            "Type": "Map",
            "ItemProcessor": processor,
            "ToleratedFailureCount": 5,
            "ItemSelector": {"s.$": "$$.Map.Item.Value"},
            "ResultWriter": {"WriterConfig": {"Transformation": "NONE"}},
            "End": True,
        }
        return {"StartAt": "Map", "States": {"Map": state}}

    seconds = [10, 299, 301, 400, 5]
    express = run_sync(waiting("EXPRESS"), seconds)
    assert express.status == "SUCCEEDED", express.cause
    assert [json.loads(r["Input"])["s"] for r in express.output] == [10, 299, 5]
    counts = express.map_runs[0]["executionCounts"]
    assert (counts["timedOut"], counts["succeeded"], counts["failed"]) == (2, 3, 0)
    standard = run_sync(waiting("STANDARD"), seconds)
    assert [r["Status"] for r in standard.output] == ["SUCCEEDED"] * 5
    untolerated = waiting("EXPRESS")
    del untolerated["States"]["Map"]["ToleratedFailureCount"]
    failed = run_sync(untolerated, [1, 301])
    assert (failed.status, failed.error) == ("FAILED", "States.Timeout")


def test_an_update_of_the_tolerance_applies_to_the_running_map_run(tmp_path: Path) -> None:
    from runtime.distributed.runs import LIVE

    items(tmp_path, 100, 10)

    class Updating(Worker):
        def __call__(self, event: Any, context: Any) -> Any:
            if event["n"] == 0:  # as UpdateMapRun does in asl serve --api
                [record] = LIVE.values()
                record.tolerated_failure_count = 20
            return super().__call__(event, context)

    worker = Updating()
    with Store.open(tmp_path / "s.db") as store:
        result = start(store, worker, tmp_path, ItemReader=READER, ToleratedFailureCount=0)
    assert result.status == "SUCCEEDED", result.cause
    assert result.map_runs[0]["toleratedFailureCount"] == 20
    assert result.map_runs[0]["itemCounts"]["failed"] == 10
    assert not LIVE


def test_stopping_the_execution_aborts_the_map_run(tmp_path: Path) -> None:
    import asyncio

    items(tmp_path, 50, 5)
    running: list[Any] = []

    class Stopper(Worker):
        """Stops the execution (as StopExecution does) from its tenth child."""

        def __call__(self, event: Any, context: Any) -> Any:
            if event["n"] == 9:
                loop, execution = running
                loop.call_soon_threadsafe(execution.abort, "Stop.It", "enough")
            return {"done": event["n"]}

    def watch(event: Any, frame: Any) -> None:
        return None

    def attach(execution: Any) -> None:
        running[:] = [asyncio.get_running_loop(), execution]

    watch.attach = attach  # type: ignore[attr-defined]
    worker = Stopper()

    async def main() -> Any:
        with Store.open(tmp_path / "s.db") as store:
            result = await run(
                machine(ItemReader=READER, MaxConcurrency=1),
                {},
                services=worker.services(tmp_path),
                clock=VirtualClock(),
                observers=[StoreRecorder(store), watch],
            )
            [document] = store.map_runs(result.arn)
        return result, MapRunRecord.from_json(document)

    result, record = anyio.run(main)
    assert (result.status, result.error) == ("ABORTED", "Stop.It")
    types = [e.type for e in result.history]
    assert types[-3:] == ["MapRunAborted", "MapStateAborted", "ExecutionAborted"]
    assert record.status == "ABORTED" and record.stop is not None
    assert record.executions["succeeded"] == 9 and record.executions["aborted"] == 1
    assert result.map_runs[0]["status"] == "ABORTED"


# -- worker processes in redrive and serve ----------------------------------------------------


def workers_up_first(monkeypatch: Any) -> None:
    """Workers that are up before the first chunk (else, on a busy machine, the parent may
    run every chunk of a small run itself while they start)."""
    from runtime.distributed.workers import WorkerPool

    start = WorkerPool.start

    def started(pool: WorkerPool) -> list[Any]:
        futures = start(pool)
        for future in futures:
            future.result()
        return futures

    monkeypatch.setattr(WorkerPool, "start", started)


class Submissions:
    """Counts the chunks sent to worker processes (the parent's side of the pool), the
    workers up before the first chunk."""

    def __init__(self, monkeypatch: Any) -> None:
        from runtime.distributed.workers import WorkerPool

        workers_up_first(monkeypatch)
        self.count = 0
        submit = WorkerPool.submit

        def counted(pool: Any, *args: Any) -> Any:
            self.count += 1
            return submit(pool, *args)

        monkeypatch.setattr(WorkerPool, "submit", counted)


def redriven_run(tmp_path: Path, processes: int, start: float) -> Any:
    """A Distributed Map of 1,200 items that fails past its tolerance, then, its bad items
    mended, is redriven with ``processes``."""
    folder = tmp_path / f"redrive-{processes}"
    folder.mkdir()
    write = (folder / "items.jsonl").write_text
    write("".join(json.dumps({"n": n, "bad": n % 40 == 6}) + "\n" for n in range(1200)))
    state = {
        "Type": "Map",
        "ItemProcessor": CPU_PROCESSOR,
        "ItemReader": READER,
        "ToleratedFailureCount": 20,
        "ResultWriter": WRITER,
        "End": True,
    }
    services = Services.create(buckets={"data": folder})

    async def main() -> Any:
        with Store.open(folder / "s.db") as store:
            failed = await run(
                {"StartAt": "Map", "States": {"Map": state}},
                {},
                services=services,
                clock=VirtualClock(start=start),
                name="same",
                observers=[StoreRecorder(store)],
                processes=1,
            )
            assert failed.error == "States.ExceedToleratedFailureThreshold"
            write("".join(json.dumps({"n": n, "bad": False}) + "\n" for n in range(1200)))
            result = await redrive(
                store,
                "same",
                services=services,
                clock=VirtualClock(start=start + 60),
                processes=processes,
            )
            [document] = store.map_runs(result.arn)
            children = store.map_run_children(MapRunRecord.from_json(document).arn)
        files = {
            str(path.relative_to(folder)): path.read_bytes()
            for path in sorted((folder / "out").rglob("*"))
            if path.is_file()
        }
        return result, document, children, files

    return anyio.run(main)


def test_a_redrive_uses_worker_processes_and_gives_what_one_gives(
    tmp_path: Path, monkeypatch: Any
) -> None:
    import time

    start = float(int(time.time()))  # a redrive must come within 14 days of the stop
    one = redriven_run(tmp_path, 1, start)
    submissions = Submissions(monkeypatch)
    two = redriven_run(tmp_path, 2, start)
    assert submissions.count >= 2  # 1,200 children in chunks of 512
    assert one[0].status == "SUCCEEDED", one[0].cause
    assert outcome(two) == outcome(one)
    record = MapRunRecord.from_json(one[1])
    assert (record.redrive_count, record.executions["succeeded"]) == (1, 1200)


def test_asl_serve_runs_map_run_children_in_worker_processes(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    from runtime.cli import main

    rows = (json.dumps({"n": n, "bad": n % 100 == 6}) + "\n" for n in range(1200))
    (tmp_path / "items.jsonl").write_text("".join(rows))
    state = {
        "Type": "Map",
        "ItemProcessor": CPU_PROCESSOR,
        "ItemReader": READER,
        "ToleratedFailurePercentage": 5,
        "End": True,
    }
    (tmp_path / "m.json").write_text(json.dumps({"StartAt": "Map", "States": {"Map": state}}))
    outputs = {}
    for processes in ("1", "2"):
        store = str(tmp_path / f"s{processes}.db")
        start = ["start", str(tmp_path / "m.json"), "--name", "e", "--store", store, "--offline"]
        assert main([*start, "--clock", "virtual", "--bucket", f"data={tmp_path}"]) == 0
        submissions = Submissions(monkeypatch)
        assert main(["serve", "--store", store, "--once", "--processes", processes]) == 0
        assert (submissions.count > 0) == (processes == "2")
        with Store.open(store) as opened:
            info = opened.get_execution("e")
            [document] = opened.map_runs(info.arn)
            children = opened.map_run_children(MapRunRecord.from_json(document).arn)
        counts = MapRunRecord.from_json(document).executions
        outputs[processes] = (info.status, info.output, counts, [c["output"] for c in children])
    capsys.readouterr()
    assert outputs["1"] == outputs["2"]
    assert outputs["1"][0] == "SUCCEEDED" and outputs["1"][2]["failed"] == 12


def test_the_parent_runs_chunks_alone_while_workers_start(tmp_path: Path, monkeypatch: Any) -> None:
    # Workers that never come up: the parent runs every chunk itself, sends none, and the
    # run is the one process's.
    from concurrent.futures import Future

    from runtime.distributed import maprun
    from runtime.distributed.workers import WorkerPool

    real = maprun.run_children
    here, sent = [0], [0]

    async def counted(*args: Any) -> None:
        here[0] += 1
        await real(*args)

    def never(pool: WorkerPool, *args: Any) -> Any:
        sent[0] += 1
        raise AssertionError("a chunk was sent before the workers were up")

    monkeypatch.setattr(WorkerPool, "start", lambda pool: [Future()])
    monkeypatch.setattr(WorkerPool, "submit", never)
    monkeypatch.setattr(maprun, "run_children", counted)
    fields = batched_fields()
    del fields["ItemBatcher"]  # 1,200 children: three chunks
    fields["ItemProcessor"] = CPU_PROCESSOR
    two = processes_run(tmp_path, 2, 40, **fields)
    assert (here[0], sent[0]) == (3, 0)
    one = processes_run(tmp_path, 1, 40, **fields)
    assert outcome(two) == outcome(one)


def test_large_messages_go_through_files_that_are_then_removed(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # A chunk's items (about 20 KiB here) go to the worker, and its exported records
    # (about 100 KiB) come back, through files of the run's spill folder, each read once
    # and removed; the folder goes with the run.
    from runtime.distributed import workers

    folders: list[str] = []
    through: list[str] = []
    mkdtemp, opened, message = workers.tempfile.mkdtemp, workers._opened, workers._message

    def made(**kwargs: Any) -> str:
        folders.append(mkdtemp(dir=tmp_path, **kwargs))
        return folders[-1]

    def sent(data: bytes, folder: str, name: str) -> bytes:
        framed = message(data, folder, name)
        through.append(f"sent {framed[:1].decode()}")
        return framed

    def taken(framed: bytes) -> Any:
        through.append(f"taken {framed[:1].decode()}")
        if framed[:1] == b"F":
            assert Path(framed[1:].decode()).parent == Path(folders[0])
        return opened(framed)

    workers_up_first(monkeypatch)
    monkeypatch.setattr(workers.tempfile, "mkdtemp", made)
    monkeypatch.setattr(workers, "_message", sent)
    monkeypatch.setattr(workers, "_opened", taken)
    fields = batched_fields()
    del fields["ItemBatcher"]
    fields["ItemProcessor"] = CPU_PROCESSOR
    two = processes_run(tmp_path, 2, 40, stored=False, **fields)
    one = processes_run(tmp_path, 1, 40, stored=False, **fields)
    assert outcome(two) == outcome(one)
    assert "sent F" in through and "taken F" in through  # both ways at least once
    assert len(folders) == 1 and not Path(folders[0]).exists()


def test_a_worker_killed_mid_run_fails_the_run_saying_so(tmp_path: Path, monkeypatch: Any) -> None:
    # The out-of-memory killer takes the worker: the run fails with one line, no traceback.
    import os
    import signal

    from runtime.distributed.workers import WorkerPool

    start = WorkerPool.start

    def killed(pool: WorkerPool) -> list[Any]:
        futures = start(pool)
        for future in futures:
            future.result()
        for worker in pool._workers:
            os.kill(worker.process.pid, signal.SIGKILL)
        return futures

    monkeypatch.setattr(WorkerPool, "start", killed)
    fields = batched_fields()
    del fields["ItemBatcher"]
    fields["ItemProcessor"] = CPU_PROCESSOR
    result = processes_run(tmp_path, 2, 40, stored=False, **fields)[0]
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert result.cause.endswith(
        "A worker process of the Map Run ended unexpectedly (killed by SIGKILL)"
    )


def test_a_chunk_result_that_cannot_be_read_back_fails_the_run_saying_so(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # A result's file gone (a temporary-directory cleaner, say): that chunk fails, and so
    # the run, in one line; the parent does not wait for an answer that was taken.
    from runtime.distributed import workers

    opened = workers._opened

    def lost(framed: bytes) -> Any:
        if framed[:1] == b"F":
            raise FileNotFoundError(2, "No such file or directory", framed[1:].decode())
        return opened(framed)

    workers_up_first(monkeypatch)
    monkeypatch.setattr(workers, "_opened", lost)
    fields = batched_fields()
    del fields["ItemBatcher"]
    fields["ItemProcessor"] = CPU_PROCESSOR
    result = processes_run(tmp_path, 2, 40, stored=False, **fields)[0]
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "A worker process of the Map Run failed: [Errno 2] No such file" in result.cause
