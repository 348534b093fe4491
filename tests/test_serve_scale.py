"""asl serve at scale: the store's batch methods, parking, group commit, --workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from runtime.durable.store import ExecutionInfo, Store
from runtime.durable.store.batches import NOBODY, LeaseBatches
from runtime.engine.events import HistoryEvent

ASL = [sys.executable, "-m", "runtime.cli"]
PREFIX = "arn:aws:states:us-east-1:123456789012"
PASSES = {
    "StartAt": "P0",
    "States": {
        **{f"P{k}": {"Type": "Pass", "Next": f"P{k + 1}"} for k in range(4)},
        "P4": {"Type": "Pass", "End": True},
    },
}


def info(name: str, definition: Any = PASSES) -> ExecutionInfo:
    return ExecutionInfo(
        arn=f"{PREFIX}:execution:M:{name}",
        name=name,
        state_machine_arn=f"{PREFIX}:stateMachine:M",
        state_machine_name="M",
        definition=definition,
        options={"clock": "real", "offline": True},
    )


@pytest.fixture
def store(store_location: str) -> Any:
    with Store.open(store_location) as opened:
        yield opened


def test_claims_take_due_executions_once_oldest_first_with_new_generations(store: Store) -> None:
    for k, started in enumerate((300.0, 100.0, 200.0)):
        store.begin_execution(info(f"e{k}"), {}, started)
    taken = store.claim_leases("a:1:x", 1000.0, 30.0, limit=2)
    assert [arn.rsplit(":", 1)[1] for arn, _ in taken] == ["e1", "e2"]
    assert {generation for _, generation in taken} == {1}
    assert [arn.rsplit(":", 1)[1] for arn, _ in store.claim_leases("b:2:y", 1000.0, 30.0, 9)] == [
        "e0"
    ]
    assert store.claim_leases("b:2:y", 1010.0, 30.0, 9) == []  # all held and live
    # a's leases expire at 1030; b takes them over with the next generation
    later = store.claim_leases("b:2:y", 1031.0, 30.0, 9)
    assert sorted(g for _, g in later) == [2, 2]
    assert store.lease_holders(1031.0) == ["b:2:y"]


def test_a_dead_owner_s_live_leases_are_taken_when_named(store: Store) -> None:
    store.begin_execution(info("e"), {}, 1.0)
    store.claim_leases("dead:1:x", 1000.0, 30.0, 5)
    assert store.claim_leases("b:2:y", 1001.0, 30.0, 5) == []
    assert [g for _, g in store.claim_leases("b:2:y", 1001.0, 30.0, 5, replace=["dead:1:x"])] == [2]


def test_renewal_is_one_batch_and_reports_takeovers_and_stop_requests(store: Store) -> None:
    for name in ("a", "b", "c"):
        store.begin_execution(info(name), {}, 1.0)
    held = dict(store.claim_leases("me:1:x", 1000.0, 30.0, 5))
    arn_a, arn_b = f"{PREFIX}:execution:M:a", f"{PREFIX}:execution:M:b"
    assert store.renew_leases("me:1:x", held, 1010.0, 30.0) == (set(), {})
    store.request_stop(arn_b, "Stop", "why", 1011.0)
    assert store.acquire_lease(arn_a, "other:2:y", 1041.0, 30.0, replace="me:1:x") == 2
    lost, stops = store.renew_leases("me:1:x", held, 1042.0, 30.0)
    assert lost == {arn_a}
    assert stops == {arn_b: ("Stop", "why")}


def test_a_parked_execution_is_due_at_its_wake_time_and_released_ones_at_once(
    store: Store,
) -> None:
    store.begin_execution(info("w"), {}, 1.0)
    ((arn, generation),) = store.claim_leases("me:1:x", 1000.0, 30.0, 5)
    assert not store.park_lease(arn, "me:1:x", generation + 1, 5000.0)  # stale generation
    assert store.park_lease(arn, "me:1:x", generation, 5000.0)
    assert store.lease_owner(arn, 1001.0) is None
    assert store.parked_until(arn, 1001.0) == 5000.0
    assert store.next_wake(1001.0) == 5000.0
    assert store.claim_leases("b:2:y", 4999.0, 30.0, 5) == []
    store.release_lease(arn, NOBODY)  # asl stop makes a parked execution due now
    assert [g for _, g in store.claim_leases("b:2:y", 1002.0, 30.0, 5)] == [generation + 1]


def test_an_ended_execution_leaves_no_lease_row(store: Store) -> None:
    store.begin_execution(info("e"), {}, 1.0)
    ((arn, generation),) = store.claim_leases("me:1:x", 1000.0, 30.0, 5)
    store.record(arn, HistoryEvent(1, 0, "ExecutionStarted", 1000.0, {"input": {}}), generation)
    store.record(arn, HistoryEvent(2, 1, "ExecutionSucceeded", 1001.0, {"output": {}}), generation)
    assert store._read("SELECT count(*) FROM leases", ()) == [(0,)]
    assert store.next_wake(0.0) is None


def test_group_commit_refuses_only_the_execution_whose_lease_moved(store: Store) -> None:
    store.begin_execution(info("kept"), {}, 1.0)
    store.begin_execution(info("moved"), {}, 2.0)
    fences = dict(store.claim_leases("me:1:x", 1000.0, 30.0, 5))
    kept, moved = f"{PREFIX}:execution:M:kept", f"{PREFIX}:execution:M:moved"
    store.acquire_lease(moved, "other:2:y", 1031.0, 30.0)
    items = [
        (arn, HistoryEvent(i, i - 1, "PassStateEntered", 1000.0 + i, {"name": "P"}), fences[arn])
        for i in (1, 2)
        for arn in (kept, moved)
    ]
    assert store.record_many(items) == {moved}
    assert [e["id"] for e in store.history(kept)] == [1, 2]
    assert store.history(moved) == []


def test_group_commit_commits_a_full_batch_within_the_writer_s_turn(store: Store) -> None:
    from runtime.durable.store.observer import FLUSH_EVENTS, GroupCommit, StoreRecorder

    store.begin_execution(info("busy"), {}, 1.0)
    arn = f"{PREFIX}:execution:M:busy"
    generation = dict(store.claim_leases("me:1:x", 1000.0, 30.0, 5))[arn]

    async def main() -> tuple[int, int, int]:
        batch = GroupCommit(store)
        recorder = StoreRecorder(store, info("busy"), resuming=True, batch=batch)
        recorder._lease.generation = generation
        for i in range(1, FLUSH_EVENTS + 5):  # no await: the loop never turns meanwhile
            recorder(HistoryEvent(i, i - 1, "PassStateEntered", 1000.0 + i, {"name": "P"}))
        at_once = len(store.history(arn))
        await anyio.lowlevel.checkpoint()  # the rest goes at the end of the turn
        return at_once, len(store.history(arn)), batch.commits

    assert anyio.run(main) == (FLUSH_EVENTS, FLUSH_EVENTS + 4, 2)


def test_an_ended_execution_gives_up_its_lease_without_another_write(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The closing commit deleted the lease row: a release would be a transaction for
    nothing, which the workers of ``asl serve --workers N`` queue for."""
    from runtime.durable.serve import serve

    released: list[str] = []
    monkeypatch.setattr(type(store), "release_lease", lambda _, arn, owner: released.append(arn))
    store.begin_execution(info("done"), {}, time.time())
    assert anyio.run(lambda: serve(store, once=True)) == 1
    assert released == []
    assert store.get_execution("done").status == "SUCCEEDED"
    assert store.claim_leases("other:1:x", time.time() + 3600, 30.0, 5) == []


