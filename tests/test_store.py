"""The execution store: round trip, migrations, durability under SIGKILL, queries."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from runtime import run_sync
from runtime.adapters.base import AdapterRegistry
from runtime.api import load_machine
from runtime.durable.store import (
    AmbiguousExecution,
    ExecutionAlreadyExists,
    ExecutionInfo,
    ExecutionNotFound,
    SchemaTooNew,
    Store,
    StoreError,
    StoreRecorder,
    default_store_path,
    resolve_store_path,
    schema,
)
from runtime.durable.store.schema import LATEST_VERSION, current_version, migrate, split_statements
from runtime.engine.clock import VirtualClock
from runtime.engine.events import HistoryEvent
from runtime.engine.execution import Execution, ExecutionOptions
from runtime.engine.interpreter import run_execution

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "arn:aws:states:us-east-1:123456789012"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": 1}, "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "why"}}}


def info(name: str, machine: str = "M", definition: Any = None) -> ExecutionInfo:
    return ExecutionInfo(
        arn=f"{PREFIX}:execution:{machine}:{name}",
        name=name,
        state_machine_arn=f"{PREFIX}:stateMachine:{machine}",
        state_machine_name=machine,
        definition=definition if definition is not None else PASS,
    )


def recorded_run(store: Store, definition: Any, name: str, machine: str = "M") -> Any:
    recorder = StoreRecorder(store, info(name, machine, definition))
    return run_sync(
        definition, {"in": name}, name=name, state_machine_name=machine, observers=[recorder]
    )


def exported(result: Any) -> Any:
    return json.loads(json.dumps(result.history_json()))


@pytest.fixture
def store(store_location: str) -> Any:
    with Store.open(store_location) as opened:
        yield opened


# -- round trip ------------------------------------------------------------------------


def test_events_round_trip_in_aws_shape(store: Store) -> None:
    store.begin_execution(info("e1"), {"a": [1, "é"]}, 100.0)
    events = [
        HistoryEvent(1, 0, "ExecutionStarted", 100.0, {"input": {"a": 1}, "roleArn": "r"}),
        HistoryEvent(2, 1, "PassStateEntered", 100.5, {"name": "P", "input": {"a": 1}}),
        HistoryEvent(3, 2, "PassStateExited", 100.5, {"name": "P", "output": {"b": 2}}),
        HistoryEvent(4, 3, "ExecutionSucceeded", 101.25, {"output": {"b": 2}}),
    ]
    for event in events:
        store.record(info("e1").arn, event)
    assert store.history(info("e1").arn) == [event.to_aws() for event in events]
    record = store.get_execution("e1")
    assert (record.status, record.output, record.input) == ("SUCCEEDED", {"b": 2}, {"a": [1, "é"]})
    assert (record.start_time, record.stop_time, record.duration) == (100.0, 101.25, 1.25)
    assert record.definition == PASS


def test_a_recorded_run_matches_its_result(store: Store) -> None:
    result = recorded_run(store, FAIL, "f1")
    assert store.history(result.arn) == exported(result)
    record = store.get_execution(result.arn)
    assert (record.status, record.error, record.cause) == ("FAILED", "Bad", "why")
    assert (record.start_time, record.stop_time) == (result.start_time, result.stop_time)
    assert record.output_json is None


def test_reverse_history(store: Store) -> None:
    result = recorded_run(store, PASS, "r1")
    ids = [event["id"] for event in store.history(result.arn, reverse=True)]
    assert ids == [4, 3, 2, 1]


def test_each_event_is_committed_as_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    writer, reader = Store.open(path), sqlite3.connect(path)
    seen: list[tuple[int, int]] = []

    def spy(event: HistoryEvent, frame: Any) -> None:
        count = reader.execute("SELECT count(*) FROM events").fetchone()[0]
        seen.append((event.id, count))

    machine = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": True}}}
    recorder = StoreRecorder(writer, info("c1", definition=machine))
    run_sync(machine, name="c1", state_machine_name="M", observers=[recorder, spy])
    assert seen and all(event_id == count for event_id, count in seen)
    writer.close()
    reader.close()


def test_attach_learns_the_identity_before_the_first_event(store: Store) -> None:
    # A seeded execution draws its name from its random generator: only the execution
    # itself knows it, so the recorder must be told by the execution, not guess it.
    machine = load_machine(PASS)
    exe = Execution(machine, {"x": 1}, VirtualClock(), AdapterRegistry(), ExecutionOptions(seed=7))
    recorder = StoreRecorder(store)
    exe.observers = (recorder,)
    recorder.attach(exe)
    assert store.get_execution(exe.arn).status == "RUNNING"
    anyio.run(run_execution, exe)
    record = store.get_execution(exe.name)
    assert (record.arn, record.status, record.output) == (exe.arn, "SUCCEEDED", {"ok": 1})
    assert record.start_time == exe.start_time
    assert len(store.history(exe.arn)) == len(exe.history)


def test_a_reused_name_is_refused_before_the_run(store: Store) -> None:
    recorded_run(store, PASS, "dup")
    options = ExecutionOptions(name="dup", state_machine_name="M")
    exe = Execution(load_machine(PASS), {}, VirtualClock(), AdapterRegistry(), options)
    with pytest.raises(ExecutionAlreadyExists, match="Execution Already Exists: 'arn:"):
        StoreRecorder(store).attach(exe)
    assert len(store.history(info("dup").arn)) == 4


def test_a_recorder_without_identity_refuses_events(store: Store) -> None:
    with pytest.raises(StoreError, match="identity"):
        StoreRecorder(store)(HistoryEvent(1, 0, "ExecutionStarted", 0.0, {}), None)


def test_finish_execution_without_an_event(store: Store) -> None:
    store.begin_execution(info("s1"), {}, 10.0)
    store.finish_execution(info("s1").arn, "ABORTED", 12.0, error="Stop", cause="by hand")
    record = store.get_execution("s1")
    assert (record.status, record.stop_time, record.error, record.cause) == (
        "ABORTED",
        12.0,
        "Stop",
        "by hand",
    )


# -- schema and migrations -------------------------------------------------------------


def tables(conn: sqlite3.Connection, kind: str = "table") -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))
    return {row[0] for row in rows}


def test_migrates_an_empty_file_from_version_0(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    path.touch()
    Store.open(path).close()
    conn = sqlite3.connect(path)
    assert current_version(conn) == LATEST_VERSION == 12
    tables_now = tables(conn)
    assert {"executions", "events", "schema_version", "token_secret", "map_runs"} <= tables_now
    assert {"lease_fences", "task_answers"} <= tables_now
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrates_a_version_1_store_forward_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=1) == 1
    conn.execute(
        "INSERT INTO executions (arn, name, state_machine_name, state_machine_arn, "
        "definition, input, status, start_time) VALUES ('arn:x', 'old', 'M', 'arn:m', "
        "'{}', '{}', 'SUCCEEDED', 5.0)"
    )
    assert "executions_by_start" not in tables(conn, "index")
    conn.close()
    with Store.open(path) as store:
        assert store.get_execution("old").status == "SUCCEEDED"
    conn = sqlite3.connect(path)
    assert current_version(conn) == LATEST_VERSION
    assert "executions_by_start" in tables(conn, "index")


def test_a_failing_migration_leaves_the_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    migrate(conn)
    broken = "CREATE TABLE later_feature (arn TEXT); SELECT * FROM no_such_table;"
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, broken))
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        migrate(conn, target=LATEST_VERSION + 1)
    assert current_version(conn) == LATEST_VERSION
    assert "later_feature" not in tables(conn)


def test_a_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNew, match="schema version 99; this asl-runtime reads up to"):
        Store.open(path)


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite at all, not even close" * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        Store.open(path)


def test_open_without_create_needs_the_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        Store.open(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_split_statements_respects_strings_and_comments() -> None:
    script = "-- a; comment\nCREATE TABLE t (x TEXT DEFAULT 'a;b');\nINSERT INTO t VALUES (1);\n"
    assert list(split_statements(script)) == [
        "-- a; comment\nCREATE TABLE t (x TEXT DEFAULT 'a;b');",
        "INSERT INTO t VALUES (1);",
    ]


# -- durability ------------------------------------------------------------------------

CHILD = """
import sys
from runtime import run_sync
from runtime.durable.store import ExecutionInfo, Store, StoreRecorder
machine = {"StartAt": "Loop", "States": {
    "Loop": {"Type": "Pass", "Next": "Nap"},
    "Nap": {"Type": "Wait", "Seconds": 1, "Next": "Again"},
    "Again": {"Type": "Choice", "Default": "Loop",
              "Choices": [{"Variable": "$.stop", "IsPresent": True, "Next": "Done"}]},
    "Done": {"Type": "Succeed"}}}
