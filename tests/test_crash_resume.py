"""Durable executions: SIGKILL the runtime at random points, resume, compare.

The workflow has Waits, retries, a Parallel and a Map. ``asl exec`` records into the
store; the fault-injection variable ``ASL_FAULT_KILL_AFTER_EVENT`` makes the process
SIGKILL itself right after committing an event. Each crash is followed by
``asl resume`` (itself killed at a later point), twenty times; the last resume runs to
the end. The outcome must equal an uninterrupted run's: the same output, and the same
events (no event lost or duplicated), except the documented extra attempts of a task
that was in flight at a crash (its outcome is unknown, so it is retried).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from runtime.durable.store import Store
from runtime.engine.replay import UNKNOWN_OUTCOME

DATA = Path(__file__).with_name("data") / "crash"
ASL = [sys.executable, "-m", "runtime.cli"]


def asl(
    args: list[str], store: Path, kill_after: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ASL_STORE=str(store))
    env.pop("ASL_FAULT_KILL_AFTER_EVENT", None)
    if kill_after is not None:
        env["ASL_FAULT_KILL_AFTER_EVENT"] = str(kill_after)
    return subprocess.run(
        [*ASL, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def exec_args(name: str) -> list[str]:
    return [
        "exec",
        str(DATA / "machine.asl.json"),
        "--mock-config",
        str(DATA / "MockConfigFile.json"),
        "--test-case",
        "Crash",
        "--clock",
        "virtual",
        "--json",
        "--name",
        name,
    ]


def comparable(events: list[dict[str, Any]]) -> Counter[str]:
    """Events without ids and times (concurrent threads may interleave differently)."""
    out: Counter[str] = Counter()
    for event in events:
        details = {k: v for k, v in event.items() if k.endswith("EventDetails")}
        out[json.dumps([event["type"], details], sort_keys=True)] += 1
    return out


_ATTEMPT_EVENTS = ("Scheduled", "Started", "Submitted", "Succeeded", "Failed", "TimedOut")
_ATTEMPT_PREFIXES = ("Task", "LambdaFunction", "Activity")


def is_attempt_event(event: dict[str, Any]) -> bool:
    kind = event["type"]
    return (
        kind.startswith(_ATTEMPT_PREFIXES)
        and kind.endswith(_ATTEMPT_EVENTS)
        and ("State" not in kind)
    )


def state_level(events: list[dict[str, Any]]) -> Counter[str]:
    """Everything but the events of individual task attempts."""
    return comparable([e for e in events if not is_attempt_event(e)])


def check_retried_attempts(history: list[dict[str, Any]]) -> int:
    """Every unknown-outcome failure is followed, in its thread, by a new attempt."""
    by_prev: dict[int, list[dict[str, Any]]] = {}
    for event in history:
        by_prev.setdefault(event["previousEventId"], []).append(event)
    unknown = 0
    for event in history:
        details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        if details.get("cause") != UNKNOWN_OUTCOME[1]:
            continue
        unknown += 1
        following = by_prev.get(event["id"], [])
        assert following, f"nothing follows the unknown outcome #{event['id']}"
        assert following[0]["type"].endswith("Scheduled"), following[0]["type"]
    return unknown


def test_killed_twenty_times_and_resumed_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    reference_store = tmp_path / "reference.db"
    done = asl(exec_args("reference"), reference_store)
    assert done.returncode == 0, done.stderr
    reference = json.loads(done.stdout)
    with Store.open(reference_store) as store:
        expected_history = store.history(store.get_execution("reference").arn)
    total = len(expected_history)

    rng = random.Random(20261126)
    kill_points = sorted(rng.sample(range(2, total), 20))
    store_path = tmp_path / "crashy.db"
    first = asl(exec_args("crashy"), store_path, kill_after=kill_points[0])
    assert first.returncode == -signal.SIGKILL, first.stderr
    for point in kill_points[1:]:
        resumed = asl(["resume", "crashy", "--json"], store_path, kill_after=point)
        assert resumed.returncode in (-signal.SIGKILL, 0, 1), resumed.stderr
    final = asl(["resume", "crashy", "--json"], store_path)
    if final.returncode == 2 and "only RUNNING" in final.stderr:
        pytest.fail("the execution finished before the last kill point; pick earlier points")
    assert final.returncode == 0, final.stderr

    result = json.loads(final.stdout)
    assert result["status"] == reference["status"] == "SUCCEEDED"
    assert result["output"] == reference["output"]
    with Store.open(store_path) as store:
        history = store.history(store.get_execution("crashy").arn)
    ids = [e["id"] for e in history]
    assert ids == list(range(1, len(history) + 1))  # nothing lost, nothing written twice
    assert all(e["previousEventId"] < e["id"] for e in history)
    assert state_level(history) == state_level(expected_history)
    retried = check_retried_attempts(history)
    assert total <= len(history) <= total + 3 * retried  # an unknown outcome adds <= 3


def test_resume_refuses_a_finished_execution(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    assert asl(exec_args("finished"), store).returncode == 0
    again = asl(["resume", "finished"], store)
    assert again.returncode == 2
    assert "only RUNNING" in again.stderr
    assert "Traceback" not in again.stderr


def test_a_task_in_flight_at_a_crash_is_retried_and_the_history_says_so(tmp_path: Path) -> None:
    reference_store = tmp_path / "reference.db"
    assert asl(exec_args("reference"), reference_store).returncode == 0
    with Store.open(reference_store) as store:
        expected = store.history(store.get_execution("reference").arn)
    started = [e["id"] for e in expected if e["type"] == "TaskStarted"]
    store_path = tmp_path / "inflight.db"
    # Die right after each task attempt started, before its outcome was recorded.
    assert asl(exec_args("inflight"), store_path, kill_after=started[0]).returncode == -9
    final = asl(["resume", "inflight", "--json"], store_path)
    assert final.returncode == 0, final.stderr
    with Store.open(store_path) as store:
        history = store.history(store.get_execution("inflight").arn)
    unknown = [
        e for e in history if e.get("taskFailedEventDetails", {}).get("cause") == UNKNOWN_OUTCOME[1]
    ]
    assert len(unknown) == 1
    assert unknown[0]["taskFailedEventDetails"]["error"] == UNKNOWN_OUTCOME[0]
    assert [e["id"] for e in history] == list(range(1, len(history) + 1))
    assert state_level(history) == state_level(expected)
    assert check_retried_attempts(history) == 1


def test_ctrl_c_leaves_a_resumable_execution(tmp_path: Path) -> None:
    machine = tmp_path / "nap.json"
    machine.write_text(
        json.dumps(
            {
                "StartAt": "P",
                "States": {
                    "P": {
                        "Type": "Parallel",
                        "Branches": [
                            {
                                "StartAt": "W",
                                "States": {"W": {"Type": "Wait", "Seconds": 2, "End": True}},
                            },
                            {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": True}}},
                        ],
                        "End": True,
                    }
                },
            }
        )
    )
    store_path = tmp_path / "s.db"
    env = dict(os.environ, ASL_STORE=str(store_path))
    running = subprocess.Popen(
        [*ASL, "exec", str(machine), "--name", "nap", "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = 100
    while deadline:
        deadline -= 1
        if store_path.exists():
            with Store.open(store_path) as store:
                try:
                    events = store.history(store.get_execution("nap").arn)
                except Exception:
                    events = []
            if any(e["type"] == "WaitStateEntered" for e in events):
                break
        time.sleep(0.05)
    running.send_signal(signal.SIGINT)
    running.communicate(timeout=30)
    with Store.open(store_path) as store:
        record = store.get_execution("nap")
        types = [e["type"] for e in store.history(record.arn)]
    assert record.status == "RUNNING"
    assert not any(t.endswith("Aborted") for t in types), types
    resumed = asl(["resume", "nap", "--json"], store_path)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "SUCCEEDED"


def test_the_resumed_trace_counts_from_the_real_start_and_entry(tmp_path: Path) -> None:
    """Durations on a resumed trace: the Wait entered before the kill and the whole run."""
    machine = tmp_path / "wait.json"
    machine.write_text(
        json.dumps(
            {
                "StartAt": "A",
                "States": {
                    "A": {"Type": "Pass", "Next": "W"},
                    "W": {"Type": "Wait", "Seconds": 900, "Next": "B"},
                    "B": {"Type": "Pass", "End": True},
                },
            }
        )
    )
    store = tmp_path / "s.db"
    run = ["exec", str(machine), "--clock", "virtual", "--name", "nap", "--quiet"]
    killed = asl(run, store, kill_after=4)  # 4 = WaitStateEntered
    assert killed.returncode == -signal.SIGKILL
    resumed = asl(["resume", "nap"], store)
    assert resumed.returncode == 0, resumed.stderr
    lines = resumed.stderr.splitlines()
    assert any("W  Wait  waited 15m (virtual)" in line for line in lines), resumed.stderr
    [finished] = [line for line in lines if "execution SUCCEEDED" in line]
    assert finished.split()[-1] == "15m"
