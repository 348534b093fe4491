"""Load on one ``asl serve``: executions parked in a real-clock Wait, and others running.

Run in a fresh process (``python -m bench.serve_load --parked 10000 --running 1000``) with a
temporary store file; :func:`measure_serve_load` does that and reads the one JSON line it
prints. The figure says whether one ``asl serve`` process holds 10,000 executions parked in
Waits and 1,000 running at once.

1. ``parked`` executions of :data:`PARK` (a one-hour Wait on the real clock) are stored
   RUNNING without running, as ``asl start`` does (``Store.begin_execution`` with the
   launch options ``{"clock": "real", "offline": true}``).
2. :func:`runtime.durable.serve.serve` runs in-process (its default ``max_running``, a
   short poll) and takes them all, parking each in the store once it sleeps in its Wait;
   we wait until every one has recorded ``WaitStateEntered``
   and sample memory with all of them parked.
3. ``running`` executions of :data:`WORK` (a Choice/Pass loop, 50 transitions, no Wait)
   are stored while the parked ones wait; serve picks them up at its next poll and runs
   them at once, the store committing every event. We time them until all succeeded.
4. ``stop`` is set: serve detaches, and the parked executions stay RUNNING in the store.

Events are counted by a :class:`~runtime.durable.store.Store` subclass whose ``record`` notes
the time of each event it commits (the cost is a counter and a clock read per event).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import json
import pstats
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from bench.parked import memory, proc_status

__all__ = ["PARK", "WORK", "WORK_TRANSITIONS", "ServeLoadFigure", "load", "measure_serve_load"]

ROOT = Path(__file__).resolve().parent.parent
_HOUR = 3600
_OPTIONS = {"clock": "real", "offline": True}
#: serve's poll interval: short, so the working executions are picked up at once.
POLL_SECONDS = 0.05
#: How long to watch the process sit idle with everything parked.
IDLE_SECONDS = 1.0
_ARN = "arn:aws:states:us-east-1:123456789012"
PARK = {
    "Comment": "One long real-clock Wait: the execution stays parked while we measure",
    "StartAt": "Park",
    "States": {
        "Park": {"Type": "Wait", "Seconds": _HOUR, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}
_LOOPS = 24
WORK = {
    "Comment": "A Choice/Pass loop: 24 x (Check, Bump) + Check + Done = 50 transitions",
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.i", "NumericLessThan": _LOOPS, "Next": "Bump"}],
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
#: States entered by one execution of :data:`WORK`.
WORK_TRANSITIONS = 2 * _LOOPS + 2


@dataclass(frozen=True, slots=True)
class ServeLoadFigure:
    """What one ``serve`` process did with ``parked`` waiting and ``running`` working."""

    parked: int
    running: int
    #: "rss", or "tracemalloc" (Python allocations traced: memory exact, times slower).
    mode: str
    #: Storing all executions unrun (one ``begin_execution`` transaction each).
    store_s: float
    #: From serve's start until every parked execution recorded WaitStateEntered.
    park_s: float
    #: parked / park_s: executions claimed, resumed and run into their Wait per second.
    started_per_s: float
    #: Memory added by serve with all parked (RSS delta, or traced bytes), and per execution.
    parked_bytes: int
    bytes_per_parked: float
    #: tracemalloc's current and peak bytes with all parked (mode "tracemalloc"), else 0.
    traced_bytes: int
    traced_peak_bytes: int
    #: Process CPU seconds per wall second over ``idle_s`` with all parked and nothing to do
    #: (serve's polls, lease renewals).
    idle_cpu: float
    idle_s: float
    #: Executions parked in the store (nobody runs them until their Wait ends) when
    #: memory was sampled; the others were parked in memory (as tasks).
    parked_in_store: int
    #: Process RSS and high-water RSS with all parked, and high-water RSS at the end.
    rss_bytes: int
    hwm_parked_bytes: int
    hwm_end_bytes: int
    #: From storing the working executions until the last one succeeded.
    work_s: float
    #: StateEntered events of the working executions per second of work_s (each committed).
    transitions_per_s: float
    #: running / work_s, and all committed events of the working ones per second.
    work_started_per_s: float
    events_per_s: float
    transitions: int
    #: Most working executions started and not yet ended at one instant.
    peak_in_flight: int
    #: Statuses in the store after serve stopped (the parked ones stay RUNNING).
    statuses: dict[str, int]
    #: Executions serve reported as ended (the working ones).
    ended: int
    #: serve's poll interval.
    poll_s: float


class _Counts:
    """Event counts and times, filled by :class:`_CountingStore` as serve commits."""

    __slots__ = ("entered", "events", "first", "in_flight", "last", "parked", "peak", "succeeded")

    def __init__(self) -> None:
        self.parked = 0  # WaitStateEntered of the parked machine
        self.entered = 0  # StateEntered of the working machine
        self.events = 0  # every event of the working machine
        self.succeeded = 0
        self.in_flight = 0
        self.peak = 0
        self.first = 0.0  # perf_counter of the first and last working event
        self.last = 0.0

    def note(self, arn: str, kind: str) -> None:
        if ":execution:Park:" in arn:
            self.parked += kind == "WaitStateEntered"
            return
        now = time.perf_counter()
        self.first = self.first or now
        self.last = now
        self.events += 1
        if kind.endswith("StateEntered"):
            self.entered += 1
        elif kind == "ExecutionStarted":
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        elif kind == "ExecutionSucceeded":
            self.in_flight -= 1
            self.succeeded += 1


def _counting_store(path: Path, counts: _Counts) -> Any:
    """A store whose ``record`` tells ``counts`` about each event after committing it."""
    from runtime.durable.store import Store

    class _CountingStore(Store):
        __slots__ = ()

        def record(self, execution_arn: str, event: Any, fence: int | None = None) -> None:
            super().record(execution_arn, event, fence)
            counts.note(execution_arn, event.type)

        def record_many(self, items: Any) -> set[str]:  # serve's group commit
            refused = super().record_many(items)
            for arn, event, _fence in items:
                if arn not in refused:
                    counts.note(arn, event.type)
            return refused

    return _CountingStore.open(path)


def _store_unrun(store: Any, machine_name: str, definition: Any, count: int) -> None:
    """Store ``count`` RUNNING executions of ``definition`` without running them, as
    ``Store.begin_execution`` (``asl start``) stores one, in transactions of 1,000 rows
    (storing is not what is measured)."""
    from runtime.durable.store.sqlite import dumps

    now = time.time()
    text, options = dumps(definition), dumps(_OPTIONS)
    machine_arn = f"{_ARN}:stateMachine:{machine_name}"
    for first in range(0, count, 1000):
        rows = []
        for k in range(first, min(count, first + 1000)):
            name = f"{machine_name.lower()}-{k:06d}"
            arn = f"{_ARN}:execution:{machine_name}:{name}"
            row = (arn, name, machine_name, machine_arn, text, dumps({"i": 0, "k": k}), now)
            rows.append((*row, options))
        with store._write() as conn:
            conn.executemany(
                "INSERT INTO executions (arn, name, state_machine_name, state_machine_arn, "
                "definition, input, status, start_time, redrive_count, options) "
                "VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', ?, 0, ?)",
                rows,
            )


async def _until(done: Any, what: str, seconds: float = 600.0) -> None:
    """Poll ``done()`` every few milliseconds; raise if it is not true within ``seconds``."""
    deadline = time.perf_counter() + seconds
    while not done():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what}")
        await anyio.sleep(0.005)


def _statuses(store: Any) -> dict[str, int]:
    rows = store._read("SELECT status, count(*) FROM executions GROUP BY status", ())
    return {str(status): int(n) for status, n in rows}


async def load(
    parked: int,
    running: int,
    mode: str = "rss",
    *,
    poll_s: float = POLL_SECONDS,
    idle_s: float = IDLE_SECONDS,
    folder: Path | None = None,
) -> ServeLoadFigure:
    """Measure one serve holding ``parked`` waiting and ``running`` working executions.

    The store is a file in a temporary folder (under ``folder`` when given).
    """
    with tempfile.TemporaryDirectory(prefix="asl-serve-load-", dir=folder) as tmp:
        counts = _Counts()
        with _counting_store(Path(tmp) / "store.db", counts) as store:
            started = time.perf_counter()
            _store_unrun(store, "Park", PARK, parked)
            figures: dict[str, Any] = {"store_s": time.perf_counter() - started}
            if mode == "tracemalloc":
                tracemalloc.start()
            await _serve_phases(store, counts, figures, parked, running, mode, poll_s, idle_s)
            figures["statuses"] = _statuses(store)
    return _figure(counts, figures, parked, running, mode, poll_s)


async def _serve_phases(
    store: Any,
    counts: _Counts,
    figures: dict[str, Any],
    parked: int,
    running: int,
    mode: str,
    poll_s: float,
    idle_s: float,
) -> None:
    """Serve; park everything, sample, sit idle, run the working ones, stop."""
    from runtime.durable.serve import serve

    before = memory(mode)
    stop = anyio.Event()

    async def serving() -> None:
        # serve's own --max-running default: parked executions leave memory and no
        # longer count, so it bounds the memory of those running at once
        figures["ended"] = await serve(store, poll_seconds=poll_s, stop=stop)

    async with anyio.create_task_group() as group:
        started = time.perf_counter()
        group.start_soon(serving)
        what = f"{parked} executions to park"
        await _until(lambda: counts.parked >= parked, what, 600 + parked / 20)
        figures["park_s"] = time.perf_counter() - started
        await anyio.sleep(0.05)  # from WaitStateEntered to the clock's sleep
        _sample_parked(figures, mode, before, store)
        await _idle(figures, idle_s)
        started = time.perf_counter()
        _store_unrun(store, "Work", WORK, running)
        what = f"{running} executions to succeed"
        await _until(lambda: counts.succeeded >= running, what, 600 + running / 10)
        figures["work_s"] = time.perf_counter() - started
        stop.set()


async def _idle(figures: dict[str, Any], seconds: float) -> None:
    """CPU seconds per wall second while nothing is due (0 when ``seconds`` is 0)."""
    started, cpu = time.perf_counter(), time.process_time()
    if seconds > 0:
        await anyio.sleep(seconds)
    wall = time.perf_counter() - started if seconds > 0 else 0.0
    figures["idle_s"], figures["idle_cpu"] = wall, _per(time.process_time() - cpu, wall)


def _sample_parked(figures: dict[str, Any], mode: str, before: int, store: Any) -> None:
    from runtime.durable.store.batches import NOBODY

    rows = store._read(
        "SELECT count(*) FROM leases WHERE owner = ? AND expires_at > ?", (NOBODY, time.time())
    )
    figures["parked_in_store"] = int(rows[0][0])
    figures["parked_bytes"] = memory(mode) - before
    traced = tracemalloc.get_traced_memory() if mode == "tracemalloc" else (0, 0)
    figures["traced_bytes"], figures["traced_peak_bytes"] = traced
    figures["rss_bytes"] = proc_status("VmRSS")
    figures["hwm_parked_bytes"] = proc_status("VmHWM")


def _per(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def _figure(
    counts: _Counts, figures: dict[str, Any], parked: int, running: int, mode: str, poll_s: float
) -> ServeLoadFigure:
    work_s = figures.pop("work_s")
    return ServeLoadFigure(
        parked=parked,
        running=running,
        mode=mode,
        started_per_s=_per(parked, figures["park_s"]),
        bytes_per_parked=figures["parked_bytes"] / parked if parked else 0.0,
        hwm_end_bytes=proc_status("VmHWM"),
        work_s=work_s,
        transitions_per_s=_per(counts.entered, work_s),
        work_started_per_s=_per(running, work_s),
        events_per_s=_per(counts.events, work_s),
        transitions=counts.entered,
        peak_in_flight=counts.peak,
        poll_s=poll_s,
        **figures,
    )


def measure_serve_load(
    parked: int,
    running: int,
    mode: str = "rss",
    idle_s: float = IDLE_SECONDS,
    timeout: float | None = None,
) -> ServeLoadFigure:
    """Run :func:`load` in a fresh interpreter and return its figure."""
    argv = [sys.executable, "-m", "bench.serve_load", "--parked", str(parked)]
    argv += ["--running", str(running), "--mode", mode, "--idle-seconds", str(idle_s)]
    limit = timeout if timeout is not None else 900 + parked / 10 + running / 5
    done = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=limit, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.serve_load failed: {done.stderr.strip()[-500:]}")
    return ServeLoadFigure(**json.loads(done.stdout.strip().splitlines()[-1]))


def _load_for(args: argparse.Namespace) -> Callable[[], Awaitable[ServeLoadFigure]]:
    return functools.partial(load, args.parked, args.running, args.mode, idle_s=args.idle_seconds)


def _profiled(args: argparse.Namespace) -> ServeLoadFigure:
    """Run under cProfile and print the top functions (by own time) to stderr."""
    profiler = cProfile.Profile()
    figure: ServeLoadFigure = profiler.runcall(anyio.run, _load_for(args))
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).sort_stats("tottime")
    stats.print_stats(args.profile)
    print(text.getvalue(), file=sys.stderr)
    return figure


def main() -> None:
    """``python -m bench.serve_load --parked N --running M``: print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--parked", type=int, default=10_000)
    parser.add_argument("--running", type=int, default=1_000)
    parser.add_argument("--mode", choices=("rss", "tracemalloc"), default="rss")
    parser.add_argument("--idle-seconds", type=float, default=IDLE_SECONDS)
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print cProfile's top N to stderr"
    )
    args = parser.parse_args()
    figure = _profiled(args) if args.profile else anyio.run(_load_for(args))
    print(json.dumps({name: getattr(figure, name) for name in figure.__slots__}))


if __name__ == "__main__":
    main()
