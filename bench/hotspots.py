"""Profile our interpreter on a workload: the top functions by cumulative and by self time.

``python bench/run.py --profile pass_chain,choice_loop,map_1k`` prints them and writes
``bench/results/profile.txt``. The machine is compiled and run once (imports, caches)
before the profiler starts, so the figures show steady-state execution only. The
cumulative listing leaves out the event loop's own frames (``asyncio``), which would
otherwise fill its top with wrappers around everything.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sysconfig
from pathlib import Path

from bench.ours import run_many
from bench.workloads import Workload

__all__ = ["profile_workload"]

_ROOT = Path(__file__).resolve().parent.parent
_STDLIB = sysconfig.get_paths()["stdlib"]
_SITE = sysconfig.get_paths()["purelib"]

#: (file, line, function) -> (primitive calls, calls, self s, cumulative s)
Row = tuple[tuple[str, int, str], tuple[int, int, float, float]]


def _where(key: tuple[str, int, str]) -> str:
    file, line, func = key
    if file == "~":  # built-in
        return func
    for prefix in (_SITE + "/", _STDLIB + "/", str(_ROOT) + "/"):  # most specific first
        if file.startswith(prefix):
            file = file[len(prefix) :]
            break
    return f"{file}:{line}({func})"


def _is_loop_plumbing(key: tuple[str, int, str]) -> bool:
    file, _, func = key
    if file == "~":
        return "_contextvars.Context" in func  # the loop's callback runner
    return file.startswith(_STDLIB + "/asyncio/") or file.startswith(str(_ROOT / "bench"))


def _table(rows: list[Row], title: str) -> str:
    lines = [title, f"{'calls':>10} {'self s':>8} {'cum s':>8}  function"]
    for key, (prim, calls, self_s, cum_s) in rows:
        count = str(calls) if prim == calls else f"{calls}/{prim}"
        lines.append(f"{count:>10} {self_s:8.3f} {cum_s:8.3f}  {_where(key)}")
    return "\n".join(lines) + "\n"


def profile_workload(workload: Workload, budget_s: float = 1.0, top: int = 15) -> str:
    """cProfile about ``budget_s`` of executions of ``workload``; return both listings."""
    from runtime import load_machine

    machine = load_machine(workload.definition)
    asyncio.run(run_many(machine, workload, 0.0, 1, 1))  # warm: imports, caches
    profiler = cProfile.Profile()
    profiler.enable()
    times, _ = asyncio.run(run_many(machine, workload, budget_s, 3, 10_000))
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows: list[Row] = [(key, value[:4]) for key, value in stats.items()]
    total = sum(times)
    cumulative = sorted(
        (r for r in rows if not _is_loop_plumbing(r[0])), key=lambda r: r[1][3], reverse=True
    )
    by_self = sorted(rows, key=lambda r: r[1][2], reverse=True)
    head = f"=== {workload.name}: {len(times)} executions, {total:.2f} s under the profiler ===\n"
    return (
        head
        + _table(
            cumulative[:top], f"--- top {top} by cumulative time (asyncio frames left out) ---"
        )
        + _table(by_self[:top], f"--- top {top} by self time ---")
        + "\n"
    )
