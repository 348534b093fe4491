"""The PostgreSQL store: migrations, batch claims and renewals, fencing across
connections, callbacks relayed through the store, and a fleet of ``asl serve`` processes
killed and restarted under load (bench/fleet.py; ``ASL_FLEET_EXECUTIONS=3000`` for the
issue's full run). The shared contract tests run on both backends through the
``store_location`` fixture (tests/conftest.py)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

from runtime.callbacks.registry import (
    CallbackRegistry,
    InvalidToken,
    TaskDoesNotExist,
    TaskTimedOut,
)
from runtime.durable.answers import StoreRelay, deliver_answers
from runtime.durable.store import ExecutionInfo, Store, StoreError, resolve_store_path
from runtime.durable.store.errors import LeaseLost, SchemaTooNew
from runtime.durable.store.postgres import PostgresStore, redact, translate, translate_migration
from runtime.durable.store.schema import LATEST_VERSION, MIGRATIONS
from runtime.engine.events import HistoryEvent

PREFIX = "arn:aws:states:us-east-1:123456789012"


def _begin(store: Store, count: int) -> list[str]:
    arns = []
    for k in range(count):
        info = ExecutionInfo(
            f"{PREFIX}:execution:M:e{k}", f"e{k}", f"{PREFIX}:stateMachine:M", "M", {}
        )
        store.begin_execution(info, {"k": k}, 1000.0 + k)
        arns.append(info.arn)
    return arns


def _event(id: int) -> HistoryEvent:
    return HistoryEvent(id, id - 1, "PassStateEntered", 1000.0, {"name": "P", "input": {}})


# -- translation, without a server ----------------------------------------------------


def test_every_migration_translates_to_postgresql() -> None:
    for version in range(len(MIGRATIONS)):
        statements = translate_migration(version)
        assert statements
        for statement in statements:
            assert "WITHOUT ROWID" not in statement.upper()
            assert " REAL" not in statement and "BLOB" not in statement


def test_shared_statements_are_translated_or_refused() -> None:
    assert translate("SELECT a FROM t WHERE b = ? AND c LIKE ?") == (
        "SELECT a FROM t WHERE b = %s AND c ILIKE %s"
    )
    assert translate("INSERT OR IGNORE INTO token_secret (id, secret) VALUES (1, ?)") == (
        "INSERT INTO token_secret (id, secret) VALUES (1, %s) ON CONFLICT (id) DO NOTHING"
    )
    assert translate("REPLACE INTO tags (resource_arn, key, value) VALUES (?, ?, ?)") == (
        "INSERT INTO tags (resource_arn, key, value) VALUES (%s, %s, %s) "
        "ON CONFLICT (resource_arn, key) DO UPDATE SET value = EXCLUDED.value"
    )
    assert "GREATEST(handled_until, %s)" in translate(
        "UPDATE schedules SET handled_until = MAX(handled_until, ?) WHERE name = ?"
    )
    assert translate("SELECT COALESCE(MAX(version), 0) FROM v") == (
        "SELECT COALESCE(MAX(version), 0) FROM v"
    )
    with pytest.raises(StoreError, match="cannot translate"):
        translate("INSERT OR REPLACE INTO unknown_table (a) VALUES (?)")
    with pytest.raises(StoreError, match="cannot translate"):
        translate("SELECT julianday('now')")


def test_database_urls_are_kept_as_text_and_passwords_hidden() -> None:
    url = "postgresql://asl:s3cret@db.internal:5432/asl"
    assert resolve_store_path(url) == url
    assert resolve_store_path(None, env={"ASL_STORE": url}) == url
    assert redact(url) == "postgresql://asl:***@db.internal:5432/asl"
    with pytest.raises(StoreError, match="no store backend for mysql://"):
        Store.open("mysql://x/y")


def test_an_unreachable_database_is_one_line_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        Store.open("postgresql://asl:s3cret@127.0.0.1:1/asl?connect_timeout=2")
    assert "s3cret" not in str(caught.value) and "\n" not in str(caught.value)


# -- a real server ---------------------------------------------------------------------


def test_processes_opening_a_new_database_together_migrate_it_once(pg_url: str) -> None:
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            Store.open(pg_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Store.open(pg_url) as store:
        assert isinstance(store, PostgresStore)
        assert store._read("SELECT version FROM schema_version", ()) == [(LATEST_VERSION,)]
        tables = {row[0] for row in store._read("SELECT tablename FROM pg_tables", ())}
    assert {"executions", "events", "lease_fences", "task_answers", "schedules"} <= tables


def test_without_create_a_database_without_a_store_is_refused(pg_url: str) -> None:
    with pytest.raises(StoreError, match="no store at postgresql://"):
        Store.open(pg_url, create=False)


def test_a_newer_schema_is_refused(pg_url: str) -> None:
    with Store.open(pg_url) as store:
        store._conn.raw.execute("UPDATE schema_version SET version = 999")
    with pytest.raises(SchemaTooNew, match="schema version 999"):
        Store.open(pg_url)


def test_servers_claiming_at_once_split_the_executions(pg_url: str) -> None:
    with Store.open(pg_url) as a, Store.open(pg_url) as b:
        assert isinstance(a, PostgresStore) and isinstance(b, PostgresStore)
        arns = _begin(a, 10)
        first = dict(a.claim_leases("A", 2000.0, 30.0, 6))
        second = dict(b.claim_leases("B", 2000.0, 30.0, 6))
        assert list(first) == arns[:6]  # longest due first
        assert list(second) == arns[6:]
        assert set(first.values()) == set(second.values()) == {1}
        assert b.claim_leases("B", 2000.0, 30.0, 6) == []  # every lease is live
        assert a.renew_leases("A", first, 2010.0, 30.0) == (set(), {})
        # A stops renewing; once its leases ran out B takes them, one generation on
        # (B's own leases, run out too, are not claimed again by B).
        taken = dict(b.claim_leases("B", 2041.0, 30.0, 10))
        assert taken == {arn: 2 for arn in arns[:6]}
        assert a.renew_leases("A", first, 2042.0, 30.0) == (set(arns[:6]), {})
        with pytest.raises(LeaseLost):
            a.record(arns[0], _event(1), fence=1)
        b.record(arns[0], _event(1), fence=2)
        assert [e.id for e in b.recorded(arns[0])] == [1]


def test_a_claim_skips_an_execution_another_server_is_claiming(pg_url: str) -> None:
    import psycopg

    with Store.open(pg_url) as store, psycopg.connect(pg_url) as other:
        assert isinstance(store, PostgresStore)
        arns = _begin(store, 3)
        with other.transaction():  # another server, mid-claim on the oldest
            other.execute("SELECT 1 FROM executions WHERE arn = %s FOR UPDATE", (arns[0],))
            assert [arn for arn, _ in store.claim_leases("A", 2000.0, 30.0, 3)] == arns[1:]
            assert store.acquire_lease(arns[0], "A", 2000.0, 30.0) is None
        assert store.acquire_lease(arns[0], "A", 2000.0, 30.0) == 1


def test_the_due_time_triggers_keep_lease_rows_in_step_with_the_status(pg_url: str) -> None:
    with Store.open(pg_url) as store:
        (arn,) = _begin(store, 1)
        rows = "SELECT owner, expires_at FROM leases WHERE execution_arn = ?"
        assert store._read(rows, (arn,)) == [("", 1000.0)]  # nobody runs it, due at start
        assert store.claimable(999.0) == [(arn, None)]
        assert store.next_wake(999.0) == 1000.0
        store.finish_execution(arn, "FAILED", 1001.0, error="E", cause="c")
        assert store._read(rows, (arn,)) == []
        store.begin_redrive(arn)
        assert store._read(rows, (arn,)) == [("", 0.0)]  # a redrive is due at once
        assert store.change_marker() is None


def test_the_due_time_migration_gives_each_running_execution_a_lease_row(pg_url: str) -> None:
    with Store.open(pg_url) as store:  # made at v12; taken back to v11 by hand
        arns = _begin(store, 2)
        store.finish_execution(arns[1], "SUCCEEDED", 1002.0)
        raw = store._conn.raw
        raw.execute("DROP TRIGGER executions_due ON executions")
        raw.execute("DROP FUNCTION asl_executions_due()")
        raw.execute("DROP INDEX leases_by_expiry")
        raw.execute("DROP INDEX leases_by_owner")
        raw.execute("DELETE FROM leases")
        raw.execute("INSERT INTO leases VALUES (%s, 'gone:1:x', 5)", (arns[1],))  # stale row
        raw.execute("UPDATE schema_version SET version = 11")
    with Store.open(pg_url) as store:
        leases = "SELECT execution_arn, owner, expires_at FROM leases ORDER BY execution_arn"
        assert store._read(leases, ()) == [(arns[0], "", 1000.0)]
        late = ExecutionInfo(
            f"{PREFIX}:execution:M:late", "late", f"{PREFIX}:stateMachine:M", "M", {}
        )
        store.begin_execution(late, {}, 1003.0)  # the trigger is back
        assert store._read(leases, ())[-1] == (late.arn, "", 1003.0)


def test_a_write_fenced_by_a_taken_over_lease_waits_for_nothing_and_is_refused(
    pg_url: str,
) -> None:
    with Store.open(pg_url) as a, Store.open(pg_url) as b:
        (arn,) = _begin(a, 1)
        assert a.acquire_lease(arn, "A", 2000.0, 30.0) == 1
        a.record(arn, _event(1), fence=1)
        assert b.acquire_lease(arn, "B", 2031.0, 30.0) == 2
        with pytest.raises(LeaseLost, match="generation 1 is stale"):
            a.record(arn, _event(2), fence=1)
        b.record(arn, _event(2), fence=2)
        assert [e.id for e in a.recorded(arn)] == [1, 2]


def test_an_answer_sent_to_another_server_reaches_the_waiting_task(store_location: str) -> None:
    pg_url = store_location  # both backends: two serve processes may share a SQLite file
    with Store.open(pg_url) as store:
        (arn,) = _begin(store, 1)
        signer = store.token_signer()
        token = signer.make(arn, 2, 0)
        receiving = CallbackRegistry(signer=signer)
        receiving.relay = relay = StoreRelay(pg_url)
        try:
            receiving.send_task_heartbeat(token)
            receiving.send_task_success(token, '{"ok": 1}')
            with pytest.raises(TaskTimedOut):
                receiving.send_task_success(token, '{"ok": 2}')
            with pytest.raises(InvalidToken):
                receiving.send_task_success("bm90IGEgdG9rZW4=", "{}")
            store.finish_execution(arn, "ABORTED", 3000.0)
            with pytest.raises(TaskDoesNotExist):
                receiving.send_task_failure(signer.make(arn, 9, 0), "E")
            store.begin_redrive(arn)  # RUNNING again
        finally:
            relay.close()
        running = CallbackRegistry(signer=signer)
        beats: list[int] = []

        async def wait() -> Any:
            with running.expect(token, heartbeat=lambda: beats.append(1)) as pending:
                assert deliver_answers(store, running, [arn]) == 2
                return await pending.wait()

        assert anyio.run(wait) == {"ok": 1}
        assert beats == [1]
        assert store.task_answers([arn]) == []


@pytest.mark.timeout(1800)
def test_three_servers_killed_and_restarted_run_every_execution_once(
    pg_cluster: Any, tmp_path: Path
) -> None:
    from bench.fleet import run_fleet

    count = int(os.environ.get("ASL_FLEET_EXECUTIONS", "") or 45)
    result = run_fleet(
        pg_cluster.database(), count, max_running=max(6, count // 15), folder=tmp_path
    )
    assert result.problems == []
    assert result.statuses == {"SUCCEEDED": count}
    assert result.killed and result.restarted
    assert result.taken_over > 0  # the killed server's executions moved
    assert result.relayed > 0  # answers went through the store to another server


@pytest.mark.timeout(900)
def test_the_fleet_bench_measures_one_to_three_servers_beside_sqlite(pg_cluster: Any) -> None:
    from rich.console import Console

    from bench.fleet import measure_fleet, render

    measured = measure_fleet(4)
    rows = [(f.backend, f.servers, f.executions) for f in measured["figures"]]
    assert rows == [
        ("postgresql", 1, 4),
        ("postgresql", 2, 4),
        ("postgresql", 3, 4),
        ("sqlite", 1, 4),
    ]
    assert all(f.transitions_per_s > 0 for f in measured["figures"])
    console = Console(record=True, width=200)
    render(console, measured)
    assert "executions/s" in console.export_text()