def test_a_nudge_wakes_a_pausing_serve_at_once(store: Store) -> None:
    from runtime.durable.serve import Nudge, serve

    nudge, log = Nudge(), []

    async def main() -> None:
        stop = anyio.Event()

        def heard(record: dict[str, Any]) -> None:
            log.append(record["event"])
            if record["event"] == "ended":
                stop.set()

        with anyio.fail_after(60):  # a lost nudge fails here instead of waiting an hour
            async with anyio.create_task_group() as group:
                group.start_soon(
                    lambda: serve(store, poll_seconds=3600.0, stop=stop, nudge=nudge, log=heard)
                )
                await anyio.sleep(0)
                store.begin_execution(info("late"), {}, time.time())
                nudge.set()  # without it, serve would look again in an hour

    anyio.run(main)
    assert log == ["started", "ended"]


def test_the_change_marker_moves_when_another_connection_commits(tmp_path: Path) -> None:
    # SQLite's data_version; the PostgreSQL store has no marker (None: read every poll).
    with Store.open(tmp_path / "store.db") as store:
        before = store.change_marker()
        assert before is not None and store.change_marker() == before
        with Store.open(tmp_path / "store.db") as other:
            other.begin_execution(info("x"), {}, 1.0)
        assert store.change_marker() != before


