#!/usr/bin/env python3
"""``make fuzz``: feed asl-runtime hostile definitions, inputs and expressions in worker
processes, each limited to 1 GiB of address space, with 10 s per case.

    python -m tests.fuzz.run                       # 10,000 + 10,000 cases, 2 workers
    python -m tests.fuzz.run --definitions 500 --expressions 500 --seed 7

A finding is a traceback, a case that ran over its time (10 s of CPU, or 60 s of wall
time without an answer: on a shared machine wall time alone says little; the worker is
killed and replaced), a worker that died (over its memory limit or otherwise), or output that is
not strict JSON. Each finding is printed with its case (written to ``--out`` as JSON
lines, to replay one with ``python -m tests.fuzz.check < case.json``); the exit status is
1 when there is any. The end of the run prints the figures: cases per kind, outcomes,
findings, wall time, the largest worker's peak RSS, and how long compiling a path of
10,000 and 100,000 segments took (a linear parser takes ten times as long for the
second; the quadratic one took a hundred times).
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import resource
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fuzz.cases import definitions, expressions  # noqa: E402

MEMORY_LIMIT = 1 << 30
CASE_SECONDS = 10.0
#: A case that waits (never computes) this long is a hang too. On a machine shared by
#: many processes a case's wall time says little; its CPU time is what it cost.
WALL_SECONDS = 60.0
_TICKS = os.sysconf("SC_CLK_TCK")
#: Importing the runtime on a loaded machine; not counted in any case's time.
STARTUP_SECONDS = 300.0
#: A worker is replaced after this many cases, so one case's leftovers cannot pile up.
CASES_PER_WORKER = 400


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


class Worker:
    """One ``python -m tests.fuzz.check`` process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.check"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            preexec_fn=_limit_memory,
            env={**os.environ, "ASL_STORE": os.devnull, "PYTHONHASHSEED": "0"},
        )
        self.done = 0
        self.case: dict[str, Any] | None = None
        self.started = 0.0
        self.cpu_at_start = 0.0
        ready = selectors.DefaultSelector()
        ready.register(self.stdout, selectors.EVENT_READ)
        if not ready.select(timeout=STARTUP_SECONDS) or not self.stdout.readline():
            self.kill()
            raise RuntimeError(f"a worker did not start within {STARTUP_SECONDS:.0f} s")
        ready.close()

    @property
    def stdout(self) -> IO[str]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def cpu_seconds(self) -> float:
        """CPU time the worker used so far (user + system, from /proc)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def over_time(self) -> bool:
        """Over CASE_SECONDS of CPU on this case, or over WALL_SECONDS of waiting."""
        if time.monotonic() - self.started > WALL_SECONDS:
            return True
        return self.cpu_seconds() - self.cpu_at_start > CASE_SECONDS

    def send(self, case: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.case, self.started = case, time.monotonic()
        self.cpu_at_start = self.cpu_seconds()
        self.proc.stdin.write(json.dumps(case) + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        """End the process (its peak RSS is counted in RUSAGE_CHILDREN)."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


@dataclass
class Tally:
    """What the run saw."""

    cases: collections.Counter[str] = field(default_factory=collections.Counter)
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    findings: list[dict[str, Any]] = field(default_factory=list)
    peak_kib: int = 0
    slowest: float = 0.0
    slowest_cpu: float = 0.0

    def finding(self, case: dict[str, Any], what: str, out: IO[str] | None) -> None:
        record = {"id": case["id"], "what": what, "case": case}
        self.findings.append(record)
        print(f"FINDING {case['id']}: {what[:2000]}", flush=True)
        if out is not None:
            out.write(json.dumps(record) + "\n")
            out.flush()


