"""Compiled-once run speed in CPU time, steady enough to compare two checkouts on a busy machine.

``python -m bench.runspeed`` runs each shared workload (machine compiled once, many runs
in one event loop, as ``bench/ours.py`` does) and prints CPU microseconds per transition
(``time.process_time``: the time other processes take does not count) and the
transitions per CPU second they give. ``--ab OTHER`` compares this checkout with another
one (a path holding ``asl/`` and ``runtime/``): the two run in alternating subprocesses,
``--rounds`` times each, and the best round of each is printed beside the other, so a
change in machine load hits both sides alike.

    python -m bench.runspeed --shared ../shared
    python -m bench.runspeed --shared ../shared --ab /tmp/base --rounds 5 pass_chain
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script (the --child processes): bench by path
    sys.path.append(str(Path(__file__).resolve().parent.parent))  # after PYTHONPATH
from bench.workloads import STANDARD, load_standard

# In a --child process, asl and runtime come from PYTHONPATH (the checkout measured).

__all__ = ["cpu_per_transition", "main"]

_ROOT = Path(__file__).resolve().parent.parent
_EPOCH = 1_767_225_600.0


async def _runs(machine: Any, text: str, seconds: float) -> tuple[float, int, int]:
    from runtime import VirtualClock, run

    await run(machine, json.loads(text), clock=VirtualClock(_EPOCH))  # warm-up
    cpu = 0.0
    transitions = runs = 0
    while cpu < seconds or runs < 3:
        payload = json.loads(text)  # a fresh input, outside the timing
        start = time.process_time()
        result = await run(machine, payload, clock=VirtualClock(_EPOCH))
        cpu += time.process_time() - start
        if result.status != "SUCCEEDED":
            raise SystemExit(f"the run ended {result.status}: {result.error} {result.cause}")
        transitions += result.transitions
        runs += 1
    return cpu, transitions, runs


def cpu_per_transition(shared: Path, name: str, seconds: float) -> float:
    """CPU seconds per transition of workload ``name`` over about ``seconds`` of CPU."""
    from runtime import load_machine

    (workload,) = load_standard(shared, [name])
    machine = load_machine(workload.definition)
    cpu, transitions, _ = asyncio.run(_runs(machine, workload.input_text, seconds))
    return cpu / transitions


def _child(root: Path, shared: Path, names: list[str], seconds: float) -> dict[str, float]:
    """Measure in a fresh process that imports ``asl`` and ``runtime`` from ``root``."""
    argv = [sys.executable, __file__, "--child", "--shared", str(shared)]
    argv += ["--seconds", str(seconds), *names]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{root}: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help=f"workloads (default: {', '.join(STANDARD)})")
    p.add_argument("--shared", type=Path, default=_ROOT.parent / "shared")
    p.add_argument("--seconds", type=float, default=1.0, help="CPU seconds per workload")
    p.add_argument("--ab", type=Path, metavar="OTHER", help="another checkout to compare")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds with --ab")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    names = args.names or list(STANDARD)
    shared = (args.shared / "bench" / "workloads").resolve()
    if not shared.is_dir():
        raise SystemExit(f"--shared: no bench/workloads in {args.shared}")
    shared = args.shared.resolve()
    if args.child:
        per = {name: cpu_per_transition(shared, name, args.seconds) for name in names}
        print(json.dumps(per))
        return 0
    sides = [("this", _ROOT)] + ([("other", args.ab.resolve())] if args.ab else [])
    best: dict[str, dict[str, float]] = {label: {} for label, _ in sides}
    for _ in range(args.rounds if args.ab else 1):
        for label, root in sides:
            for name, value in _child(root, shared, names, args.seconds).items():
                best[label][name] = min(value, best[label].get(name, value))
    head = "".join(f"{label + ' µs/tr':>14}{'tr/CPU s':>11}" for label, _ in sides)
    print(f"{'workload':<18}{head}" + ("   this/other" if args.ab else ""))
    for name in names:
        row = f"{name:<18}"
        for label, _ in sides:
            value = best[label][name]
            row += f"{value * 1e6:>14.2f}{1 / value:>11,.0f}"
        if args.ab:
            row += f"{best['this'][name] / best['other'][name]:>13.2f}"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