class _OneByOne(LeaseBatches):
    """Only a store's one-execution methods: the defaults of LeaseBatches on top."""

    def __init__(self, store: Store) -> None:
        self.claimable = store.claimable
        self.acquire_lease = store.acquire_lease
        self.renew_lease = store.renew_lease
        self.stop_request = store.stop_request
        self.record = store.record


def test_the_default_batch_methods_work_from_one_execution_methods(store: Store) -> None:
    for name in ("a", "b"):
        store.begin_execution(info(name), {}, 1.0)
    plain = _OneByOne(store)
    held = dict(plain.claim_leases("me:1:x", 1000.0, 30.0, 5))
    assert sorted(held.values()) == [1, 1]
    assert plain.claim_leases("b:2:y", 1001.0, 30.0, 5) == []
    assert plain.renew_leases("me:1:x", held, 1010.0, 30.0) == (set(), {})
    assert plain.lease_holders(1011.0) == ["me:1:x"]
    assert not plain.park_lease(next(iter(held)), "me:1:x", 1, 5000.0)  # cannot park
    assert plain.next_wake(1011.0) is None and plain.change_marker() is None
    arn = next(iter(held))
    event = HistoryEvent(1, 0, "ExecutionStarted", 1010.0, {"input": {}})
    assert plain.record_many([(arn, event, held[arn])]) == set()
    assert plain.record_many([(arn, event, held[arn] + 5)]) == {arn}


def test_serve_parks_a_sleeping_execution_and_finishes_it_when_due(store: Store) -> None:
    from runtime.durable.serve import serve

    nap = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 1, "End": True}}}
    store.begin_execution(info("nap", nap), {}, time.time())
    log: list[dict[str, Any]] = []

    async def main() -> int:
        stop = anyio.Event()

        def heard(record: dict[str, Any]) -> None:
            log.append(record)
            if record["event"] == "ended":
                stop.set()

        return await serve(store, poll_seconds=5.0, park_seconds=0.5, stop=stop, log=heard)

    assert anyio.run(main) == 1
    assert [r["event"] for r in log] == ["started", "parked", "started", "ended"]
    assert log[-1]["status"] == "SUCCEEDED"
    types = [e["type"] for e in store.history(f"{PREFIX}:execution:M:nap")]
    assert types == [
        "ExecutionStarted",
        "WaitStateEntered",
        "WaitStateExited",
        "ExecutionSucceeded",
    ]


