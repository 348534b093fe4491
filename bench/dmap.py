"""A Distributed Map over a local JSON Lines file: wall time and peak memory by processes.

``make bench`` runs :func:`measure_dmap` for one process and for every core: each run is a
fresh ``python -m bench.dmap`` so its memory figures are its own. The definition reads
the items with an ItemReader (a bucket mapped to a local folder), runs a three-state Pass
processor per item on the virtual clock and exports the results with a ResultWriter
(``SUCCEEDED_0.json`` of every child, as AWS lays it out). The file is written once,
outside the timing.

    python -m bench.dmap --items 1000000 --processes 2      # one figure, as JSON
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DmapFigure", "measure_dmap", "write_items"]

ROOT = Path(__file__).resolve().parent.parent

MACHINE = {
    "Comment": "A Distributed Map: JSON Lines in, a 3-state Pass processor, results out",
    "StartAt": "Map",
    "States": {
        "Map": {
            "Type": "Map",
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSONL"},
                "Parameters": {"Bucket": "bench", "Key": "items.jsonl"},
            },
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Tag",
                "States": {
                    "Tag": {
                        "Type": "Pass",
                        "Result": "seen",
                        "ResultPath": "$.tag",
                        "Next": "Pick",
                    },
                    "Pick": {
                        "Type": "Pass",
                        "Parameters": {"id.$": "$.id", "name.$": "$.name", "tag.$": "$.tag"},
                        "Next": "Done",
                    },
                    "Done": {"Type": "Pass", "End": True},
                },
            },
            "ResultWriter": {
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": "bench", "Prefix": "results"},
            },
            "End": True,
        }
    },
}


@dataclass(frozen=True, slots=True)
class DmapFigure:
    """One run: items, processes, wall seconds, peak RSS of the parent and of one worker."""

    items: int
    processes: int
    seconds: float
    rss_mib: float
    worker_rss_mib: float
    status: str
    load: float
    #: CPU seconds (user + system) of the parent and of all workers together: on a
    #: loaded machine they say more than the wall time.
    cpu_s: float = 0.0
    worker_cpu_s: float = 0.0
    #: What the machine gives plain Python work in as many processes at once, around the
    #: run (:func:`machine_speedup`): the ceiling for this run's speed-up.
    machine_speedup: float = 0.0
    #: Why the execution did not succeed (its error and cause), else "".
    why: str = ""
    #: Every run's seconds when this is the median of several (:func:`median_figure`).
    rounds: tuple[float, ...] = ()

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0

    @property
    def idle_seconds(self) -> float:
        """The wall time this run's CPU would take on idle cores, one per process: the
        busiest of the parent and the workers (their CPU shared evenly), or the total
        spread over every process if that is more (a loaded machine inflates wall time,
        not the CPU a process needs)."""
        workers = max(self.processes - 1, 1)
        total = self.cpu_s + self.worker_cpu_s
        return max(self.cpu_s, self.worker_cpu_s / workers, total / self.processes)

    def describe(self, one: DmapFigure | None) -> str:
        """One line for ``make bench``; ``one``: the same run with one process."""
        line = (
            f"Distributed Map, {self.items:,} JSONL items, 3-state Pass, "
            f"{self.processes} process(es): {self.seconds:.1f} s "
            f"({self.items_per_s:,.0f} items/s)"
        )
        if len(self.rounds) > 1:
            line += (
                f" (median of {len(self.rounds)} interleaved runs: "
                f"{min(self.rounds):.1f}-{max(self.rounds):.1f} s)"
            )
        line += f"; peak RSS {self.rss_mib:.0f} MiB"
        if self.processes > 1:
            line += f", each worker {self.worker_rss_mib:.0f} MiB"
        line += f"; CPU {self.cpu_s:.1f} s"
        if self.processes > 1:
            total = self.cpu_s + self.worker_cpu_s
            line += f" here + {self.worker_cpu_s:.1f} s in workers = {total:.1f} s"
            if one is not None and one.seconds > 0 and self.seconds > 0:
                speedup = one.seconds / self.seconds
                line += (
                    f"; speed-up {speedup:.2f}x wall, "
                    f"{one.idle_seconds / self.idle_seconds:.2f}x on idle cores "
                    f"(CPU-bound estimate: {self.idle_seconds:.1f} s)"
                )
                if self.machine_speedup > 0:
                    line += (
                        f"; the machine gives plain Python work {self.machine_speedup:.2f}x "
                        f"in {self.processes} processes around this run "
                        f"(this run: {speedup / self.machine_speedup:.0%} of it)"
                    )
        status = f"{self.status} ({self.why})" if self.why else self.status
        return (
            f"{line}; {status}; load average {self.load:.1f}"
            " (targets: under 60 s, under 2 GiB, near-linear speed-up)"
        )


def _plain_work(rounds: int) -> float:
    """Seconds of plain Python work like a child's (dicts, f-strings, JSON text)."""
    started = time.perf_counter()
    kept: dict[int, str] = {}
    for number in range(rounds):
        item = {"id": number, "name": f"item-{number}", "size": number % 977}
        kept[number % 512] = json.dumps({**item, "tag": "seen"})
    return time.perf_counter() - started


