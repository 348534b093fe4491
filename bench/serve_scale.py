"""``asl serve`` under load: short executions beside a long CPU-bound one, and
throughput with ``--workers 1`` and ``--workers 2``.

Latency (:func:`latency`, in this process): one :func:`runtime.durable.serve.serve` on a
temporary store runs :data:`LONG` executions one after another (a Choice/Pass loop of
:data:`LONG_TRANSITIONS` transitions each, the most a Standard history of 25,000 events
holds) until ``long_transitions`` transitions in all; meanwhile a :data:`SHORT`
execution (10 Pass states) is stored every :data:`SHORT_EVERY` seconds and serve is
nudged, as ``asl serve --api``'s StartExecution does. A short execution's latency is from
storing it until serve logs its end (its closing event committed). Every event of both
is committed (group commit).

Throughput (:func:`throughput`, subprocesses): ``count`` SHORT executions are stored
unrun, then ``asl serve --workers N --once --json-log`` runs them all; executions/s is
``count`` over the time from the first execution started to the last ended (from the
JSON log), so process start-up is not counted.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

__all__ = [
    "LONG",
    "SHORT",
    "LatencyFigure",
    "ThroughputFigure",
    "latency",
    "long_machine",
    "measure_latency",
    "render",
    "throughput",
]

ROOT = Path(__file__).resolve().parent.parent
_ARN = "arn:aws:states:us-east-1:123456789012"
_OPTIONS = {"clock": "real", "offline": True}
_LOOPS = 6_200
#: Transitions of one LONG execution: (Check, Bump) x loops + Check + Done.
LONG_TRANSITIONS = 2 * _LOOPS + 2


def long_machine(loops: int = _LOOPS) -> dict[str, Any]:
    """A CPU-bound Choice/Pass loop of ``2 * loops + 2`` transitions."""
    return {
        "Comment": "A CPU-bound Choice/Pass loop as long as a Standard history allows",
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.i", "NumericLessThan": loops, "Next": "Bump"}],
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


LONG = long_machine()
SHORT = {
    "Comment": "Ten Pass states",
    "StartAt": "P0",
    "States": {
        **{f"P{k}": {"Type": "Pass", "Next": f"P{k + 1}"} for k in range(9)},
        "P9": {"Type": "Pass", "End": True},
    },
}
#: How often a short execution is started while the long ones run.
SHORT_EVERY = 0.025


@dataclass(frozen=True, slots=True)
class LatencyFigure:
    """Short executions started while long CPU-bound ones ran in the same serve."""

    short: int
    long_transitions: int
    long_executions: int
    #: Latency of the short executions (store → end logged), milliseconds.
    p50_ms: float
    p99_ms: float
    max_ms: float
    #: Wall seconds of the long run, and its transitions per second.
    long_s: float
    long_transitions_per_s: float
    #: CPU seconds of the process over the run, per wall second.
    cpu_per_s: float
    statuses: dict[str, int]
    #: The host's 1-minute load average at the end (2 cores: above ~1, the short
    #: executions also wait for other processes).
    load: float = 0.0
    #: The same latencies counted in this process's CPU time (what it spent while the
    #: short one waited): the wall latency on a core of its own, whatever the load.
    cpu_p50_ms: float = 0.0
    cpu_p99_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class ThroughputFigure:
    """``asl serve --workers N --once`` over ``count`` short executions."""

    workers: int
    count: int
    seconds: float
    executions_per_s: float
    #: Distinct worker processes that ran at least one execution.
    processes: int
    failed: int
    #: Executions/s while every worker ran (from the last worker's first start to the
    #: first worker's last end): a later worker's start-up is not counted against N.
    together_per_s: float
    #: CPU of all the serve processes (start-up included) per execution, milliseconds.
    cpu_ms: float
    #: The host's 1-minute load average when the run ended (cores busy with other work).
    load: float


def _info(name: str, machine: str, definition: Any) -> Any:
    from runtime.durable.store import ExecutionInfo

    return ExecutionInfo(
        arn=f"{_ARN}:execution:{machine}:{name}",
        name=name,
        state_machine_arn=f"{_ARN}:stateMachine:{machine}",
        state_machine_name=machine,
        definition=definition,
        options=_OPTIONS,
    )


async def latency(short: int, long_transitions: int, folder: Path | None = None) -> LatencyFigure:
    """Measure short executions, one every SHORT_EVERY (at most ``short``), beside
    ``long_transitions`` of long ones, until those end."""
    from runtime.durable.serve import Nudge, serve
    from runtime.durable.store import Store

    loops = max(1, min(_LOOPS, (long_transitions - 2) // 2))
    each = 2 * loops + 2
    longs = max(1, -(-long_transitions // each))
    definition = long_machine(loops)
    stored: dict[str, float] = {}
    stored_cpu: dict[str, float] = {}
    latencies: list[float] = []
    cpu_latencies: list[float] = []
    long_done = anyio.Event()
    long_count = [0]
    nudge = Nudge()
    with (
        tempfile.TemporaryDirectory(prefix="asl-serve-scale-", dir=folder) as tmp,
        Store.open(Path(tmp) / "store.db") as store,
    ):

        def start_long() -> None:
            name = f"long-{long_count[0]:04d}"
            long_count[0] += 1
            store.begin_execution(_info(name, "Long", definition), {"i": 0}, time.time())
            nudge.set()

        def log(record: dict[str, Any]) -> None:
            if record["event"] != "ended":
                return
            name = record["name"]
            if name.startswith("short-"):
                latencies.append(time.perf_counter() - stored[name])
                cpu_latencies.append(time.process_time() - stored_cpu[name])
            elif long_count[0] < longs:
                start_long()
            else:
                long_done.set()

        stop = anyio.Event()
        cpu, started = time.process_time(), time.perf_counter()
        async with anyio.create_task_group() as group:
            group.start_soon(
                lambda: serve(store, poll_seconds=1.0, stop=stop, nudge=nudge, log=log)
            )
            start_long()
            await anyio.sleep(SHORT_EVERY)  # the long one is running
            for k in range(short):  # until the long ones end (at most ``short``)
                if long_done.is_set() and k:
                    break
                name = f"short-{k:05d}"
                stored[name], stored_cpu[name] = time.perf_counter(), time.process_time()
                store.begin_execution(_info(name, "Short", SHORT), {}, time.time())
                nudge.set()
                await anyio.sleep(SHORT_EVERY)
            await long_done.wait()
            long_s = time.perf_counter() - started
            while len(latencies) < len(stored):
                await anyio.sleep(0.01)
            stop.set()
        cpu_s = time.process_time() - cpu
        rows = store._read("SELECT status, count(*) FROM executions GROUP BY status", ())
    ms = sorted(1000 * x for x in latencies)
    return LatencyFigure(
        short=len(ms),
        long_transitions=longs * each,
        long_executions=longs,
        p50_ms=statistics.median(ms) if ms else 0.0,
        p99_ms=ms[min(len(ms) - 1, int(0.99 * len(ms)))] if ms else 0.0,
        max_ms=ms[-1] if ms else 0.0,
        long_s=long_s,
        long_transitions_per_s=longs * each / long_s,
        cpu_per_s=cpu_s / (time.perf_counter() - started),
        statuses={str(s): int(n) for s, n in rows},
        load=os.getloadavg()[0],
        cpu_p50_ms=_quantile(cpu_latencies, 0.5),
        cpu_p99_ms=_quantile(cpu_latencies, 0.99),
    )


def _quantile(seconds: list[float], q: float) -> float:
    """The ``q`` quantile of ``seconds``, in milliseconds (as the p99 above: nearest rank)."""
    ms = sorted(1000 * x for x in seconds)
    if not ms:
        return 0.0
    return statistics.median(ms) if q == 0.5 else ms[min(len(ms) - 1, int(q * len(ms)))]


def measure_latency(short: int, long_transitions: int, timeout: float = 1800.0) -> LatencyFigure:
    """Run :func:`latency` in a fresh interpreter and return its figure."""
    argv = [sys.executable, "-m", "bench.serve_scale", "latency", str(short), str(long_transitions)]
    done = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.serve_scale failed: {done.stderr.strip()[-500:]}")
    return LatencyFigure(**json.loads(done.stdout.strip().splitlines()[-1]))


def throughput(workers: int, count: int, folder: Path | None = None) -> ThroughputFigure:
    """``asl serve --workers N --once`` over ``count`` stored short executions."""
    from runtime.durable.store import Store

    with tempfile.TemporaryDirectory(prefix="asl-serve-workers-", dir=folder) as tmp:
        path = Path(tmp) / "store.db"
        with Store.open(path) as store:
            now = time.time()
            for k in range(count):
                store.begin_execution(_info(f"short-{k:06d}", "Short", SHORT), {}, now)
        argv = [sys.executable, "-m", "runtime.cli", "serve", "--store", str(path), "--once"]
        argv += ["--json-log", "--workers", str(workers), "--poll-seconds", "0.05"]
        env = {**os.environ, "ASL_STORE": str(path)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            argv, cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False, env=env
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        if done.returncode != 0:
            raise RuntimeError(f"asl serve --workers {workers} failed: {done.stderr[-500:]}")
        records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
        with Store.open(path) as store:
            failed = count - len(store.list_executions(status="SUCCEEDED", limit=None))
    starts = [r["time"] for r in records if r["event"] == "started"]
    ends = [r["time"] for r in records if r["event"] == "ended"]
    seconds = max(ends) - min(starts) if starts and ends else 0.0
    return ThroughputFigure(
        together_per_s=_together(records),
        cpu_ms=1000 * cpu / count if count else 0.0,
        load=os.getloadavg()[0],
        workers=workers,
        count=count,
        seconds=seconds,
        executions_per_s=count / seconds if seconds > 0 else 0.0,
        processes=len({r["pid"] for r in records if "pid" in r}) or workers,
        failed=failed,
    )


def _together(records: list[dict[str, Any]]) -> float:
    """Executions ended per second while every worker process was running them."""
    spans: dict[int, list[float]] = {}
    for record in records:
        first_last = spans.setdefault(record["pid"], [record["time"], record["time"]])
        first_last[0] = min(first_last[0], record["time"])
        first_last[1] = max(first_last[1], record["time"])
    if not spans:
        return 0.0
    since = max(first for first, _ in spans.values())
    until = min(last for _, last in spans.values())
    ended = sum(1 for r in records if r["event"] == "ended" and since <= r["time"] <= until)
    return ended / (until - since) if until > since else 0.0


def render(console: Any, latencies: list[LatencyFigure], rates: list[ThroughputFigure]) -> None:
    """The two tables of ``make bench``."""
    from rich.table import Table

    if latencies:
        table = Table(title="asl serve: short executions beside a long one", title_justify="left")
        for header in ("short", "long transitions", "p50 ms", "p99 ms", "max ms", "long tr/s"):
            table.add_column(header, justify="right")
        table.add_column("CPU p50/p99 ms", justify="right")
        table.add_column("CPU/s", justify="right")
        table.add_column("load", justify="right")
        for fig in latencies:
            table.add_row(
                f"{fig.short:,}",
                f"{fig.long_transitions:,} ({fig.long_executions} executions)",
                f"{fig.p50_ms:.1f}",
                f"{fig.p99_ms:.1f}",
                f"{fig.max_ms:.1f}",
                f"{fig.long_transitions_per_s:,.0f}",
                f"{fig.cpu_p50_ms:.1f} / {fig.cpu_p99_ms:.1f}",
                f"{fig.cpu_per_s:.0%}",
                f"{fig.load:.1f}",
            )
        console.print(table)
        console.print(
            f"  one serve; {LONG_TRANSITIONS:,}-transition Choice/Pass executions (the most a "
            "25,000-event history holds) run one after another; a 10-Pass execution is "
            f"stored and serve nudged every {SHORT_EVERY * 1000:.0f} ms meanwhile; latency: "
            "stored → its end logged (closing event committed); every event committed. "
            "CPU p50/p99: the same latencies in the serving process's CPU time (as on a "
            "core of its own: at a load above the cores, wall latency also waits for "
            "other processes).",
            style="dim",
        )
    if rates:
        table = Table(title="asl serve --workers N --once", title_justify="left")
        headers = ("workers", "executions", "seconds", "exec/s", "all running", "CPU ms/exec")
        for header in (*headers, "load", "failed"):
            table.add_column(header, justify="right")
        for rate in rates:
            table.add_row(
                str(rate.workers),
                f"{rate.count:,}",
                f"{rate.seconds:.2f}",
                f"{rate.executions_per_s:,.0f}",
                f"{rate.together_per_s:,.0f}",
                f"{rate.cpu_ms:.2f}",
                f"{rate.load:.1f}",
                str(rate.failed),
            )
        console.print(table)
        console.print(
            "  10-Pass executions stored unrun, then `asl serve --workers N --once --json-log` "
            "on the store file; seconds: first started → last ended in the log (start-up "
            "excluded); all running: executions ended per second while every worker ran; "
            "CPU: all serve processes, start-up included. N workers only help with N idle "
            "cores (see the load, the host's 1-minute load average).",
            style="dim",
        )


def main() -> None:
    """``python -m bench.serve_scale latency SHORT LONG`` or ``workers N COUNT``."""
    kind, first, second = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if kind == "latency":
        figure: Any = anyio.run(latency, first, second)
    else:
        figure = throughput(first, second)
    print(json.dumps({name: getattr(figure, name) for name in figure.__slots__}))


if __name__ == "__main__":
    main()
