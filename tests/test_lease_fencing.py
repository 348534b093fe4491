"""Leases fence every event write: a runner paused past its lease cannot write once another
process took the execution over, and a renewal that finds the lease taken stops it.

Lease clocks are driven by hand (no real sleeping); "the other process" is a second
:class:`Lease` with its own owner name on another host (so it is never taken for dead).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from runtime.api import run
from runtime.durable.store import ExecutionInfo, Store, StoreRecorder
from runtime.durable.store.errors import LeaseLost
from runtime.durable.store.lease import Lease, dead_here
from runtime.engine.clock import RealClock, VirtualClock
from runtime.engine.events import HistoryEvent

ARN = "arn:aws:states:us-east-1:123456789012:execution:M:e1"
LEASE = 30.0


class HandClock:
    """A lease clock moved by the test; background renewals never fire by themselves."""

    def __init__(self, now: float) -> None:
        self.t = now

    def now(self) -> float:
        return self.t

    async def sleep_until(self, deadline: float) -> None:
        await anyio.sleep_forever()

    def call_at(self, deadline: float, callback: Callable[[], None]) -> Any:
        raise NotImplementedError

    @contextmanager
    def participant(self) -> Iterator[None]:
        yield

    @contextmanager
    def busy(self) -> Iterator[None]:
        yield

    def join(self) -> None:
        pass

    def leave(self) -> None:
        pass


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    with Store.open(store_location) as opened:
        yield opened


def _types(store: Store) -> list[str]:
    return [e.type for e in store.recorded(ARN)]


def _begin(store: Store) -> None:
    info = ExecutionInfo(ARN, "e1", "arn:aws:states:us-east-1:123456789012:stateMachine:M", "M", {})
    store.begin_execution(info, {}, 1000.0)


def test_each_take_of_a_lease_moves_its_generation_and_fences_older_writes(store: Store) -> None:
    _begin(store)
    first = store.acquire_lease(ARN, "host-a:1:a", 1000.0, LEASE)
    assert first == 1
    assert store.renew_lease(ARN, "host-a:1:a", 1, 1010.0, LEASE)
    assert store.acquire_lease(ARN, "host-b:2:b", 1020.0, LEASE) is None  # still live
    second = store.acquire_lease(ARN, "host-b:2:b", 1041.0, LEASE)
    assert second == 2
    assert not store.renew_lease(ARN, "host-a:1:a", 1, 1042.0, LEASE)
    started = HistoryEvent(1, 0, "ExecutionStarted", 1042.0, {"input": {}})
    with pytest.raises(LeaseLost, match="taken over"):
        store.record(ARN, started, fence=1)
    assert _types(store) == []  # refused inside the transaction: nothing written
    store.record(ARN, started, fence=2)
    assert _types(store) == ["ExecutionStarted"]


FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:work"
WORK = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": FUNCTION, "End": True}}}


def test_a_runner_paused_past_its_lease_cannot_write_after_a_takeover(store: Store) -> None:
    clock_a = HandClock(1000.0)
    stale = Lease(store, "host-a:1:a", LEASE, clock=clock_a)
    other = Lease(store, "host-b:2:b", LEASE, clock=HandClock(1000.0 + LEASE + 1))
    calls = []

    def work(event: Any) -> Any:
        # The runner is paused (SIGSTOP) while its handler runs; its lease runs out and
        # another process (its own connection to the store) takes the execution over.
        calls.append(event)
        with Store.open(store.path) as theirs:
            other.store = theirs
            other.hold(ARN)
        other.store = store
        return {"done": True}

    recorder = StoreRecorder(store, options={}, lease=stale)
    with pytest.raises(LeaseLost, match="taken over"):
        anyio.run(
            lambda: run(
                WORK,
                {},
                functions={"work": work},
                name="e1",
                state_machine_name="M",
                observers=[recorder],
                clock=VirtualClock(start=1000.0),
            )
        )
    assert len(calls) == 1
    types = _types(store)
    assert types[-1] == "LambdaFunctionStarted" and "LambdaFunctionSucceeded" not in types
    assert stale.lost is not None and other.generation == stale.generation + 1  # type: ignore[operator]
    assert store.get_execution(ARN).status == "RUNNING"  # left to the new holder
    assert store.lease_owner(ARN, 1000.0 + LEASE + 2) == "host-b:2:b"


WAIT = {
    "StartAt": "Park",
    "States": {"Park": {"Type": "Wait", "Seconds": 3600, "End": True}},
}


def test_a_renewal_that_finds_the_lease_taken_stops_the_runner_at_once(store: Store) -> None:
    clock_a = HandClock(1000.0)
    stale = Lease(store, "host-a:1:a", LEASE, clock=clock_a)
    other = Lease(store, "host-b:2:b", LEASE, clock=HandClock(1000.0 + LEASE + 1))
    parked = anyio.Event()

    def watch(event: HistoryEvent, frame: Any = None) -> None:
        if event.type == "WaitStateEntered":
            parked.set()

    recorder = StoreRecorder(store, options={}, lease=stale)
    outcome: list[BaseException] = []

    async def runner() -> None:
        try:
            # A real-clock hour: only the lost lease can end this run in the test.
            await run(
                WAIT,
                {},
                name="e1",
                state_machine_name="M",
                observers=[recorder, watch],
                clock=RealClock(),
            )
        except LeaseLost as exc:
            outcome.append(exc)

    async def main() -> None:
        with anyio.fail_after(10):  # a safety net: the run ends at the renewal
            async with anyio.create_task_group() as group:
                group.start_soon(runner)
                await parked.wait()
                clock_a.t += LEASE + 5  # paused past its lease...
                other.hold(ARN)  # ...another process took the execution over
                assert stale.renew() is False
        other.release()

    anyio.run(main)
    assert len(outcome) == 1
    assert _types(store)[-1] == "WaitStateEntered"  # nothing written after the takeover
    assert store.get_execution(ARN).status == "RUNNING"


def test_a_renewal_keeps_the_lease_while_nobody_took_it(store: Store) -> None:
    _begin(store)
    clock = HandClock(1000.0)
    lease = Lease(store, "host-a:1:a", LEASE, clock=clock)
    lease.hold(ARN)
    clock.t += LEASE * 2  # paused past its lease, but nobody took the execution
    assert lease.renew() is True and lease.lost is None
    store.record(ARN, HistoryEvent(1, 0, "ExecutionStarted", clock.t, {}), fence=lease.generation)
    assert _types(store) == ["ExecutionStarted"]


def test_a_killed_runner_not_yet_reaped_is_seen_dead_at_once(store: Store) -> None:
    """``kill -9`` leaves a zombie until its parent waits for it; a parent that never does
    (a container's init) kept ``asl resume`` saying the execution was being run by it."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("zombies are recognised through Linux's /proc")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        child.send_signal(signal.SIGKILL)
        stat = Path(f"/proc/{child.pid}/stat")
        deadline = time.monotonic() + 30
        while stat.read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child did not die"
            time.sleep(0.01)
        owner = f"{socket.gethostname()}:{child.pid}:deadbeef"
        assert dead_here(owner)
        _begin(store)
        assert store.acquire_lease(ARN, owner, 1000.0, LEASE) == 1
        lease = Lease(store, clock=HandClock(1001.0))
        lease.hold(ARN)  # taken over at once, not after the 30 s lease
        assert lease.generation == 2
    finally:
        child.wait(timeout=30)


def test_asl_exec_gives_up_an_ended_lease_without_another_write(
    store_location: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The closing event's commit deletes the lease row (the stores' triggers): like
    ``asl serve``, ``asl exec --store`` writes nothing more to give it up."""
    import json

    from runtime.cli import main
    from runtime.durable.store.postgres import PostgresStore

    released: list[str] = []
    for kind in (Store, PostgresStore):
        monkeypatch.setattr(kind, "release_lease", lambda _, arn, owner: released.append(arn))
    definition = tmp_path / "m.asl.json"
    states = {"W": {"Type": "Wait", "Seconds": 5, "Next": "P"}, "P": {"Type": "Pass", "End": True}}
    definition.write_text(json.dumps({"StartAt": "W", "States": states}))
    code = main(["exec", str(definition), "--store", store_location, "--name", "e1"])
    assert code == 0
    with Store.open(store_location) as opened:
        assert opened.get_execution("e1").status == "SUCCEEDED"
        assert opened.claim_leases("other:1:x", time.time() + 3600, LEASE, 5) == []
    assert released == []
