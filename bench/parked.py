"""Memory of executions parked in a Wait on one shared virtual clock.

Run in a fresh process (``python -m bench.parked --count 10000``) so that the baseline is
clean; :func:`measure_parked` does that and reads the one JSON line it prints.

A :class:`runtime.VirtualClock` jumps to the next deadline as soon as every participant is
sleeping on it (``runtime/clock.py``: ``_idle`` is ``sleepers >= participants``). To see the
executions *while* they wait, the sampler counts itself as a participant (``clock.join()``)
before starting them and never sleeps on the clock, so time cannot move; once every
execution has entered its Wait it samples memory, then ``clock.leave()`` lets time jump one
day and every execution finishes.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ParkedFigure", "measure_parked", "memory", "park", "proc_status"]

ROOT = Path(__file__).resolve().parent.parent
_EPOCH = 1_767_225_600.0
_DAY = 86_400
MACHINE = {
    "Comment": "One long Wait: the execution parks on the clock for a day",
    "StartAt": "Park",
    "States": {
        "Park": {"Type": "Wait", "Seconds": _DAY, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


@dataclass(frozen=True, slots=True)
class ParkedFigure:
    """What ``count`` parked executions cost."""

    count: int
    #: "rss" (process resident set) or "tracemalloc" (Python allocations, slower).
    mode: str
    #: Bytes added while all executions were parked (RSS or traced), and per execution.
    parked_bytes: int
    bytes_per_execution: float
    #: tracemalloc's peak over the start phase (mode "tracemalloc"), else 0.
    peak_bytes: int
    #: Process high-water RSS at the end (whole run, both modes).
    hwm_rss_bytes: int
    #: Wall time to start all executions until all were parked, and to finish after the jump.
    start_s: float
    finish_s: float
    #: Virtual seconds that passed (one day when the sampler held time still).
    virtual_elapsed_s: float
    statuses: dict[str, int]


def proc_status(field: str) -> int:
    """A ``/proc/self/status`` size field in bytes (Linux), 0 elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def memory(mode: str) -> int:
    """Bytes in use: traced by tracemalloc, or the process RSS."""
    gc.collect()
    if mode == "tracemalloc":
        return tracemalloc.get_traced_memory()[0]
    return proc_status("VmRSS")


async def _all_parked(count: int, entered: list[int], tasks: list[asyncio.Task[Any]]) -> None:
    """Yield until every execution entered its Wait (or some ended early: a runtime bug)."""
    deadline = time.perf_counter() + 300
    while entered[0] < count and time.perf_counter() < deadline:
        await asyncio.sleep(0)
        if any(task.done() for task in tasks):
            break  # an execution ended before its Wait: nothing more will park
    for _ in range(3):  # from WaitStateEntered to the clock's sleep_until
        await asyncio.sleep(0)


async def park(count: int, mode: str = "rss") -> ParkedFigure:
    """Start ``count`` executions of :data:`MACHINE` on one clock; sample while parked."""
    from runtime import VirtualClock, load_machine, run

    machine = load_machine(MACHINE)
    clock = VirtualClock(_EPOCH)
    entered = [0]

    def observe(event: Any, frame: Any) -> None:
        if event.type == "WaitStateEntered":
            entered[0] += 1

    if mode == "tracemalloc":
        tracemalloc.start()
    before = memory(mode)
    clock.join()  # the sampler: awake, so the clock cannot jump while we look
    start = time.perf_counter()
    tasks = [
        asyncio.create_task(run(machine, {"k": k}, clock=clock, observers=(observe,)))
        for k in range(count)
    ]
    await _all_parked(count, entered, tasks)
    start_s = time.perf_counter() - start
    parked = memory(mode) - before
    peak = tracemalloc.get_traced_memory()[1] if mode == "tracemalloc" else 0
    clock.leave()
    start = time.perf_counter()
    results = await asyncio.gather(*tasks)
    return ParkedFigure(
        count=count,
        mode=mode,
        parked_bytes=parked,
        bytes_per_execution=parked / count if count else 0.0,
        peak_bytes=peak,
        hwm_rss_bytes=proc_status("VmHWM"),
        start_s=start_s,
        finish_s=time.perf_counter() - start,
        virtual_elapsed_s=clock.now() - _EPOCH,
        statuses=dict(collections.Counter(result.status for result in results)),
    )


def measure_parked(count: int, mode: str = "rss", timeout: float = 600.0) -> ParkedFigure:
    """Run :func:`park` in a fresh interpreter and return its figure."""
    argv = [sys.executable, "-m", "bench.parked", "--count", str(count), "--mode", mode]
    done = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.parked failed: {done.stderr.strip()[-500:]}")
    return ParkedFigure(**json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    """``python -m bench.parked --count N --mode rss|tracemalloc``: print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--mode", choices=("rss", "tracemalloc"), default="rss")
    args = parser.parse_args()
    figure = asyncio.run(park(args.count, args.mode))
    print(json.dumps({name: getattr(figure, name) for name in figure.__slots__}))


if __name__ == "__main__":
    main()
