"""Our figures: transitions/s through the library, ``asl exec`` wall time, CLI start-up.

Library runs compile the machine once (``runtime.load_machine``) and run it many times with
``runtime.run`` in one event loop, each run under a fresh :class:`runtime.VirtualClock`.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.workloads import Workload

__all__ = [
    "CliFigure",
    "LibraryFigure",
    "StartupFigure",
    "asl_command",
    "measure_cli_exec",
    "measure_library",
    "measure_startup",
    "run_many",
    "warm_compiler",
]

#: Virtual start time of every run: runs are alike whatever the wall clock says.
_EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@dataclass(frozen=True, slots=True)
class LibraryFigure:
    """In-process throughput of one workload."""

    workload: str
    #: ``load_machine`` (validate + compile) of the definition, once.
    compile_s: float
    #: Timed executions (after one untimed warm-up run).
    runs: int
    median_s: float
    best_s: float
    #: States entered by one execution (``result.transitions`` of the last run).
    transitions: int
    #: transitions x runs / total seconds, as the peer drivers compute it.
    transitions_per_s: float
    #: transitions / (median run + compile): as if compiled for every execution, the way
    #: LocalStack's provider re-parses the definition for each one.
    with_compile_per_s: float
    status: str
    #: Why the figure may not be comparable (bad status, unexpected transition count).
    warning: str | None
    #: ``load_machine`` of the same definition again (a fresh copy of the dict), median:
    #: what each ``run(definition_dict)`` after the first pays in one process (the compiled
    #: machine is remembered by the definition's text).
    recompile_s: float = 0.0
    #: transitions / (median run + recompile): every run passes the definition dict again
    #: in one process, the first compile (``with_compile_per_s``) paid once before.
    with_recompile_per_s: float = 0.0


@dataclass(frozen=True, slots=True)
class CliFigure:
    """``asl exec`` as a subprocess: wall time per execution, start-up included."""

    workload: str
    runs: int
    median_s: float
    best_s: float
    #: StateEntered events in the ``--json`` output of the last run.
    transitions: int
    #: transitions / median wall time.
    transitions_per_s: float
    status: str
    warning: str | None


@dataclass(frozen=True, slots=True)
class StartupFigure:
    """Wall time of a trivial command, median of several runs."""

    command: str
    runs: int
    median_s: float
    best_s: float
    exit_code: int


def _check(name: str, status: str, transitions: int, expected: int | None) -> str | None:
    problems = []
    if status != "SUCCEEDED":
        problems.append(f"status {status}")
    if expected is not None and transitions != expected:
        problems.append(f"{transitions} transitions, manifest says {expected}")
    return f"{name}: " + "; ".join(problems) if problems else None


async def run_many(
    machine: Any, workload: Workload, budget_s: float, min_runs: int, max_runs: int
) -> tuple[list[float], Any]:
    """One untimed warm-up run, then timed runs until ``budget_s`` and ``min_runs`` are met.

    Returns the per-run wall times and the last :class:`runtime.ExecutionResult`.
    """
    from runtime import VirtualClock, run

    payload = json.loads(workload.input_text)
    result = await run(machine, payload, clock=VirtualClock(_EPOCH))  # warm-up, untimed
    times: list[float] = []
    while len(times) < max_runs and (len(times) < min_runs or sum(times) < budget_s):
        payload = json.loads(workload.input_text)  # a fresh input, parsed outside the timing
        start = time.perf_counter()
        result = await run(machine, payload, clock=VirtualClock(_EPOCH))
        times.append(time.perf_counter() - start)
    return times, result


#: A small definition touching every state type, paths, templates, intrinsics and Choice
#: rules: compiled once before the first figure so that no compile time is import time.
_WARM_UP: dict[str, Any] = {
    "StartAt": "P",
    "States": {
        "P": {
            "Type": "Pass",
            "Parameters": {"a.$": "$.x", "f.$": "States.Format('{}', $.x)"},
            "ResultPath": "$.p",
            "Next": "C",
        },
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.x", "NumericGreaterThan": 1, "Next": "W"}],
            "Default": "M",
        },
        "W": {"Type": "Wait", "Seconds": 1, "Next": "M"},
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "S", "States": {"S": {"Type": "Succeed"}}},
            "Next": "B",
        },
        "B": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "T"}],
            "Next": "T",
        },
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f", "Payload.$": "$"},
            "Retry": [{"ErrorEquals": ["States.ALL"]}],
            "End": True,
        },
    },
}


def warm_compiler() -> None:
    """Import what compiling needs, so a workload's compile figure is compile time only."""
    from runtime import load_machine

    load_machine(json.loads(json.dumps(_WARM_UP)))


