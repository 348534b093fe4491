"""``asl start`` / ``asl serve``: durable timers, restarts and leases.

Real processes on the real clock, bounded in time.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from runtime.durable.store import Store
from runtime.engine.events import iso_timestamp

ASL = [sys.executable, "-m", "runtime.cli"]
WAIT_5 = {
    "StartAt": "Before",
    "States": {
        "Before": {"Type": "Pass", "Result": {"n": 1}, "Next": "Nap"},
        "Nap": {"Type": "Wait", "Seconds": 5, "Next": "After"},
        "After": {"Type": "Pass", "End": True},
    },
}


def env(store: Path) -> dict[str, str]:
    return dict(os.environ, ASL_STORE=str(store))


def start(tmp_path: Path, store: Path, name: str, machine: dict[str, Any]) -> None:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(machine))
    done = subprocess.run(
        [*ASL, "start", str(path), "--name", name, "--clock", "real", "--offline"],
        env=env(store),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def serve(store: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*ASL, "serve", "--lease-seconds", "2", "--poll-seconds", "0.2", "--workers", "1", *extra],
        env=env(store),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def history(store: Path, name: str) -> list[dict[str, Any]]:
    with Store.open(store) as db:
        return db.history(db.get_execution(name).arn)


def lease_holder(store: Path, name: str) -> str | None:
    with Store.open(store) as db:
        return db.lease_owner(db.get_execution(name).arn, time.time())


def wait_for(predicate: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def seconds_of(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()


def test_a_wait_survives_serve_being_killed_and_finishes_after_a_restart(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store.db"
    start(tmp_path, store, "nap", WAIT_5)
    first = serve(store)
    try:
        wait_for(lambda: any(e["type"] == "WaitStateEntered" for e in history(store, "nap")), 20)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    assert history(store, "nap")[-1]["type"] == "WaitStateEntered"
    second = serve(store, "--once")
    _out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    events = history(store, "nap")
    types = [e["type"] for e in events]
    assert types == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "WaitStateEntered",
        "WaitStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in events] == list(range(1, 9))
    waited = seconds_of(events[4]) - seconds_of(events[3])
    assert 5.0 <= waited < 9.0  # the original deadline, not a new 5 s after the restart


def test_two_servers_never_run_the_same_execution_twice(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    machine = {
        "StartAt": "Nap",
        "States": {"Nap": {"Type": "Wait", "Seconds": 1, "End": True}},
    }
    names = [f"job{i}" for i in range(6)]
    for name in names:
        start(tmp_path, store, name, machine)
    servers = [serve(store, "--once") for _ in range(2)]
    for server in servers:
        server.communicate(timeout=60)
        assert server.returncode == 0
    for name in names:
        types = [e["type"] for e in history(store, name)]
        assert types == [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "ExecutionSucceeded",
        ]
    with Store.open(store) as db:
        assert {s.status for s in db.list_executions()} == {"SUCCEEDED"}


def test_serve_stops_cleanly_on_sigterm_and_leaves_the_execution_running(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store.db"
    start(
        tmp_path,
        store,
        "long",
        {
            "StartAt": "Nap",
            "States": {"Nap": {"Type": "Wait", "Seconds": 600, "End": True}},
        },
    )
    server = serve(store)
    wait_for(lambda: any(e["type"] == "WaitStateEntered" for e in history(store, "long")), 20)
    server.send_signal(signal.SIGTERM)
    server.communicate(timeout=30)
    assert server.returncode == 0
    # No WaitStateAborted: the execution is still RUNNING and resumes later.
    assert [e["type"] for e in history(store, "long")] == ["ExecutionStarted", "WaitStateEntered"]
    with Store.open(store) as db:
        assert db.get_execution("long").status == "RUNNING"


def test_serve_routes_tasks_as_the_execution_was_started(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    machine = tmp_path / "orders.json"
    machine.write_text(
        json.dumps(
            {
                "StartAt": "Notify",
                "States": {
                    "Notify": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::sns:publish",
                        "End": True,
                    }
                },
            }
        )
    )
    mocks = tmp_path / "mocks.json"
    mocks.write_text(
        json.dumps(
            {
                "StateMachines": {"orders": {"TestCases": {"Ok": {"Notify": "Sent"}}}},
                "MockedResponses": {"Sent": {"0": {"Return": {"MessageId": "m-7"}}}},
            }
        )
    )
    started = subprocess.run(
        [
            *ASL,
            "start",
            str(machine),
            "--name",
            "routed",
            "--mock-config",
            str(mocks),
            "--test-case",
            "Ok",
            "--offline",
        ],
        env=env(store),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    server = serve(store, "--once")
    server.communicate(timeout=60)
    with Store.open(store) as db:
        record = db.get_execution("routed")
        assert (record.status, record.output) == ("SUCCEEDED", {"MessageId": "m-7"})


def test_asl_stop_aborts_an_execution_another_process_runs(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    start(
        tmp_path,
        store,
        "long",
        {
            "StartAt": "Nap",
            "States": {"Nap": {"Type": "Wait", "Seconds": 600, "End": True}},
        },
    )
    server = serve(store)
    try:
        wait_for(lambda: any(e["type"] == "WaitStateEntered" for e in history(store, "long")), 20)
        stopped = subprocess.run(
            [*ASL, "stop", "long", "--error", "Operator.Stop", "--cause", "maintenance"],
            env=env(store),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert stopped.returncode == 0, stopped.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    events = history(store, "long")
    assert [e["type"] for e in events][-2:] == ["WaitStateAborted", "ExecutionAborted"]
    assert events[-1]["executionAbortedEventDetails"] == {
        "error": "Operator.Stop",
        "cause": "maintenance",
    }
    with Store.open(store) as db:
        assert db.get_execution("long").status == "ABORTED"


def test_asl_stop_aborts_an_orphaned_execution_itself(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    start(tmp_path, store, "orphan", WAIT_5)
    stopped = subprocess.run(
        [*ASL, "stop", "orphan"],
        env=env(store),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert stopped.returncode == 0, stopped.stderr
    assert [e["type"] for e in history(store, "orphan")] == ["ExecutionAborted"]
    again = subprocess.run(
        [*ASL, "stop", "orphan"],
        env=env(store),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 1
    assert "not RUNNING" in again.stderr


def test_a_queued_execution_starts_at_its_start_date(tmp_path: Path) -> None:
    """AWS dates ExecutionStarted at the execution's startDate, whoever runs it later."""
    store = tmp_path / "s.db"
    start(
        tmp_path, store, "queued", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    done = subprocess.run(
        [*ASL, "serve", "--once", "--poll-seconds", "0.05"],
        env=env(store),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with Store.open(store) as db:
        record = db.get_execution("queued")
        events = db.history(record.arn)
    assert record.status == "SUCCEEDED"
    assert events[0]["type"] == "ExecutionStarted"
    assert events[0]["timestamp"] == iso_timestamp(record.start_time)


def test_a_server_paused_past_its_lease_stops_when_it_wakes_after_a_takeover(
    tmp_path: Path,
) -> None:
    """SIGSTOP one server mid-Wait; a second one takes the execution over and ends it. Woken
    by SIGCONT, the first one finds its lease taken (fenced) and writes nothing."""
    store = tmp_path / "store.db"
    start(tmp_path, store, "nap", WAIT_5)
    lease = ("--lease-seconds", "1")
    first = subprocess.Popen(
        [*ASL, "serve", *lease, "--poll-seconds", "0.1"],
        env=env(store),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: any(e["type"] == "WaitStateEntered" for e in history(store, "nap")), 30)
        first.send_signal(signal.SIGSTOP)
        wait_for(lambda: lease_holder(store, "nap") is None, 30)  # its lease ran out
        second = serve(store, *lease, "--once")
        _out, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
        ended = len(history(store, "nap"))
        first.send_signal(signal.SIGCONT)
        # Its Wait deadline and its lease renewal are both past: it notices at once.
        assert first.stderr is not None
        said = ""
        # Its log: "started nap", then "ended nap RUNNING: ...". Read the pipe's bytes
        # (a buffered readline could hold both lines while select waits for more).
        while "ended" not in said:
            ready, _, _ = select.select([first.stderr], [], [], 60)
            chunk = os.read(first.stderr.fileno(), 65536).decode() if ready else ""
            if not chunk:  # timed out, or it exited: say what it said and how it ended
                first.send_signal(signal.SIGTERM)
                _out, rest = first.communicate(timeout=30)
                raise AssertionError(f"exit {first.returncode}: {said}{rest}")
            said += chunk
        first.send_signal(signal.SIGTERM)
        _out, rest = first.communicate(timeout=30)
        first_err = said + rest
    finally:
        if first.poll() is None:
            first.send_signal(signal.SIGCONT)
            first.kill()
            first.communicate(timeout=10)
    assert "taken over" in first_err, first_err
    events = history(store, "nap")
    assert len(events) == ended == 8
    assert events[-1]["type"] == "ExecutionSucceeded"