prefix = "arn:aws:states:us-east-1:123456789012"
info = ExecutionInfo(prefix + ":execution:M:crash", "crash", prefix + ":stateMachine:M", "M",
                     machine)
def report(event, frame):
    sys.stdout.write(f"{event.id}\\n")
    sys.stdout.flush()
store = Store.open(sys.argv[1])
run_sync(machine, {}, name="crash", state_machine_name="M",
         observers=[StoreRecorder(store, info), report])
"""


@pytest.mark.parametrize("kill_after", [40, 900])
def test_sigkill_mid_run_loses_no_reported_event(tmp_path: Path, kill_after: int) -> None:
    path = tmp_path / "crash.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, env=env, text=True
    )
    assert child.stdout is not None
    try:
        reported = [int(child.stdout.readline()) for _ in range(kill_after)]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with Store.open(path) as store:
        ids = [event["id"] for event in store.history(f"{PREFIX}:execution:M:crash")]
        assert store.get_execution("crash").status == "RUNNING"
    assert ids[: len(reported)] == reported
    assert ids == list(range(1, len(ids) + 1))


# -- queries ---------------------------------------------------------------------------


def seed(store: Store) -> None:
    rows = [("a1", "Alpha", 100.0, "SUCCEEDED"), ("a2", "Alpha", 200.0, "FAILED")]
    rows += [("b1", "Beta", 150.0, "SUCCEEDED"), ("b2", "Beta", 300.0, "RUNNING")]
    for name, machine, start, status in rows:
        store.begin_execution(info(name, machine), {}, start)
        if status != "RUNNING":
            store.finish_execution(info(name, machine).arn, status, start + 1)


def names(rows: Any) -> list[str]:
    return [row.name for row in rows]


def test_list_is_newest_first_and_filters(store: Store) -> None:
    seed(store)
    assert names(store.list_executions()) == ["b2", "a2", "b1", "a1"]
    assert names(store.list_executions(state_machine="Alpha")) == ["a2", "a1"]
    assert names(store.list_executions(state_machine=f"{PREFIX}:stateMachine:Beta")) == [
        "b2",
        "b1",
    ]
    assert names(store.list_executions(status="SUCCEEDED")) == ["b1", "a1"]
    assert names(store.list_executions(since=150.0, until=300.0)) == ["a2", "b1"]
    assert names(store.list_executions(state_machine="Beta", status="FAILED")) == []
    assert names(store.list_executions(limit=1)) == ["b2"]
    assert names(store.list_executions(limit=None)) == ["b2", "a2", "b1", "a1"]


def test_get_execution_by_arn_name_or_unique_prefix(store: Store) -> None:
    seed(store)
    assert store.get_execution(info("a1", "Alpha").arn).name == "a1"
    assert store.get_execution("b2").name == "b2"
    with pytest.raises(AmbiguousExecution):
        store.get_execution(f"{PREFIX}:execution:Beta:b")
    store.begin_execution(info("zeta-1", "Alpha"), {}, 1.0)
    assert store.get_execution("zet").name == "zeta-1"
    assert store.get_execution(f"{PREFIX}:execution:Alpha:z").name == "zeta-1"
    with pytest.raises(AmbiguousExecution, match="'a' matches several executions"):
        store.get_execution("a")
    with pytest.raises(ExecutionNotFound, match="no execution matches '%'"):
        store.get_execution("%")
    with pytest.raises(ExecutionNotFound):
        store.get_execution("z_ta")


def test_same_name_in_two_machines_is_ambiguous_by_name(store: Store) -> None:
    store.begin_execution(info("same", "Alpha"), {}, 1.0)
    store.begin_execution(info("same", "Beta"), {}, 2.0)
    with pytest.raises(AmbiguousExecution):
        store.get_execution("same")
    assert store.get_execution(info("same", "Beta").arn).state_machine_name == "Beta"


def test_two_connections_share_one_store(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with Store.open(path) as first, Store.open(path) as second:
        recorded_run(first, PASS, "one")
        recorded_run(second, PASS, "two")
        assert names(first.list_executions()) == names(second.list_executions())
        assert len(names(first.list_executions())) == 2


# -- location --------------------------------------------------------------------------


def test_default_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert default_store_path({"ASL_STORE": "/x/s.db"}) == Path("/x/s.db")
    assert default_store_path({"XDG_STATE_HOME": "/st"}) == Path("/st/asl-runtime/store.db")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_store_path({}) == tmp_path / ".local/state/asl-runtime/store.db"


def test_resolve_store_path_option_wins_and_no_store_disables() -> None:
    env = {"ASL_STORE": "/env.db"}
    assert resolve_store_path("/opt.db", env=env) == Path("/opt.db")
    assert resolve_store_path(None, env=env) == Path("/env.db")
    assert resolve_store_path("/opt.db", no_store=True, env=env) is None
