"""``asl schedule`` and ``asl serve`` firing schedules: the commands, their one-line
errors, the virtual-clock simulation, and kill -9 during seconds-scale firings."""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime.cli.schedule import main
from runtime.durable.store import Store

ASL = [sys.executable, "-m", "runtime.cli"]
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "store.db"
    monkeypatch.setenv("ASL_STORE", str(path))
    (tmp_path / "job.asl.json").write_text(json.dumps(PASS))
    monkeypatch.chdir(tmp_path)
    return path


def asl(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def create(capsys: pytest.CaptureFixture[str], name: str, expression: str, *extra: str) -> None:
    code, _, err = asl(
        capsys,
        "create",
        "--name",
        name,
        "--expression",
        expression,
        "--state-machine",
        "job.asl.json",
        "--offline",
        *extra,
    )
    assert code == 0, err


def test_create_describe_list_update_pause_resume_delete(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = asl(
        capsys,
        "create",
        "--name",
        "nightly",
        "--expression",
        "cron(30 2 * * ? *)",
        "--timezone",
        "Europe/Paris",
        "--start-date",
        "2030-01-01T00:00:00Z",
        "--state-machine",
        "job.asl.json",
        "--input",
        '{"at": "<aws.scheduler.scheduled-time>"}',
        "--flexible-window",
        "15",
        "--max-retry-attempts",
        "3",
        "--offline",
    )
    assert code == 0
    assert json.loads(out) == {
        "ScheduleArn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly"
    }
    described = json.loads(asl(capsys, "describe", "nightly")[1])
    assert described["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert described["StartDate"] == "2030-01-01T00:00:00Z"
    assert described["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert described["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 3
    assert described["Target"]["Arn"].endswith(":stateMachine:job")
    assert asl(capsys, "update", "nightly", "--expression", "rate(1 hour)")[0] == 0
    assert asl(capsys, "pause", "nightly")[0] == 0
    assert asl(capsys, "list")[1].split("\t")[:3] == ["nightly", "DISABLED", "rate(1 hour)"]
    assert asl(capsys, "resume", "nightly")[0] == 0
    listed = json.loads(asl(capsys, "list", "--json")[1])["Schedules"]
    assert [(s["Name"], s["State"]) for s in listed] == [("nightly", "ENABLED")]
    assert asl(capsys, "delete", "nightly")[0] == 0
    assert asl(capsys, "list")[1] == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["create", "--name", "x", "--expression", "cron(0 25 * * ? *)"],
            "hours field '25': 25 is outside 0-23",
        ),
        (
            ["create", "--name", "x", "--expression", "cron(0 9 ? * MON#7 *)"],
            "day-of-week field 'MON#7'",
        ),
        (
            ["create", "--name", "x", "--expression", "rate(1 minute)", "--timezone", "Mars/Base"],
            "invalid ScheduleExpressionTimezone 'Mars/Base'",
        ),
        (["describe", "nope"], "Schedule nope does not exist."),
        (["runs", "nope"], "Schedule nope does not exist."),
        (["simulate", "nope", "--until", "2030-01-01"], "Schedule nope does not exist."),
        (["pause", "nope"], "Schedule nope does not exist."),
    ],
)
def test_errors_are_one_clear_line(
    store: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    if argv[0] == "create":
        argv = [*argv, "--state-machine", "job.asl.json"]
    code, _, err = asl(capsys, *argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_name_is_created_once(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    create(capsys, "daily", "rate(1 day)")
    code = main(
        [
            "create",
            "--name",
            "daily",
            "--expression",
            "rate(1 day)",
            "--state-machine",
            "job.asl.json",
        ]
    )
    assert code == 2
    assert "Schedule daily already exists." in capsys.readouterr().err


def test_simulate_a_year_of_firings_as_json(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create(capsys, "weekly", "cron(0 9 ? * 2 *)", "--timezone", "America/New_York")
    code, out, _ = asl(
        capsys,
        "simulate",
        "weekly",
        "--from",
        "2026-01-01T00:00:00Z",
        "--until",
        "2026-12-31T23:59:59Z",
        "--json",
    )
    assert code == 0
    items = json.loads(out)
    assert len(items) == 52  # the Mondays of 2026
    assert items[0] == {"time": "2026-01-05T14:00:00Z", "execution": "weekly-20260105T140000Z"}
    # 9:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer
    assert {item["time"][11:] for item in items} == {"14:00:00Z", "13:00:00Z"}


def test_simulate_runs_each_execution_offline(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create(
        capsys,
        "daily",
        "cron(0 6 * * ? *)",
        "--input",
        '{"time": "<aws.scheduler.scheduled-time>", "attempt": <aws.scheduler.attempt-number>}',
    )
    code, out, _ = asl(
        capsys,
        "simulate",
        "daily",
        "--from",
        "2026-01-01T00:00:00Z",
        "--until",
        "2026-12-31T23:59:59Z",
        "--run",
        "--json",
    )
    assert code == 0
    items = json.loads(out)
    assert len(items) == 365
    assert {item["status"] for item in items} == {"SUCCEEDED"}
    assert items[40]["output"] == {"time": items[40]["time"], "attempt": 1}


def test_runs_lists_what_serve_started(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from runtime.schedules.firing import fire_due

    create(capsys, "soon", "at(2030-01-01T00:00:00)")
    with Store.open(store) as db:
        moment = 1_893_456_000  # 2030-01-01T00:00:00Z
        fire_due(db, moment, serving_since=moment)
    code, out, _ = asl(capsys, "runs", "soon", "--json")
    assert code == 0
    [run] = json.loads(out)
    assert run["time"] == "2030-01-01T00:00:00Z"
    assert run["executionArn"].endswith(":execution:job:soon-20300101T000000Z")
    assert run["executionStatus"] == "RUNNING"


# -- real processes on the real clock ----------------------------------------------------


def serve(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*ASL, "serve", "--lease-seconds", "2", "--poll-seconds", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_of_serve_during_second_rate_firings_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store.db"
    machine = tmp_path / "job.asl.json"
    machine.write_text(json.dumps(PASS))
    env = dict(os.environ, ASL_STORE=str(store), ASL_SCHEDULER_TEST_MODE="1")
    begin = math.ceil(time.time()) + 2
    count = 10
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(begin))
    stop = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(begin + count))
    created = subprocess.run(
        [
            *ASL,
            "schedule",
            "create",
            "--name",
            "tick",
            "--expression",
            "rate(1 second)",
            "--start-date",
            stamp,
            "--end-date",
            stop,
            "--state-machine",
            str(machine),
            "--offline",
            "--input",
            '{"t": "<aws.scheduler.scheduled-time>"}',
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    # Two serve processes on one store, each killed with SIGKILL and restarted at random
    # moments (at times both are down): every firing is started once, none twice.
    servers = [serve(env), serve(env)]
    chance = random.Random(7)
    try:
        while time.time() < begin + count + 1:
            time.sleep(chance.uniform(0.2, 0.8))
            which = chance.randrange(2)
            servers[which].send_signal(signal.SIGKILL)
            servers[which].communicate(timeout=10)
            servers[which] = serve(env)
    finally:
        for server in servers:
            server.send_signal(signal.SIGKILL)
            server.communicate(timeout=10)
    finish = subprocess.run(
        [*ASL, "serve", "--once", "--poll-seconds", "0.1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finish.returncode == 0, finish.stderr
    expected = sorted(
        "tick-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(begin + i)) for i in range(count)
    )
    with Store.open(store) as db:
        executions = db.list_executions(limit=None)
        firings = db.schedule_firings("tick")
    assert sorted(e.name for e in executions) == expected
    assert {e.status for e in executions} == {"SUCCEEDED"}
    assert sorted(f.scheduled_time for f in firings) == [begin + i for i in range(count)]
    assert {f.status for f in firings} == {"STARTED"}