def run(cases: Iterator[dict[str, Any]], jobs: int, out: IO[str] | None) -> Tally:
    """Run every case on ``jobs`` workers; a case over CASE_SECONDS kills its worker."""
    tally = Tally()
    selector = selectors.DefaultSelector()
    idle = [Worker() for _ in range(jobs)]
    busy: dict[int, Worker] = {}
    pending = iter(cases)
    exhausted = False
    while idle or busy:
        while idle and not exhausted:
            case = next(pending, None)
            if case is None:
                exhausted = True
                break
            worker = idle.pop()
            tally.cases[case["kind"]] += 1
            worker.send(case)
            busy[worker.stdout.fileno()] = worker
            selector.register(worker.stdout, selectors.EVENT_READ)
        if exhausted and not busy:
            break
        for key, _ in selector.select(timeout=0.5):
            worker = busy.pop(key.fd)
            selector.unregister(key.fileobj)
            idle.append(_answer(worker, tally, out))
            answered = sum(tally.outcomes.values()) + len(tally.findings)
            if not answered % 1000:
                print(f"… {answered:,} cases, {len(tally.findings)} findings", flush=True)
        for fd, worker in list(busy.items()):
            if worker.over_time():
                busy.pop(fd)
                selector.unregister(worker.stdout)
                worker.kill()
                assert worker.case is not None
                tally.finding(
                    worker.case,
                    f"no answer within {CASE_SECONDS:.0f} s of CPU ({WALL_SECONDS:.0f} s wall)",
                    out,
                )
                idle.append(Worker())
        if exhausted:
            for worker in idle:
                worker.stop()
            idle = []
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    tally.peak_kib = max(tally.peak_kib, peak)
    return tally


def _answer(worker: Worker, tally: Tally, out: IO[str] | None) -> Worker:
    """Read the worker's verdict; return the worker to use next."""
    case = worker.case
    assert case is not None
    line = worker.stdout.readline()
    tally.slowest_cpu = max(tally.slowest_cpu, worker.cpu_seconds() - worker.cpu_at_start)
    if not line:  # died: over its memory limit, or killed by the system
        code = worker.proc.wait()
        tally.finding(case, f"the worker died (exit status {code})", out)
        return Worker()
    verdict = json.loads(line)
    # Measured by the worker: the harness may have been busy starting another worker.
    tally.slowest = max(tally.slowest, float(verdict.get("seconds", 0.0)))
    tally.peak_kib = max(tally.peak_kib, int(verdict.get("rss_kib", 0)))
    if "finding" in verdict:
        tally.finding(case, verdict["finding"], out)
    else:
        tally.outcomes[f"{case['kind']}: {verdict['outcome'].split(':')[0]}"] += 1
    worker.done += 1
    if worker.done >= CASES_PER_WORKER:
        worker.stop()
        return Worker()
    return worker


def path_figures() -> dict[str, float]:
    """Seconds to compile a JSONPath of 10,000 and of 100,000 segments."""
    from asl.paths import compile_path

    figures = {}
    for size in (10_000, 100_000):
        start = time.perf_counter()
        compile_path("$" + ".a" * size)
        figures[f"{size:,} segments"] = time.perf_counter() - start
    return figures


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--definitions", type=int, default=10_000, help="machine cases")
    p.add_argument("--expressions", type=int, default=10_000, help="expression cases")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--jobs", type=int, default=2, help="worker processes")
    p.add_argument("--out", type=Path, default=ROOT / "tests" / "artifacts" / "fuzz-findings.jsonl")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    start = time.monotonic()
    print(f"generating {args.definitions:,} machine and {args.expressions:,} expression cases")
    cases = itertools.chain(
        definitions(args.definitions, args.seed), expressions(args.expressions, args.seed)
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        tally = run(cases, args.jobs, out)
    seconds = time.monotonic() - start
    print(f"\ncases: {dict(tally.cases)}")
    for outcome, count in sorted(tally.outcomes.items()):
        print(f"  {outcome}: {count:,}")
    print(f"findings: {len(tally.findings)} (written to {args.out})")
    print(
        f"wall time: {seconds:.0f} s; slowest case: {tally.slowest:.2f} s wall, "
        f"{tally.slowest_cpu:.2f} s CPU"
    )
    print(f"largest worker peak RSS: {tally.peak_kib / 1024:.0f} MiB (limit 1,024 MiB)")
    for label, took in path_figures().items():
        print(f"compile a JSONPath of {label}: {took:.2f} s")
    return 1 if tally.findings else 0


if __name__ == "__main__":
    sys.exit(main())
