"""The peers: LocalStack's and moto's interpreters (in their own venv) and the CPython floor.

The drivers in ``shared/bench/peers/`` run a workload N times in process and print one JSON
line with ``transitions_per_s``. They need ``localstack-core`` / ``moto``, which do not
belong in our venv, so they run with the python of a separate venv (``~/.asl-peers``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_PEERS",
    "PEERS",
    "PEERS_VENV",
    "SETUP_HINT",
    "FloorFigure",
    "PeerFigure",
    "peers_python",
    "run_limit",
    "run_peer",
]

#: Where the peers' venv lives (outside the repo); ``ASL_PEERS_VENV`` overrides it.
PEERS_VENV = Path(os.environ.get("ASL_PEERS_VENV", Path.home() / ".asl-peers"))

#: Peer name -> driver file in ``shared/bench/peers/`` and its extra arguments.
#: ``localstack-evalonly`` parses the definition once and reuses it (LocalStack itself
#: re-parses every execution): the like-for-like of our compile-once figure.
PEERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "localstack": ("localstack_driver.py", ()),
    "moto": ("moto_driver.py", ()),
    "localstack-evalonly": ("localstack_driver.py", ("--parse-once",)),
}

#: The peers run by default (localstack-evalonly on request: it adds about 40 s).
DEFAULT_PEERS = ("localstack", "moto")

#: Pins from shared/bench/README.md (newer localstack-core does not import on Python 3.11).
SETUP_HINT = (
    f"python3 -m venv {PEERS_VENV} && {PEERS_VENV}/bin/pip install "
    '"localstack-core==4.9.2" rolo jsonpatch jpype1 pydantic "moto[stepfunctions]==5.2.5"'
)


@dataclass(frozen=True, slots=True)
class PeerFigure:
    """One driver run: a peer's throughput on one workload."""

    peer: str
    workload: str
    version: str | None
    runs: int
    transitions_per_s: float | None
    seconds_per_run: float | None
    status: str
    #: LocalStack only: time to parse the definition once (it re-parses every execution).
    parse_s: float | None
    #: Why there is no figure (driver crashed, timed out), else None.
    error: str | None


@dataclass(frozen=True, slots=True)
class FloorFigure:
    """One tier of ``limit.py``: plain CPython doing the workload's data work."""

    workload: str
    tier: str
    transitions_per_s: float
    ns_per_transition: float


def peers_python() -> Path | None:
    """The peers venv's python, or None when the venv has not been made."""
    python = PEERS_VENV / "bin" / "python"
    return python if python.exists() else None


def _failed(peer: str, workload: str, runs: int, error: str) -> PeerFigure:
    return PeerFigure(peer, workload, None, runs, None, None, "ERROR", None, error)


def _figure(peer: str, workload: str, runs: int, record: dict[str, Any]) -> PeerFigure:
    parse = record.get("parse_seconds")
    status = str(record.get("status"))
    error = None
    if status != "SUCCEEDED":
        error = f"{record.get('error')}: {str(record.get('cause'))[:120]}"
    return PeerFigure(
        peer=peer,
        workload=workload,
        version=record.get("version"),
        runs=runs,
        transitions_per_s=record.get("transitions_per_s"),
        seconds_per_run=record.get("seconds_per_run"),
        status=status,
        parse_s=float(parse) if parse is not None else None,
        error=error,
    )


def run_peer(
    python: Path,
    shared: Path,
    peer: str,
    workload: str,
    files: tuple[Path, Path],
    transitions: int | None,
    runs: int = 1,
    warmup: int = 1,
    timeout: float = 300.0,
) -> PeerFigure:
    """Run one peer driver on one workload; a crash or timeout becomes an error figure."""
    driver, extra = PEERS[peer]
    argv = [str(python), str(shared / "bench" / "peers" / driver), *map(str, files), str(runs)]
    argv += ["--warmup", str(warmup), "--no-output", *extra]
    if transitions is not None:
        argv += ["--transitions", str(transitions)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return _failed(peer, workload, runs, f"timed out after {timeout:.0f} s")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return _failed(peer, workload, runs, f"exit {done.returncode}: {tail[:160]}")
    return _figure(peer, workload, runs, json.loads(lines[-1]))


def run_limit(shared: Path, seconds: float = 0.3, timeout: float = 120.0) -> list[FloorFigure]:
    """``limit.py --seconds S``: the plain-CPython floor for pass_chain and choice_loop."""
    argv = [sys.executable, str(shared / "bench" / "limit.py"), "--seconds", str(seconds)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    figures = []
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            rec = json.loads(line)
            figures.append(
                FloorFigure(
                    rec["workload"], rec["tier"], rec["transitions_per_s"], rec["ns_per_transition"]
                )
            )
    return figures
