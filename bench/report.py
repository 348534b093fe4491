"""Render the figures as tables (rich) and write them as JSON.

Only presentation lives here: the numbers come from :mod:`bench.ours`, :mod:`bench.parked`,
:mod:`bench.serve_load` and :mod:`bench.peers`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.api_load import ApiLoadFigure
from bench.ours import CliFigure, LibraryFigure, StartupFigure
from bench.parked import ParkedFigure
from bench.peers import FloorFigure, PeerFigure
from bench.serve_load import WORK_TRANSITIONS, ServeLoadFigure

__all__ = [
    "fmt_rate",
    "ratio",
    "render_api_load",
    "render_floor",
    "render_parked",
    "render_serve_load",
    "render_startup",
    "render_throughput",
    "to_jsonable",
    "write_json",
]

#: limit.py's realistic floor tier: paths compiled once, ResultPath copies only its spine.
FLOOR_TIER = "interp_pathcopy"


def fmt_rate(value: float | None) -> str:
    """Transitions per second with thousands separators, or a dash."""
    return "—" if value is None else f"{value:,.0f}"


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:,.1f}"


def ratio(ours: float | None, theirs: float | None) -> str:
    """``ours / theirs`` as ``×12.3``, or a dash when either is missing."""
    if not ours or not theirs:
        return "—"
    value = ours / theirs
    return f"×{value:,.0f}" if value >= 100 else f"×{value:,.1f}"


def render_throughput(
    console: Console,
    library: Sequence[LibraryFigure],
    cli: Mapping[str, CliFigure],
    peers: Mapping[tuple[str, str], PeerFigure],
    peer_names: Sequence[str],
    floor: Iterable[FloorFigure],
) -> None:
    """The main table: transitions/s per workload, ours beside each peer, with ratios."""
    floors = {f.workload: f.transitions_per_s for f in floor if f.tier == FLOOR_TIER}
    table = Table(title="State transitions per second (higher is better)", title_justify="left")
    headers = ["workload", "trans.", "ours lib/s", "run ms", "compile ms", "again ms"]
    headers += ["+compile/s", "+again/s"]
    for header in (*headers, "asl exec ms"):
        table.add_column(header, justify="left" if header == "workload" else "right", no_wrap=True)
    for peer in peer_names:
        table.add_column(f"{peer}/s", justify="right")
        table.add_column(f"ours÷{peer}", justify="right")
    table.add_column("CPython floor/s", justify="right")
    for fig in library:
        exec_fig = cli.get(fig.workload)
        row = [
            fig.workload + (" ⚠" if fig.warning else ""),
            f"{fig.transitions:,}",
            fmt_rate(fig.transitions_per_s),
            _ms(fig.median_s),
            _ms(fig.compile_s),
            _ms(fig.recompile_s),
            fmt_rate(fig.with_compile_per_s),
            fmt_rate(fig.with_recompile_per_s),
            _ms(exec_fig.median_s if exec_fig else None),
        ]
        for peer in peer_names:
            theirs = peers.get((peer, fig.workload))
            rate = theirs.transitions_per_s if theirs else None
            row += [fmt_rate(rate), ratio(fig.transitions_per_s, rate)]
        row.append(fmt_rate(floors.get(fig.workload)))
        table.add_row(*row)
    console.print(table)
    console.print(
        "  ours lib/s: runtime.run, machine compiled once, many runs in one event loop; "
        "run ms: median per execution; +compile/s: transitions / (run + compile ms), the "
        "first (cold) compile paid by every execution, as if compiled per execution like "
        "LocalStack (compile ms: the first compile of the definition, imports warm, nothing "
        "remembered); +again/s: transitions / (run + again ms), the definition dict passed "
        "again to each run in one process (again ms: load_machine of an equal copy, which "
        "returns the machine remembered by the definition's text); "
        "asl exec ms: median wall time of "
        "`asl exec --clock virtual --json` as a subprocess (start-up included). "
        "Peers: their drivers, 1 warm-up + timed runs; LocalStack re-parses the definition "
        "every execution, as its provider does.",
        style="dim",
    )


def render_startup(console: Console, figures: Sequence[StartupFigure]) -> None:
    """CLI start-up: median wall time of trivial commands."""
    table = Table(title="CLI start-up (wall time, lower is better)", title_justify="left")
    for header in ("command", "runs", "median ms", "best ms", "exit"):
        table.add_column(header, justify="left" if header == "command" else "right")
    for fig in figures:
        table.add_row(
            fig.command, str(fig.runs), _ms(fig.median_s), _ms(fig.best_s), str(fig.exit_code)
        )
    console.print(table)


def render_parked(console: Console, figures: Sequence[ParkedFigure]) -> None:
    """Memory of executions parked in a one-day Wait on one virtual clock."""
    table = Table(title="Executions parked in a Wait (one VirtualClock)", title_justify="left")
    headers = ("count", "measure", "parked MiB", "bytes/exec", "start s", "finish s", "statuses")
    for header in headers:
        table.add_column(header, justify="right")
    for fig in figures:
        table.add_row(
            f"{fig.count:,}",
            "RSS delta" if fig.mode == "rss" else "tracemalloc",
            f"{fig.parked_bytes / 2**20:,.1f}",
            f"{fig.bytes_per_execution:,.0f}",
            f"{fig.start_s:.2f}",
            f"{fig.finish_s:.2f}",
            ", ".join(f"{k} {v}" for k, v in sorted(fig.statuses.items())),
        )
    console.print(table)
    console.print(
        "  start s: wall time to start them all until all are waiting; finish s: after the "
        "sampler leaves, the clock jumps one day and every execution ends.",
        style="dim",
    )


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f}"


def render_serve_load(console: Console, figures: Sequence[ServeLoadFigure]) -> None:
    """One ``asl serve`` process: executions parked in a real-clock Wait, others running."""
    table = Table(title="asl serve: parked and running executions", title_justify="left")
    parked = ("measure", "parked", "in store", "park s", "started/s", "RSS MiB", "bytes/parked")
    working = ("HWM MiB", "idle CPU", "running", "work s", "trans./s", "events/s", "in flight")
    for header in (*parked, *working, "statuses"):
        table.add_column(header, justify="right")
    for fig in figures:
        worked = fig.running > 0
        table.add_row(
            "RSS delta" if fig.mode == "rss" else "tracemalloc",
            f"{fig.parked:,}",
            f"{fig.parked_in_store:,}",
            f"{fig.park_s:.2f}",
            fmt_rate(fig.started_per_s),
            _mib(fig.rss_bytes),
            f"{fig.bytes_per_parked:,.0f}",
            _mib(fig.hwm_end_bytes),
            f"{fig.idle_cpu:.0%}" if fig.idle_s > 0 else "—",
            f"{fig.running:,}",
            f"{fig.work_s:.2f}" if worked else "—",
            fmt_rate(fig.transitions_per_s if worked else None),
            fmt_rate(fig.events_per_s if worked else None),
            f"{fig.peak_in_flight:,}" if worked else "—",
            ", ".join(f"{k} {v}" for k, v in sorted(fig.statuses.items())),
        )
    console.print(table)
    console.print(
        "  runtime.durable.serve in a fresh process on a store file: executions stored RUNNING "
        "unrun (as `asl start`), then served with the default max_running (1000) and a "
        f"{figures[0].poll_s:g} s poll. park s: until every one recorded WaitStateEntered "
        "(1-hour real-clock Wait); in store: parked as store rows (no task; "
        "runtime.durable.parking), the rest wait in memory; RSS: the process's with all "
        "parked; idle CPU: CPU/wall while all are parked; then the "
        f"working ones ({WORK_TRANSITIONS} transitions each, every event committed) are "
        "stored; work s: until all succeeded; in flight: most started and not yet ended at "
        "once. After stop the parked ones stay RUNNING.",
        style="dim",
    )


def render_api_load(console: Console, figures: Sequence[ApiLoadFigure]) -> None:
    """The Step Functions API loop: ours beside moto's server, with the ratios."""
    table = Table(title="Step Functions API loop (boto3 clients)", title_justify="left")
    headers = ("server", "executions", "threads", "exec/s", "p50 ms", "p99 ms")
    extra = ("server CPU ms/exec", "client CPU ms/exec", "calls/exec", "failed", "load")
    for header in (*headers, *extra):
        table.add_column(header, justify="left" if header == "server" else "right")
    for fig in figures:
        table.add_row(
            fig.server,
            f"{fig.executions:,}",
            str(fig.threads),
            f"{fig.executions_per_s:,.1f}",
            f"{fig.p50_ms:,.1f}",
            f"{fig.p99_ms:,.1f}",
            f"{fig.server_cpu_ms:,.2f}",
            f"{fig.client_cpu_ms:,.2f} ({fig.processes} proc.)",
            f"{fig.calls:,.1f}",
            str(fig.failed),
            f"{fig.load:.2f}",
        )
    console.print(table)
    ours = next((f for f in figures if f.server != "moto server"), None)
    moto = next((f for f in figures if f.server == "moto server"), None)
    if ours is not None and moto is not None:
        console.print(
            f"  ours÷moto: throughput {ratio(ours.executions_per_s, moto.executions_per_s)} "
            f"(goal ×20), server CPU per execution "
            f"{ratio(moto.server_cpu_ms, ours.server_cpu_ms)} less.",
            highlight=False,
        )
    console.print(
        "  StartExecution, then DescribeExecution every 5 ms until SUCCEEDED, of a 10-state "
        "Pass chain; each server in its own process (moto.server with execute_state_machine "
        "on), the boto3 client threads spread over client processes, the same for both. "
        "calls/exec: StartExecution plus the polls (more when executions end later). load: "
        "1-minute load average at the end (the cores are shared: on a loaded machine every "
        "process gets its share of CPU, so exec/s follows the server's CPU per execution).",
        style="dim",
    )


def render_floor(console: Console, figures: Sequence[FloorFigure]) -> None:
    """All tiers of limit.py (plain CPython doing the workload's data work)."""
    table = Table(title="Plain-CPython floor (shared/bench/limit.py)", title_justify="left")
    for header in ("workload", "tier", "transitions/s", "ns/transition"):
        table.add_column(header, justify="right")
    for fig in figures:
        table.add_row(
            fig.workload, fig.tier, fmt_rate(fig.transitions_per_s), f"{fig.ns_per_transition:,}"
        )
    console.print(table)


def to_jsonable(value: Any) -> Any:
    """Dataclasses (also inside lists and dicts) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    """Write ``document`` (dataclasses allowed) as indented JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_jsonable(document), indent=1) + "\n", "utf-8")