def test_a_served_execution_is_freed_without_the_cycle_collector(store: Store) -> None:
    """Its history goes when it ends, not at the next full collection (a long pause)."""
    import gc

    from runtime.durable.serve import serve

    loop = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.i", "NumericLessThan": 300, "Next": "Bump"}],
                "Default": "Done",
            },
            "Bump": {
                "Type": "Pass",
                "Parameters": {"i.$": "States.MathAdd($.i, 1)"},
                "Next": "Check",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    store.begin_execution(info("loop", loop), {"i": 0}, time.time())
    gc.collect()
    gc.disable()
    try:
        assert anyio.run(lambda: serve(store, once=True)) == 1
        found = gc.collect()
    finally:
        gc.enable()
    assert len(store.history(f"{PREFIX}:execution:M:loop")) > 1200
    assert found < 600  # the 1,200+ events and their details would be found here


def test_a_failed_claim_is_said_and_the_next_poll_claims_again(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    from runtime.durable.serve import serve
    from runtime.durable.store import StoreError

    done = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    store.begin_execution(info("p", done), {}, time.time())
    real = store.claim_leases
    failures = ["deadlock detected"]

    def flaky(*args: Any, **kwargs: Any) -> list[tuple[str, int]]:
        if failures:
            raise StoreError(f"cannot write to the store: {failures.pop()}")
        return real(*args, **kwargs)

    class Flaky:  # the store, with a claim that fails once
        def __getattr__(self, name: str) -> Any:
            return flaky if name == "claim_leases" else getattr(store, name)

    assert anyio.run(lambda: serve(Flaky(), poll_seconds=0.0, once=True)) == 1
    assert "asl serve: claiming executions: cannot write to the store: deadlock detected" in (
        capsys.readouterr().err
    )
    assert store.get_execution(f"{PREFIX}:execution:M:p").status == "SUCCEEDED"
    failures.extend(["down"] * 5)  # a store that stays unusable ends serving with its error
    store.begin_execution(info("q", done), {}, time.time())
    with pytest.raises(ExceptionGroup) as caught:  # raised in serve's task group
        anyio.run(lambda: serve(Flaky(), poll_seconds=0.0, once=True))
    assert caught.group_contains(StoreError, match="down")


def _env(store: Path) -> dict[str, str]:
    return {**os.environ, "ASL_STORE": str(store)}


def test_a_serve_killed_between_group_commits_resumes_to_the_same_history(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    # The short Wait ends a turn of the event loop: its group commit, then the kill.
    nap = {
        "StartAt": "P0",
        "States": {
            "P0": {"Type": "Pass", "Next": "P1"},
            "P1": {"Type": "Pass", "Next": "Nap"},
            "Nap": {"Type": "Wait", "Seconds": 1, "Next": "P2"},
            "P2": {"Type": "Pass", "End": True},
        },
    }
    with Store.open(path) as db:
        db.begin_execution(info("crash", nap), {"x": 1}, time.time())
    killed = subprocess.run(
        [*ASL, "serve", "--once", "--workers", "1", "--poll-seconds", "0.1"],
        env={**_env(path), "ASL_FAULT_KILL_AFTER_EVENT": "4"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    with Store.open(path) as db:
        assert db.get_execution("crash").status == "RUNNING"
        types = [e["type"] for e in db.history(f"{PREFIX}:execution:M:crash")]
        assert types[-1] == "WaitStateEntered" and len(types) == 6  # one batch, then killed
        db.begin_execution(info("clean", nap), {"x": 1}, time.time())  # uninterrupted
    done = subprocess.run(
        [*ASL, "serve", "--once", "--workers", "1", "--poll-seconds", "0.1"],
        env=_env(path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with Store.open(path) as db:
        crash = db.history(f"{PREFIX}:execution:M:crash")
        clean = db.history(f"{PREFIX}:execution:M:clean")
        assert db.get_execution("crash").status == "SUCCEEDED"
    assert [(e["id"], e["type"]) for e in crash] == [(e["id"], e["type"]) for e in clean]
    assert (
        crash[-1]["executionSucceededEventDetails"] == clean[-1]["executionSucceededEventDetails"]
    )


def test_workers_share_the_store_and_run_each_execution_once(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with Store.open(path) as db:
        for k in range(40):
            db.begin_execution(info(f"e{k:02d}"), {}, time.time())
    done = subprocess.run(
        [*ASL, "serve", "--once", "--workers", "2", "--json-log", "--poll-seconds", "0.05"],
        env=_env(path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    started = sorted(r["name"] for r in records if r["event"] == "started")
    assert started == [f"e{k:02d}" for k in range(40)]
    with Store.open(path) as db:
        assert len(db.list_executions(status="SUCCEEDED", limit=None)) == 40


def test_workers_refuse_the_api_flags_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [*ASL, "serve", "--workers", "2", "--endpoint-port", "0"],
        env=_env(tmp_path / "store.db"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--workers: more than 1 cannot go with --api" in done.stderr
    assert "Traceback" not in done.stderr