def measure_library(
    workload: Workload, budget_s: float = 1.0, min_runs: int = 3, max_runs: int = 10_000
) -> LibraryFigure:
    """Run ``workload`` through ``runtime.run`` for about ``budget_s`` seconds.

    The compile figure is the first ``load_machine`` of the definition in this process
    (imports already warm, nothing remembered of it); ``recompile_s`` is the median of
    compiling an equal copy again (the remembered machine).
    """
    from runtime import load_machine

    warm_compiler()
    text = json.dumps(workload.definition)
    start = time.perf_counter()
    try:
        machine = load_machine(workload.definition)
        compile_s = time.perf_counter() - start
        again = []
        for _ in range(5):
            fresh = json.loads(text)
            begin = time.perf_counter()
            load_machine(fresh)
            again.append(time.perf_counter() - begin)
        times, result = asyncio.run(run_many(machine, workload, budget_s, min_runs, max_runs))
    except Exception as exc:  # a runtime bug must not stop the other figures
        return _crashed(workload.name, exc)
    total = sum(times)
    median_again = statistics.median(again)
    return LibraryFigure(
        workload=workload.name,
        compile_s=compile_s,
        runs=len(times),
        median_s=statistics.median(times),
        best_s=min(times),
        transitions=result.transitions,
        transitions_per_s=result.transitions * len(times) / total if total > 0 else 0.0,
        with_compile_per_s=result.transitions / (statistics.median(times) + compile_s),
        status=result.status,
        warning=_check(workload.name, result.status, result.transitions, workload.transitions),
        recompile_s=statistics.median(again),
        with_recompile_per_s=result.transitions / (statistics.median(times) + median_again),
    )


def _crashed(name: str, exc: Exception) -> LibraryFigure:
    text = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return LibraryFigure(name, 0.0, 0, 0.0, 0.0, 0, 0.0, 0.0, "ERROR", f"{name}: raised {text}")


def asl_command() -> list[str]:
    """The ``asl`` console script beside this interpreter (or ``python -c`` its main)."""
    script = Path(sys.executable).with_name("asl")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from runtime.cli import main; sys.exit(main())"]


def _timed(
    argv: Sequence[str], timeout: float, env: dict[str, str] | None = None
) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    return time.perf_counter() - start, done


def _exec_outcome(done: subprocess.CompletedProcess[str]) -> tuple[str, int]:
    """Status and StateEntered count from ``asl exec --json`` output."""
    try:
        doc = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"ERROR (exit {done.returncode}: {tail[:120]})", 0
    entered = sum(1 for event in doc.get("events", ()) if event.endswith("StateEntered"))
    return str(doc.get("status")), entered


def measure_cli_exec(
    workload: Workload, definition: Path, payload: Path, runs: int = 3, timeout: float = 300.0
) -> CliFigure:
    """``asl exec DEF --input IN --clock virtual --json``, ``runs`` times."""
    argv = [*asl_command(), "exec", str(definition), "--input", str(payload)]
    argv += ["--clock", "virtual", "--json"]
    times, status, entered = [], "", 0
    for _ in range(runs):
        try:
            seconds, done = _timed(argv, timeout)
        except subprocess.TimeoutExpired:
            times.append(timeout)
            status, entered = f"ERROR (timed out after {timeout:.0f} s)", 0
            break
        times.append(seconds)
        status, entered = _exec_outcome(done)
    median = statistics.median(times)
    return CliFigure(
        workload=workload.name,
        runs=len(times),
        median_s=median,
        best_s=min(times),
        transitions=entered,
        transitions_per_s=entered / median if median > 0 else 0.0,
        status=status,
        warning=_check(f"asl exec {workload.name}", status, entered, workload.transitions),
    )


def measure_startup(
    label: str, argv: Sequence[str], runs: int = 7, env: dict[str, str] | None = None
) -> StartupFigure:
    """Median wall time of ``argv`` over ``runs`` runs, after one untimed run.

    The untimed run writes the bytecode caches (``__pycache__``) that an installed tool
    has; ``PYTHONDONTWRITEBYTECODE`` is dropped from the environment for the same reason,
    or every run would time compiling each module's source.
    """
    run_env = dict(os.environ if env is None else env)
    run_env.pop("PYTHONDONTWRITEBYTECODE", None)
    _timed(argv, 60.0, run_env)
    times, code = [], 0
    for _ in range(runs):
        seconds, done = _timed(argv, 60.0, run_env)
        times.append(seconds)
        code = done.returncode
    return StartupFigure(label, runs, statistics.median(times), min(times), code)