def _plain_worker(barrier: Any, rounds: int, times: Any) -> None:
    barrier.wait()
    times.put(_plain_work(rounds))


def _plain_together(processes: int, rounds: int) -> float:
    """The mean seconds of ``rounds`` of plain work in each of ``processes`` fresh
    processes started at once."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier, times = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_plain_worker, args=(barrier, rounds, times))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    took = [float(times.get(timeout=120)) for _ in workers]
    for worker in workers:
        worker.join()
    return sum(took) / len(took)


def machine_speedup(processes: int, seconds: float = 0.5, rounds_of: int = 3) -> float:
    """What this machine gives the same plain Python work in ``processes`` processes at
    once: ``processes`` times the time of one process alone over the mean time of each
    beside the others (``processes`` on idle, independent cores; less where virtual
    cores share a physical one or the host is busy: the ceiling for a Distributed Map's
    speed-up). The median of ``rounds_of`` alone/together pairs, each in fresh processes."""
    rounds = 20_000
    while (took := _plain_work(rounds)) < seconds / 4:
        rounds *= 2
    rounds = int(rounds * seconds / took)
    ratios = sorted(
        processes * _plain_together(1, rounds) / _plain_together(processes, rounds)
        for _ in range(rounds_of)
    )
    return ratios[len(ratios) // 2]


def median_figure(figures: list[DmapFigure]) -> DmapFigure:
    """The run of median wall time among runs of one process count, with every run's
    seconds (peak RSS: the largest of them)."""
    ordered = sorted(figures, key=lambda figure: figure.seconds)
    middle = ordered[(len(ordered) - 1) // 2]
    return dataclasses.replace(
        middle,
        rss_mib=max(figure.rss_mib for figure in figures),
        worker_rss_mib=max(figure.worker_rss_mib for figure in figures),
        rounds=tuple(figure.seconds for figure in figures),
    )


def write_items(folder: Path, count: int) -> None:
    """``items.jsonl`` of ``count`` small objects in ``folder``."""
    with (folder / "items.jsonl").open("w") as out:
        for number in range(count):
            out.write(f'{{"id":{number},"name":"item-{number}","size":{number % 977}}}\n')


def measure_dmap(folder: Path, items: int, processes: int) -> DmapFigure:
    """Run one measurement in a fresh process (``folder`` holds ``items.jsonl``)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.dmap",
            "--folder",
            str(folder),
            "--items",
            str(items),
            "--processes",
            str(processes),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
    return DmapFigure(**json.loads(done.stdout.strip().splitlines()[-1]))


def _run(folder: Path, items: int, processes: int) -> dict[str, Any]:
    from runtime import VirtualClock, run_sync
    from runtime.adapters import Services

    services = Services.create(buckets={"bench": folder})
    ceiling = machine_speedup(processes) if processes > 1 else 0.0
    before = resource.getrusage(resource.RUSAGE_SELF)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    result = run_sync(
        MACHINE, {}, services=services, clock=VirtualClock(start=0), processes=processes
    )
    seconds = time.perf_counter() - started
    self_usage = resource.getrusage(resource.RUSAGE_SELF)
    child_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    own, workers = self_usage.ru_maxrss / 1024, child_usage.ru_maxrss / 1024
    if processes > 1:
        ceiling = (ceiling + machine_speedup(processes)) / 2  # before and after the run
    return {
        "items": items,
        "processes": processes,
        "seconds": round(seconds, 2),
        "rss_mib": round(own, 1),
        "worker_rss_mib": round(workers, 1) if processes > 1 else 0.0,
        "status": result.status,
        "load": os.getloadavg()[0],
        "cpu_s": round(self_usage.ru_utime + self_usage.ru_stime - cpu_before, 2),
        "worker_cpu_s": round(
            child_usage.ru_utime
            + child_usage.ru_stime
            - children_before.ru_utime
            - children_before.ru_stime,
            2,
        ),
        "machine_speedup": round(ceiling, 3),
        "why": "" if result.succeeded else f"{result.error}: {result.cause}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--folder", type=Path, help="holds items.jsonl (else written here)")
    args = parser.parse_args()
    if args.folder is None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="asl-dmap-") as name:
            write_items(Path(name), args.items)
            print(json.dumps(_run(Path(name), args.items, args.processes)))
        return
    items = args.folder / "items.jsonl"
    if not items.is_file():  # else the run fails with S3's NoSuchKey
        sys.exit(
            f"bench.dmap: --folder {args.folder}: no {items.name} in it"
            " (leave --folder out to have one written)"
        )
    print(json.dumps(_run(args.folder, args.items, args.processes)))


if __name__ == "__main__":
    main()
