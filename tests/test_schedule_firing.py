"""The firing step on a store: once per time across processes, catch-up, retries and
dead letters, one-time schedules, pauses and flexible windows. Time is passed in, never read."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from runtime.durable.resume import resume
from runtime.durable.store import Store
from runtime.schedules.errors import ConflictException, ResourceNotFoundException
from runtime.schedules.firing import fire_due
from runtime.schedules.model import RetryPolicy, Schedule, Target
from runtime.schedules.service import (
    create_schedule,
    delete_schedule,
    get_schedule,
    list_schedules,
    set_state,
    update_schedule,
)

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    path = tmp_path / "job.asl.json"
    path.write_text(json.dumps(PASS))
    return path


def make(machine: Path, name: str = "every-minute", **changes: object) -> Schedule:
    target = Target(
        definition_file=str(machine),
        arn="arn:aws:states:us-east-1:123456789012:stateMachine:job",
        input='{"time": "<aws.scheduler.scheduled-time>", "n": <aws.scheduler.attempt-number>}',
        options={"offline": True},
    )
    return Schedule(name=name, expression="rate(1 minute)", target=target).with_changes(**changes)


@pytest.fixture
def store(store_location: str) -> Iterator[Store]:
    with Store.open(store_location) as opened:
        yield opened


def names(store: Store) -> list[str]:
    return sorted(e.name for e in store.list_executions(limit=None))


def test_each_due_time_starts_one_execution_with_its_context(machine: Path, store: Store) -> None:
    create_schedule(store, make(machine), T0)
    made = fire_due(store, T0 + 120, serving_since=T0)
    assert [f.scheduled - T0 for f in made] == [0, 60, 120]
    assert names(store) == [
        "every-minute-20260101T000000Z",
        "every-minute-20260101T000100Z",
        "every-minute-20260101T000200Z",
    ]
    record = store.get_execution("every-minute-20260101T000100Z")
    assert record.input == {"time": "2026-01-01T00:01:00Z", "n": 1}
    assert record.state_machine_name == "job"
    assert fire_due(store, T0 + 150, serving_since=T0) == []  # nothing new is due
    result = anyio.run(resume, store, record.arn)
    assert result.status == "SUCCEEDED"
    runs = store.schedule_firings("every-minute")
    assert [r.execution_status for r in runs] == ["RUNNING", "SUCCEEDED", "RUNNING"]


def test_two_processes_on_one_store_fire_each_time_once(machine: Path, store_location: str) -> None:
    path = store_location
    with Store.open(path) as store:
        create_schedule(store, make(machine), T0)
    made: list[list[int]] = [[], []]

    def serve(index: int) -> None:
        with Store.open(path) as store:
            for step in range(0, 3600, 30):  # two serve loops polling the same hour
                for firing in fire_due(store, T0 + step, serving_since=T0):
                    made[index].append(firing.scheduled)

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fired = sorted(made[0] + made[1])
    assert fired == [T0 + 60 * i for i in range(60)]  # 00:00 .. 00:59, each once
    with Store.open(path) as store:
        assert len(names(store)) == 60


@pytest.mark.parametrize(
    ("catch_up", "expected"),
    [
        # missed: before the serve started, beyond AWS's 60-second precision
        ("none", [540, 600]),
        ("last", [480, 540, 600]),
        ("all", [60 * i for i in range(11)]),
    ],
)
def test_catch_up_policy_for_times_missed_while_nothing_served(
    machine: Path, catch_up: str, expected: list[int], store: Store
) -> None:
    create_schedule(store, make(machine), T0)
    made = fire_due(store, T0 + 600, serving_since=T0 + 600, catch_up=catch_up)
    assert [f.scheduled - T0 for f in made] == expected
    assert fire_due(store, T0 + 600, serving_since=T0 + 600, catch_up="all") == []


def test_a_failed_start_is_retried_then_dead_lettered(
    machine: Path, tmp_path: Path, store: Store
) -> None:
    letters = tmp_path / "dlq.jsonl"
    missing = tmp_path / "gone.asl.json"
    sched = make(machine, expression="at(2026-01-01T00:10:00)")
    target = sched.target
    broken = Target(
        str(missing), target.arn, target.input, RetryPolicy(2, 3600), str(letters), target.options
    )
    create_schedule(store, sched.with_changes(target=broken), T0)
    first = fire_due(store, T0 + 600, serving_since=T0)
    assert [(f.status, f.attempt) for f in first] == [("RETRYING", 1)]
    assert "gone.asl.json" in (first[0].error or "")
    assert fire_due(store, T0 + 600.5, serving_since=T0) == []  # the retry waits 1 s
    second = fire_due(store, T0 + 601, serving_since=T0)
    assert [(f.status, f.attempt) for f in second] == [("RETRYING", 2)]
    third = fire_due(store, T0 + 603, serving_since=T0)
    assert [(f.status, f.attempt) for f in third] == [("DEAD_LETTERED", 3)]
    letter = json.loads(letters.read_text())
    assert letter["ScheduledTime"] == "2026-01-01T00:10:00Z"
    assert letter["AttemptNumber"] == 3
    assert letter["ExhaustedRetryCondition"] == "MaximumRetryAttempts"
    assert json.loads(letter["Input"]) == {"time": "2026-01-01T00:10:00Z", "n": 3}
    assert fire_due(store, T0 + 700, serving_since=T0) == []
    [row] = store.schedule_firings(sched.name)
    assert (row.status, row.attempts, row.execution_arn) == ("DEAD_LETTERED", 3, None)


def test_a_retry_starts_the_execution_once_the_target_is_back(
    machine: Path, tmp_path: Path, store: Store
) -> None:
    later = tmp_path / "later.asl.json"
    sched = make(machine, expression="at(2026-01-01T00:10:00)")
    moved = Target(str(later), sched.target.arn, sched.target.input, options={"offline": True})
    create_schedule(store, sched.with_changes(target=moved), T0)
    assert [f.status for f in fire_due(store, T0 + 600, serving_since=T0)] == ["RETRYING"]
    later.write_text(json.dumps(PASS))
    [started] = fire_due(store, T0 + 601, serving_since=T0)
    assert (started.status, started.attempt) == ("STARTED", 2)
    assert store.get_execution(started.execution_arn or "").input["n"] == 2


def test_the_event_age_limit_ends_retries(machine: Path, tmp_path: Path, store: Store) -> None:
    sched = make(machine, expression="at(2026-01-01T00:10:00)")
    gone = Target(str(tmp_path / "no.json"), sched.target.arn, retry_policy=RetryPolicy(185, 60))
    create_schedule(store, sched.with_changes(target=gone), T0)
    assert [f.status for f in fire_due(store, T0 + 660, serving_since=T0)] == ["DEAD_LETTERED"]


def test_a_one_time_schedule_deleted_after_completion(machine: Path, store: Store) -> None:
    sched = make(machine, "once", expression="at(2026-01-01T00:05:00)")
    create_schedule(store, sched.with_changes(action_after_completion="DELETE"), T0)
    create_schedule(store, sched.with_changes(name="kept"), T0)
    assert len(fire_due(store, T0 + 300, serving_since=T0)) == 2
    assert [s.name for s in list_schedules(store)] == ["kept"]
    with pytest.raises(ResourceNotFoundException, match="Schedule once does not exist"):
        get_schedule(store, "once")
    assert len(store.schedule_firings("once")) == 1  # its run is still listed


def test_a_paused_schedule_skips_the_times_it_was_paused(machine: Path, store: Store) -> None:
    create_schedule(store, make(machine, start_date=T0 + 60), T0)
    set_state(store, "every-minute", "DISABLED", T0 + 30)
    assert fire_due(store, T0 + 300, serving_since=T0) == []
    set_state(store, "every-minute", "ENABLED", T0 + 301)
    made = fire_due(store, T0 + 400, serving_since=T0)
    assert [f.scheduled - T0 for f in made] == [360]


def test_an_update_does_not_fire_the_old_times(machine: Path, store: Store) -> None:
    create_schedule(store, make(machine, expression="cron(0 * * * ? *)"), T0)
    update_schedule(store, "every-minute", T0 + 7200.5, expression="cron(30 * * * ? *)")
    made = fire_due(store, T0 + 9000, serving_since=T0)
    assert [f.scheduled - T0 for f in made] == [9000]


def test_a_flexible_window_starts_at_a_fixed_point_in_it(machine: Path, store: Store) -> None:
    sched = make(machine, expression="cron(0 12 * * ? *)", flexible_mode="FLEXIBLE")
    sched = sched.with_changes(flexible_window_minutes=30)
    create_schedule(store, sched, T0)
    noon = T0 + 12 * 3600
    offset = sched.offset(noon)
    assert 0 < offset < 1800
    assert fire_due(store, noon + offset - 1, serving_since=T0) == []
    [firing] = fire_due(store, noon + offset, serving_since=T0)
    assert firing.scheduled == noon


def test_names_are_unique_and_unknown_ones_are_errors(machine: Path, store: Store) -> None:
    create_schedule(store, make(machine), T0)
    with pytest.raises(ConflictException, match="Schedule every-minute already exists"):
        create_schedule(store, make(machine), T0)
    with pytest.raises(ResourceNotFoundException, match="Schedule nope does not exist"):
        delete_schedule(store, "nope")
    with pytest.raises(ResourceNotFoundException):
        set_state(store, "nope", "DISABLED", T0)


def test_two_serve_loops_fire_and_run_each_missed_time_once(
    machine: Path, store_location: str
) -> None:
    from runtime.durable.serve import serve
    from runtime.engine.clock import RealClock

    path = store_location
    now = RealClock().now()
    with Store.open(path) as store:  # created ten minutes ago; nothing served since
        create_schedule(store, make(machine, start_date=int(now) - 590), now - 600)

    async def both() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(2):
                group.start_soon(one_loop)

    async def one_loop() -> None:
        with Store.open(path) as store:
            await serve(store, once=True, poll_seconds=0.01, catch_up="all")

    anyio.run(both)
    with Store.open(path) as store:
        executions = store.list_executions(limit=None)
        firings = store.schedule_firings("every-minute")
    assert len(executions) == len(firings) == 10  # 590 s ago to 50 s ago, each once
    assert {e.status for e in executions} == {"SUCCEEDED"}
    assert len({e.name for e in executions}) == 10


def test_serve_skips_missed_times_by_default(machine: Path, tmp_path: Path) -> None:
    from runtime.durable.serve import serve
    from runtime.engine.clock import RealClock

    path = tmp_path / "store.db"
    now = RealClock().now()
    with Store.open(path) as store:
        create_schedule(store, make(machine, start_date=int(now) - 590), now - 600)
        anyio.run(lambda: serve(store, once=True, poll_seconds=0.01))
        # only the time within AWS's 60-second precision of the start (50 s ago) runs
        [execution] = store.list_executions(limit=None)
        assert execution.status == "SUCCEEDED"
