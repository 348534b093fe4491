"""A fleet of ``asl serve`` processes on one PostgreSQL database, under fire.

:func:`run_fleet` stores ``executions`` executions of :data:`MACHINE` (a Wait, a Task that
is throttled once and retried, an activity answered by a worker) RUNNING, starts
``servers`` ``asl serve`` processes on the same database, each with its local endpoint,
and worker threads: the workers of server *i* take activity tasks from it and send
SendTaskSuccess to server *i + 1* (so every answer is relayed through the store to the
server that runs the execution). With ``chaos``, once a third of the executions ended
server 0 is killed with SIGKILL (and stays dead: its executions are taken over when their
leases expire), and at two thirds server 1 is stopped and started again. Then every
execution is checked: SUCCEEDED once (one closing event; one "ended SUCCEEDED" line
across every server's log), the right output, and a complete history without
duplicates. :func:`throughput` measures executions/s and transitions/s of a Wait-free
workload with 1, 2 and 3 servers.

    python -m bench.fleet --executions 3000           # the issue's run (a few minutes)
    python -m bench.fleet --executions 300 --url postgresql://...   # an existing database
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MACHINE", "FleetResult", "run_fleet", "throughput"]

ROOT = Path(__file__).resolve().parent.parent
ASL = [sys.executable, "-m", "runtime.cli"]
_ARN = "arn:aws:states:us-east-1:123456789012"
ACTIVITY = f"{_ARN}:activity:review"
MACHINE: dict[str, Any] = {
    "Comment": "A Wait, a throttled-once Task retried, an activity answered from outside",
    "StartAt": "Start",
    "States": {
        "Start": {
            "Type": "Pass",
            "Parameters": {"n.$": "$.n", "nap.$": "States.MathAdd(1, $.i)"},
            "Next": "Nap",
        },
        "Nap": {"Type": "Wait", "SecondsPath": "$.nap", "Next": "Flaky"},
        "Flaky": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "flaky", "Payload.$": "$"},
            "ResultSelector": {"ok.$": "$.Payload.ok"},
            "ResultPath": "$.flaky",
            "Retry": [
                {
                    "ErrorEquals": ["Lambda.TooManyRequestsException"],
                    "IntervalSeconds": 1,
                    "BackoffRate": 1,
                    "MaxAttempts": 3,
                }
            ],
            "Next": "Review",
        },
        "Review": {
            "Type": "Task",
            "Resource": ACTIVITY,
            "TimeoutSeconds": 900,
            "ResultPath": "$.review",
            # A worker had taken the task when its server died: the resumed execution
            # cannot know whether the work was done (runtime.engine.replay), so the
            # attempt fails with States.TaskFailed and is retried under a new token.
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1}],
            "Next": "Done",
        },
        "Done": {
            "Type": "Pass",
            "Parameters": {"n.$": "$.n", "flaky.$": "$.flaky.ok", "doubled.$": "$.review.doubled"},
            "End": True,
        },
    },
}
MOCKS: dict[str, Any] = {
    "StateMachines": {"fleet": {"TestCases": {"Fleet": {"Flaky": "ThrottledOnce"}}}},
    "MockedResponses": {
        "ThrottledOnce": {
            "0": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "Rate Exceeded."}},
            "1": {"Return": {"StatusCode": 200, "Payload": {"ok": "yes"}}},
        }
    },
}
#: The states an execution of MACHINE enters, in order, once each.
PATH = ["Start", "Nap", "Flaky", "Review", "Done"]

_LOOPS = 24
#: The Wait-free workload of :func:`throughput`: 50 transitions (as bench.serve_load's).
WORK: dict[str, Any] = {
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.i", "NumericLessThan": _LOOPS, "Next": "Bump"}],
            "Default": "Done",
        },
        "Bump": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Check"},
        "Done": {"Type": "Succeed"},
    },
}
WORK_TRANSITIONS = 2 * _LOOPS + 2


@dataclass
class FleetResult:
    """What a fleet run did and what the checks found (``problems`` empty: all good)."""

    executions: int
    servers: int
    seconds: float
    statuses: dict[str, int]
    transitions: int
    events: int
    killed: bool
    restarted: bool
    #: Executions whose lease moved from one server to another (takeovers).
    taken_over: int
    #: Answers relayed through the store (sent to a server not running the execution).
    relayed: int
    problems: list[str] = field(default_factory=list)

    @property
    def executions_per_s(self) -> float:
        return self.executions / self.seconds if self.seconds else 0.0

    @property
    def transitions_per_s(self) -> float:
        return self.transitions / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def store_executions(
    url: str, machine: dict[str, Any], name: str, count: int, options: dict[str, Any]
) -> list[str]:
    """Store ``count`` RUNNING executions (input ``{"n": k, "i": 0}``, ``i`` = k mod 3 for
    :data:`MACHINE`, whose Wait lasts 1 + i seconds); their ARNs."""
    from runtime.durable.store import ExecutionInfo, Store

    arns = []
    now = time.time()
    with Store.open(url) as store:
        for k in range(count):
            exec_name = f"{name}-{k:05d}"
            info = ExecutionInfo(
                arn=f"{_ARN}:execution:{name}:{exec_name}",
                name=exec_name,
                state_machine_arn=f"{_ARN}:stateMachine:{name}",
                state_machine_name=name,
                definition=machine,
                options=options,
            )
            first = k % 3 if machine is MACHINE else 0
            store.begin_execution(info, {"n": k, "i": first}, now + k * 1e-6)
            arns.append(info.arn)
    return arns


class _Server:
    """One ``asl serve`` process with its endpoint port and log file."""

    def __init__(self, index: int, url: str, folder: Path, lease: float, max_running: int):
        self.index = index
        self.url = url
        self.port = _free_port()
        self.log = folder / f"serve-{index}.log"
        self.lease = lease
        self.max_running = max_running
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("ASL_ENDPOINT_SECRET", None)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    *ASL,
                    "serve",
                    "--store",
                    self.url,
                    "--endpoint-port",
                    str(self.port),
                    "--lease-seconds",
                    str(self.lease),
                    "--poll-seconds",
                    "0.2",
                    "--max-running",
                    str(self.max_running),
                    "--json-log",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=ROOT,
            )

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)

    def ended_lines(self) -> list[dict[str, Any]]:
        records = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if record.get("event") == "ended":
                    records.append(record)
        return records


class _Workers:
    """Threads taking activity tasks from each server and answering through the next."""

    def __init__(self, servers: list[_Server], per_server: int) -> None:
        self.servers = servers
        self.per_server = per_server
        self.stopping = threading.Event()
        self.relayed = 0
        self.errors: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._work, args=(s,), daemon=True)
            for s in range(len(servers))
            for _ in range(per_server)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _client(self, server: _Server) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "stepfunctions",
            endpoint_url=f"http://127.0.0.1:{server.port}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 1}, read_timeout=70, connect_timeout=2),
        )

    def _work(self, index: int) -> None:
        clients = [self._client(s) for s in self.servers]
        source = clients[index]
        while not self.stopping.is_set():
            try:
                task = source.get_activity_task(activityArn=ACTIVITY, workerName=f"w{index}")
            except Exception as exc:  # the server is down (killed, restarting)
                self._note(type(exc).__name__)
                self.stopping.wait(0.2)
                continue
            token = task.get("taskToken")
            if not token:
                continue
            n = json.loads(task["input"])["n"]
            output = json.dumps({"doubled": 2 * n})
            for step in range(1, len(clients) + 1):  # the next server first
                target = (index + step) % len(clients)
                try:
                    clients[target].send_task_success(taskToken=token, output=output)
                except Exception as exc:
                    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
                    self._note(code or type(exc).__name__)
                    if code in ("TaskTimedOut", "TaskDoesNotExist"):
                        break  # answered already (a takeover re-queued it), or ended
                    continue
                if target != index:
                    with self._lock:
                        self.relayed += 1
                break

    def _note(self, what: str) -> None:
        with self._lock:
            self.errors[what] += 1

    def stop(self) -> None:
        self.stopping.set()


def _statuses(url: str, name: str) -> Counter[str]:
    from runtime.durable.store import Store

    with Store.open(url) as store:
        rows = store._read(
            "SELECT status, count(*) FROM executions WHERE state_machine_name = ? GROUP BY status",
            (name,),
        )
    return Counter({str(s): int(c) for s, c in rows})


def run_fleet(
    url: str,
    executions: int,
    *,
    servers: int = 3,
    chaos: bool = True,
    lease_seconds: float = 10.0,
    workers_per_server: int = 4,
    max_running: int = 200,
    timeout: float = 1800.0,
    folder: Path | None = None,
) -> FleetResult:
    """Run the fleet (see the module docstring) and check every execution."""
    work = Path(folder or tempfile.mkdtemp(prefix="asl-fleet-"))
    mocks = work / "fleet-mocks.json"
    mocks.write_text(json.dumps(MOCKS))
    options = {
        "clock": "real",
        "mock_config": str(mocks),
        "test_case": "Fleet",
        "offline": True,
    }
    arns = store_executions(url, MACHINE, "fleet", executions, options)
    fleet = [_Server(i, url, work, lease_seconds, max_running) for i in range(servers)]
    workers = _Workers(fleet, workers_per_server)
    began = time.perf_counter()
    for server in fleet:
        server.start()
    workers.start()
    killed = restarted = False
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = _statuses(url, "fleet")
            finished = executions - counts.get("RUNNING", 0)
            if finished >= executions:
                break
            if chaos and not killed and finished >= executions / 3:
                fleet[0].kill()
                killed = True
            if chaos and not restarted and servers > 1 and finished >= 2 * executions / 3:
                fleet[1].stop()
                fleet[1].start()
                restarted = True
            time.sleep(0.25)
        seconds = time.perf_counter() - began
    finally:
        workers.stop()
        for server in fleet:
            server.stop()
    result = _check(url, arns, fleet, seconds, killed, restarted)
    result.relayed = workers.relayed
    return result


def _check(
    url: str, arns: list[str], fleet: list[_Server], seconds: float, killed: bool, restarted: bool
) -> FleetResult:
    from runtime.durable.store import Store

    problems: list[str] = []
    ended = Counter(
        r["execution"] for s in fleet for r in s.ended_lines() if r.get("status") == "SUCCEEDED"
    )
    statuses: Counter[str] = Counter()
    transitions = events = 0
    with Store.open(url) as store:
        fences = dict(store._read("SELECT execution_arn, generation FROM lease_fences", ()))
        for k, arn in enumerate(arns):
            record = store.get_execution(arn)
            statuses[record.status] += 1
            history = store.history(arn)
            events += len(history)
            where = f"{record.name}:"
            if record.status != "SUCCEEDED":
                problems.append(f"{where} {record.status} {record.error}: {record.cause}")
                continue
            expected = {"n": k, "flaky": "yes", "doubled": 2 * k}
            if record.output != expected:
                problems.append(f"{where} output {record.output} (expected {expected})")
            ids = [e["id"] for e in history]
            if ids != list(range(1, len(ids) + 1)):
                problems.append(f"{where} event ids are not 1..{len(ids)}")
            if any(e["previousEventId"] >= e["id"] for e in history):
                problems.append(f"{where} an event follows a later one")
            types = [e["type"] for e in history]
            if types.count("ExecutionStarted") != 1 or types[0] != "ExecutionStarted":
                problems.append(f"{where} ExecutionStarted is not once and first")
            closing = [t for t in types if t.startswith("Execution") and t != "ExecutionStarted"]
            if closing != ["ExecutionSucceeded"] or types[-1] != "ExecutionSucceeded":
                problems.append(f"{where} closing events {closing}")
            entered = [
                e["stateEnteredEventDetails"]["name"]
                for e in history
                if e["type"].endswith("Entered")
            ]
            transitions += len(entered)
            if entered != PATH:
                problems.append(f"{where} states entered {entered}")
            if types.count("TaskFailed") != 1:
                problems.append(f"{where} {types.count('TaskFailed')} TaskFailed (expected 1)")
            if ended[arn] != 1:
                problems.append(f"{where} ended SUCCEEDED {ended[arn]} times in the serve logs")
    taken_over = sum(1 for arn in arns if int(fences.get(arn, 0)) > 1)
    return FleetResult(
        executions=len(arns),
        servers=len(fleet),
        seconds=seconds,
        statuses=dict(statuses),
        transitions=transitions,
        events=events,
        killed=killed,
        restarted=restarted,
        taken_over=taken_over,
        relayed=0,
        problems=problems,
    )


@dataclass(frozen=True, slots=True)
class ThroughputFigure:
    """Executions of :data:`WORK` run by ``servers`` ``asl serve`` on one store."""

    backend: str
    servers: int
    executions: int
    seconds: float
    executions_per_s: float
    transitions_per_s: float


def throughput(
    url: str, backend: str, servers: int, executions: int, max_running: int = 100
) -> ThroughputFigure:
    """Store ``executions`` of :data:`WORK`, start ``servers`` servers, time until all
    succeeded (from the servers' start; their start-up is included, as for a user)."""
    name = f"work{servers}"
    store_executions(url, WORK, name, executions, {"clock": "real", "offline": True})
    folder = Path(tempfile.mkdtemp(prefix="asl-fleet-"))
    fleet = [_Server(i, url, folder, 30.0, max_running) for i in range(servers)]
    began = time.perf_counter()
    for server in fleet:
        server.start()
    try:
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            if _statuses(url, name).get("SUCCEEDED", 0) >= executions:
                break
            time.sleep(0.1)
        seconds = time.perf_counter() - began
    finally:
        for server in fleet:
            server.stop()
    return ThroughputFigure(
        backend,
        servers,
        executions,
        seconds,
        executions / seconds,
        executions * WORK_TRANSITIONS / seconds,
    )


def measure_fleet(executions: int, progress: Any = None) -> dict[str, Any]:
    """``make bench``'s figures: :func:`throughput` with 1, 2 and 3 servers on one
    PostgreSQL database (a throwaway cluster, a new database each), beside SQLite with
    one server. ``{"skipped": reason}`` without PostgreSQL's binaries."""
    from bench.pgcluster import cluster, why_unavailable

    if executions <= 0:
        return {}
    reason = why_unavailable()
    figures: list[ThroughputFigure] = []
    if reason is None:
        with cluster() as running:
            for servers in (1, 2, 3):
                if progress is not None:
                    progress(f"fleet: {executions:,} executions, {servers} server(s), PostgreSQL")
                figures.append(throughput(running.database(), "postgresql", servers, executions))
    if progress is not None:
        progress(f"fleet: {executions:,} executions, 1 server, SQLite")
    with tempfile.TemporaryDirectory(prefix="asl-fleet-") as folder:
        figures.append(throughput(str(Path(folder) / "s.db"), "sqlite", 1, executions))
    return {"figures": figures, "skipped": reason}


def render(console: Any, measured: dict[str, Any]) -> None:
    """The table of :func:`measure_fleet` (and the line saying why PostgreSQL was skipped)."""
    if not measured:
        return
    from rich.table import Table

    table = Table(title="asl serve fleet: one store, a Wait-free 50-transition workload")
    for column in ("store", "servers", "executions", "seconds", "executions/s", "transitions/s"):
        table.add_column(column, justify="left" if column == "store" else "right")
    for f in measured["figures"]:
        table.add_row(
            f.backend,
            str(f.servers),
            f"{f.executions:,}",
            f"{f.seconds:.1f}",
            f"{f.executions_per_s:,.1f}",
            f"{f.transitions_per_s:,.0f}",
        )
    console.print(table)
    if measured.get("skipped"):
        console.print(f"fleet: PostgreSQL skipped: {measured['skipped']}", highlight=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__)
    parser.add_argument("--executions", type=int, default=3000)
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a throwaway one)")
    parser.add_argument("--no-chaos", action="store_true", help="kill and restart nothing")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C: the servers and the throwaway cluster are stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if args.url:
        result = run_fleet(args.url, args.executions, servers=args.servers, chaos=not args.no_chaos)
    else:
        from bench.pgcluster import cluster

        with cluster() as running:
            result = run_fleet(
                running.database(), args.executions, servers=args.servers, chaos=not args.no_chaos
            )
    print(
        f"{result.executions} executions on {result.servers} servers in {result.seconds:.1f} s "
        f"({result.executions_per_s:.1f} executions/s, {result.transitions_per_s:.1f} "
        f"transitions/s, {result.events} events); killed: {result.killed}, restarted: "
        f"{result.restarted}, taken over: {result.taken_over}, answers relayed: "
        f"{result.relayed}; statuses {result.statuses}"
    )
    for problem in result.problems[:50]:
        print("PROBLEM", problem)
    print("OK" if not result.problems else f"{len(result.problems)} PROBLEMS")
    return 0 if not result.problems else 1


if __name__ == "__main__":
    sys.exit(main())
