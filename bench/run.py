#!/usr/bin/env python3
"""``make bench``: print asl-runtime's figures beside LocalStack's and moto's interpreters.

Figures, never assertions: transitions/s through the library and through ``asl exec``, CLI
start-up, memory of 10,000 executions parked in a Wait, one ``asl serve`` holding 10,000
parked and 1,000 running executions of a store, the Step Functions API loop of
``asl serve --api`` beside moto's server (StartExecution + DescribeExecution until
SUCCEEDED, 1,000 executions from 8 client threads), the peers' transitions/s on the same
workloads in the same run, and the plain-CPython floor. Writes bench/results/latest.json.

    python bench/run.py --shared ../shared            # the default run (about 5 minutes)
    python bench/run.py --no-peers --large none       # ours only, six workloads
    python bench/run.py --profile pass_chain,choice_loop,map_1k
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as a script: put the repository (not bench/) first on sys.path so `bench.*` imports.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path.pop(0)
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402

from bench import (  # noqa: E402
    api_load,
    console_list,
    dmap,
    fleet,
    ours,
    parked,
    peers,
    report,
    serve_load,
    serve_scale,
    workloads,
)

RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True, slots=True)
class Settings:
    """What one run measures, from the command line."""

    shared: Path
    names: tuple[str, ...]
    large: dict[str, int]
    budget_s: float
    cli_runs: int
    startup_runs: int
    parked: int
    parked_tracemalloc: bool
    serve_parked: int
    serve_running: int
    serve_idle_s: float
    api_executions: int
    api_threads: int
    floor_s: float
    peer_names: tuple[str, ...]
    peers_large: bool
    peer_runs: int
    out: Path
    dmap_items: int = 1_000_000
    dmap_rounds: int = 3
    console_executions: int = 0
    fleet_executions: int = 0
    serve_short: int = 0
    serve_long_transitions: int = 0
    serve_workers_executions: int = 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="shared/ folder")
    p.add_argument("--workloads", default=",".join(workloads.STANDARD), help="shared workloads")
    p.add_argument(
        "--large",
        default=",".join(f"{k}={v}" for k, v in workloads.DEFAULT_LARGE.items()),
        help="generated sizes, NAME=SIZE,... or 'none' (default: %(default)s)",
    )
    p.add_argument("--budget", type=float, default=1.0, help="seconds of library runs each")
    p.add_argument("--cli-runs", type=int, default=3, help="asl exec runs per shared workload")
    p.add_argument("--startup-runs", type=int, default=5)
    p.add_argument("--parked", type=int, default=10_000, help="parked executions (0: skip)")
    p.add_argument("--no-tracemalloc", action="store_true", help="parked, serve: RSS only")
    p.add_argument(
        "--serve-parked", type=int, default=100_000, help="asl serve: parked executions (0: skip)"
    )
    p.add_argument("--serve-running", type=int, default=1_000, help="asl serve: working executions")
    p.add_argument(
        "--serve-short",
        type=int,
        default=5_000,
        help="asl serve: short executions beside long (one each 25 ms while they run, at most)",
    )
    p.add_argument(
        "--serve-long-transitions",
        type=int,
        default=1_000_000,
        help="asl serve: transitions of the long executions run meanwhile (0: skip)",
    )
    p.add_argument(
        "--serve-workers-executions",
        type=int,
        default=2_000,
        help="asl serve --workers 1 and 2: executions each (0: skip)",
    )
    p.add_argument(
        "--api-executions", type=int, default=1_000, help="API loop executions (0: skip)"
    )
    p.add_argument("--api-threads", type=int, default=8, help="API loop client threads")
    p.add_argument(
        "--console-executions",
        type=int,
        default=100_000,
        help="executions in the store for the web console's list pages (0: skip)",
    )
    p.add_argument("--floor-seconds", type=float, default=0.3, help="limit.py budget (0: skip)")
    p.add_argument("--peers", dest="peers", action="store_true", default=None)
    p.add_argument("--no-peers", dest="peers", action="store_false")
    p.add_argument(
        "--peer-list",
        default=",".join(peers.DEFAULT_PEERS),
        help=f"peers to run, from {', '.join(peers.PEERS)} (default: %(default)s)",
    )
    p.add_argument("--peer-runs", type=int, default=1, help="timed runs per peer driver")
    p.add_argument("--peers-large", action="store_true", help="peers on the large sizes too")
    p.add_argument("--quick", action="store_true", help="tiny sizes and budgets (smoke test)")
    p.add_argument("--profile", metavar="NAMES", help="only profile these workloads")
    p.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    p.add_argument(
        "--dmap-items", type=int, default=1_000_000, help="Distributed Map items (0: skip)"
    )
    p.add_argument(
        "--dmap-rounds",
        type=int,
        default=3,
        help="Distributed Map runs of each process count, interleaved; the median is shown",
    )
    p.add_argument(
        "--fleet-executions",
        type=int,
        default=1_000,
        help="asl serve fleet: executions per run, 1-3 servers on PostgreSQL (0: skip)",
    )
    return p


def _settings(args: argparse.Namespace, console: Console) -> Settings:
    want_peers = args.peers if args.peers is not None else peers.peers_python() is not None
    if want_peers and peers.peers_python() is None:
        console.print(f"[yellow]no peers venv at {peers.PEERS_VENV}; create it with:[/]")
        console.print(f"  {peers.SETUP_HINT}", highlight=False)
        want_peers = False
    quick = args.quick
    return Settings(
        shared=args.shared.resolve(),
        names=tuple(n for n in args.workloads.split(",") if n),
        large={} if quick else workloads.parse_sizes(args.large),
        budget_s=0.05 if quick else args.budget,
        cli_runs=1 if quick else args.cli_runs,
        startup_runs=1 if quick else args.startup_runs,
        parked=min(args.parked, 200) if quick else args.parked,
        parked_tracemalloc=not (quick or args.no_tracemalloc),
        serve_parked=min(args.serve_parked, 20) if quick else args.serve_parked,
        serve_running=min(args.serve_running, 5) if quick else args.serve_running,
        serve_idle_s=0.0 if quick else serve_load.IDLE_SECONDS,
        api_executions=min(args.api_executions, 20) if quick else args.api_executions,
        api_threads=args.api_threads,
        floor_s=0.0 if quick else args.floor_seconds,
        peer_names=tuple(n for n in args.peer_list.split(",") if n) if want_peers else (),
        peers_large=args.peers_large,
        peer_runs=args.peer_runs,
        out=args.out,
        dmap_items=min(args.dmap_items, 2_000) if quick else args.dmap_items,
        dmap_rounds=1 if quick else max(args.dmap_rounds, 1),
        console_executions=min(args.console_executions, 1_000)
        if quick
        else args.console_executions,
        fleet_executions=min(args.fleet_executions, 20) if quick else args.fleet_executions,
        serve_short=min(args.serve_short, 5) if quick else args.serve_short,
        serve_long_transitions=min(args.serve_long_transitions, 2_000)
        if quick
        else args.serve_long_transitions,
        serve_workers_executions=min(args.serve_workers_executions, 10)
        if quick
        else args.serve_workers_executions,
    )


def _progress(console: Console, text: str) -> None:
    console.print(f"[dim]… {text}[/]", highlight=False)


def _measure_ours(
    s: Settings, console: Console, loads: list[workloads.Workload], tmp: Path
) -> dict[str, Any]:
    library, cli = [], {}
    for load in loads:
        _progress(console, f"library: {load.name}")
        library.append(ours.measure_library(load, s.budget_s))
        runs = s.cli_runs if load.standard else 1  # the large sizes: one is enough
        if runs <= 0:  # --cli-runs 0: no asl exec figures
            continue
        _progress(console, f"asl exec: {load.name}")
        cli[load.name] = ours.measure_cli_exec(load, *workloads.write_files(load, tmp), runs=runs)
    small = workloads.write_files(loads[0], tmp / "small")[0] if loads else None
    return {"library": library, "cli_exec": cli, "startup": _startup(s, console, small)}


def _measure_jsonata(
    s: Settings, console: Console, loads: list[workloads.Workload], library: list[Any]
) -> list[dict[str, Any]]:
    """Each workload with a JSONata twin, in both languages (the goal: JSONata within 3x)."""
    by_name = {figure.workload: figure for figure in library}
    out = []
    for load in loads:
        twin = workloads.jsonata_twin(load)
        if twin is None or load.name not in by_name:
            continue
        _progress(console, f"library: {twin.name}")
        jsonata, jsonpath = ours.measure_library(twin, s.budget_s), by_name[load.name]
        ratio = jsonata.median_s / jsonpath.median_s if jsonpath.median_s > 0 else None
        out.append(
            {
                "workload": load.name,
                "jsonpath_ms": jsonpath.median_s * 1000,
                "jsonata_ms": jsonata.median_s * 1000,
                "ratio": ratio,
                "warning": jsonata.warning,
            }
        )
    return out


def _render_jsonata(console: Console, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else "n/a"
        console.print(
            f"JSONata vs JSONPath, {row['workload']}: {row['jsonata_ms']:.1f} ms vs "
            f"{row['jsonpath_ms']:.1f} ms median per execution = {ratio} (target: within 3x)",
            highlight=False,
        )
        if row["warning"]:
            console.print(f"[yellow]warning:[/] {row['warning']}", highlight=False)


def _startup(s: Settings, console: Console, small: Path | None) -> list[ours.StartupFigure]:
    if s.startup_runs <= 0:  # --startup-runs 0: no start-up figures
        return []
    _progress(console, "CLI start-up")
    asl = ours.asl_command()
    commands = [
        ("python -c pass (floor)", [sys.executable, "-c", "pass"]),
        ("asl --help", [*asl, "--help"]),
    ]
    if small is not None:
        commands.append((f"asl validate {small.name}", [*asl, "validate", str(small)]))
    # Goal (#16): a one-state `asl exec` within 3x `python -c 'import json'`.
    commands.append(("python -c 'import json'", [sys.executable, "-c", "import json"]))
    if small is not None:
        one = small.parent / "one_state.asl.json"
        one.write_text('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}\n')
        exec_one = [*asl, "exec", str(one), "--clock", "virtual", "--no-store"]
        commands.append(("asl exec one Pass state --no-store", exec_one))
        # The same run printing one JSON document: no live trace, so no rich.
        commands.append(("asl exec one Pass state --no-store --json", [*exec_one, "--json"]))
    return [ours.measure_startup(label, argv, s.startup_runs) for label, argv in commands]


def _measure_parked(s: Settings, console: Console) -> list[parked.ParkedFigure]:
    if s.parked <= 0:
        return []
    modes = ("rss", "tracemalloc") if s.parked_tracemalloc else ("rss",)
    figures = []
    for mode in modes:
        _progress(console, f"{s.parked:,} parked executions ({mode})")
        try:
            figures.append(parked.measure_parked(s.parked, mode))
        except RuntimeError as exc:
            console.print(f"[yellow]warning: parked ({mode}): {exc}[/]", highlight=False)
    return figures


def _measure_serve(s: Settings, console: Console) -> list[serve_load.ServeLoadFigure]:
    """One ``asl serve`` on a store file: RSS and throughput, then tracemalloc parked only."""
    if s.serve_parked <= 0:
        return []
    runs = [("rss", s.serve_parked, s.serve_running, s.serve_idle_s)]
    if s.parked_tracemalloc:  # memory only: tracing slows everything
        runs.append(("tracemalloc", min(s.serve_parked, 10_000), 0, 0.0))
    figures = []
    for mode, count, running, idle_s in runs:
        _progress(console, f"asl serve: {count:,} parked + {running:,} running ({mode})")
        try:
            figures.append(serve_load.measure_serve_load(count, running, mode, idle_s))
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            console.print(f"[yellow]warning: asl serve ({mode}): {exc}[/]", highlight=False)
    return figures


def _measure_serve_scale(s: Settings, console: Console) -> dict[str, list[Any]]:
    """Short executions beside long ones in one serve; --workers 1 and 2 throughput."""
    figures: dict[str, list[Any]] = {"latency": [], "workers": []}
    if s.serve_long_transitions > 0 and s.serve_short > 0:
        _progress(console, f"asl serve: {s.serve_short} short beside long executions")
        try:
            figures["latency"].append(
                serve_scale.measure_latency(s.serve_short, s.serve_long_transitions)
            )
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            console.print(f"[yellow]warning: asl serve latency: {exc}[/]", highlight=False)
    for workers in (1, 2) if s.serve_workers_executions > 0 else ():
        _progress(console, f"asl serve --workers {workers}: {s.serve_workers_executions:,}")
        try:
            figures["workers"].append(serve_scale.throughput(workers, s.serve_workers_executions))
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            console.print(f"[yellow]warning: asl serve --workers: {exc}[/]", highlight=False)
    return figures


def _measure_api(s: Settings, console: Console) -> list[api_load.ApiLoadFigure]:
    """The API loop against ``asl serve --api``, then against moto's server."""
    if s.api_executions <= 0:
        return []
    figures = []
    for label, measure in (("asl serve --api", api_load.measure_ours), ("moto", None)):
        _progress(console, f"API loop: {label}, {s.api_executions:,} executions")
        try:
            if measure is not None:
                figures.append(measure(s.api_executions, s.api_threads))
                continue
            moto = api_load.measure_moto(s.api_executions, s.api_threads)
            if moto is None:
                console.print("[yellow]warning: moto[server] is not installed[/]")
            else:
                figures.append(moto)
        except (RuntimeError, OSError) as exc:
            console.print(f"[yellow]warning: API loop ({label}): {exc}[/]", highlight=False)
    return figures


def _measure_dmap(s: Settings, console: Console, tmp: Path) -> list[dmap.DmapFigure]:
    """A Distributed Map of ``dmap_items`` JSON Lines items, one process then every core."""
    if s.dmap_items <= 0:
        return []
    from runtime.distributed.workers import default_processes

    folder = tmp / "dmap"
    folder.mkdir()
    dmap.write_items(folder, s.dmap_items)
    runs: dict[int, list[dmap.DmapFigure]] = {}
    # Interleaved rounds: this host's speed drifts by tens of percent over minutes, so one
    # run of each is a poor ratio; the median of each count is shown, with the range.
    for number in range(s.dmap_rounds):
        for processes in sorted({1, default_processes()}):
            _progress(
                console,
                f"Distributed Map: {s.dmap_items:,} items, {processes} process(es), "
                f"round {number + 1} of {s.dmap_rounds}",
            )
            try:
                runs.setdefault(processes, []).append(
                    dmap.measure_dmap(folder, s.dmap_items, processes)
                )
            except RuntimeError as exc:
                console.print(f"[yellow]warning: Distributed Map: {exc}[/]", highlight=False)
    return [dmap.median_figure(figures) for _, figures in sorted(runs.items())]


def _render_dmap(console: Console, figures: list[dmap.DmapFigure]) -> None:
    one = next((f for f in figures if f.processes == 1), None)
    for figure in figures:
        console.print(figure.describe(one), highlight=False)


def _measure_console(s: Settings, console: Console) -> dict[str, Any]:
    """The web console's list pages over a store of ``console_executions`` executions."""
    if s.console_executions <= 0:
        return {}
    _progress(console, f"web console: list pages, {s.console_executions:,} executions")
    return console_list.measure(s.console_executions)


def _render_console(console: Console, figure: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"asl ui: one HTTP request, {figure['executions']:,} executions")
    table.add_column("page")
    table.add_column("median ms (target < 200)", justify="right")
    for label, ms in figure["median_ms"].items():
        table.add_row(label, f"{ms:.1f}")
    console.print(table)


def _measure_peers(
    s: Settings, console: Console, loads: list[workloads.Workload], tmp: Path
) -> dict[tuple[str, str], peers.PeerFigure]:
    python = peers.peers_python()
    out: dict[tuple[str, str], peers.PeerFigure] = {}
    if python is None:
        return out
    for peer in s.peer_names:
        for load in loads:
            if not (load.standard or s.peers_large):
                continue
            _progress(console, f"{peer}: {load.name}")
            files = workloads.write_files(load, tmp)
            out[peer, load.name] = peers.run_peer(
                python, s.shared, peer, load.name, files, load.transitions, runs=s.peer_runs
            )
    return out


def _warnings(console: Console, figures: dict[str, Any]) -> None:
    found = [f.warning for f in figures["library"] if f.warning]
    found += [f.warning for f in figures["cli_exec"].values() if f.warning]
    found += [
        f"{f.peer} {f.workload}: {f.status} {f.error}" for f in figures["peers"].values() if f.error
    ]
    for text in found:
        console.print(f"[yellow]warning:[/] {text}", highlight=False)


def _render(console: Console, s: Settings, figures: dict[str, Any]) -> None:
    console.print()
    report.render_throughput(
        console,
        figures["library"],
        figures["cli_exec"],
        figures["peers"],
        s.peer_names,
        figures["floor"],
    )
    _warnings(console, figures)
    _render_jsonata(console, figures.get("jsonata", []))
    report.render_startup(console, figures["startup"])
    if figures["parked"]:
        report.render_parked(console, figures["parked"])
    if figures["serve"]:
        report.render_serve_load(console, figures["serve"])
    scale = figures.get("serve_scale") or {}
    serve_scale.render(console, scale.get("latency", []), scale.get("workers", []))
    if figures["api"]:
        report.render_api_load(console, figures["api"])
    if figures["floor"]:
        report.render_floor(console, figures["floor"])
    _render_dmap(console, figures.get("dmap", []))
    if figures.get("console"):
        _render_console(console, figures["console"])
    fleet.render(console, figures.get("fleet", {}))


def _ratios(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Ours ÷ each peer per workload, for the JSON (the table shows the same)."""
    ours_rate = {f.workload: f.transitions_per_s for f in figures["library"]}
    out = []
    for (peer, name), fig in figures["peers"].items():
        theirs, mine = fig.transitions_per_s, ours_rate.get(name)
        ratio = mine / theirs if mine and theirs else None
        out.append({"workload": name, "peer": peer, "ours": mine, "theirs": theirs, "ratio": ratio})
    return out


def bench(s: Settings, console: Console) -> dict[str, Any]:
    """Measure everything ``s`` asks for, print the tables, write the JSON; return figures."""
    started = time.perf_counter()
    loads = workloads.load_standard(s.shared, s.names)
    loads += workloads.generated(s.shared, s.large)
    with tempfile.TemporaryDirectory(prefix="asl-bench-") as folder:
        figures = _measure_ours(s, console, loads, Path(folder))
        figures["jsonata"] = _measure_jsonata(s, console, loads, figures["library"])
        figures["parked"] = _measure_parked(s, console)
        figures["serve"] = _measure_serve(s, console)
        figures["serve_scale"] = _measure_serve_scale(s, console)
        figures["api"] = _measure_api(s, console)
        figures["dmap"] = _measure_dmap(s, console, Path(folder))
        figures["console"] = _measure_console(s, console)
        figures["fleet"] = fleet.measure_fleet(s.fleet_executions, lambda t: _progress(console, t))
        _progress(console, "plain-CPython floor (limit.py)")
        figures["floor"] = peers.run_limit(s.shared, s.floor_s) if s.floor_s > 0 else []
        figures["peers"] = _measure_peers(s, console, loads, Path(folder))
    _render(console, s, figures)
    document = {
        "python": sys.version.split()[0],
        "seconds": round(time.perf_counter() - started, 1),
        **figures,
        "peers": list(figures["peers"].values()),
        "ratios": _ratios(figures),
    }
    report.write_json(s.out, document)
    console.print(f"[dim]figures written to {s.out} ({document['seconds']} s)[/]")
    return figures


def _profile(args: argparse.Namespace, console: Console) -> None:
    from bench.hotspots import profile_workload

    names = [n for n in args.profile.split(",") if n]
    text = "".join(
        profile_workload(w) for w in workloads.load_standard(args.shared.resolve(), names)
    )
    console.print(text, highlight=False, markup=False)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "profile.txt").write_text(text, "utf-8")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns 0 unless the command line or the shared folder is wrong."""
    args = _parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:  # logs and pipes: wide enough that no column is cut
        console = Console(width=max(console.width, 200))
    if not (args.shared / "bench" / "workloads" / "manifest.json").exists():
        console.print(f"[red]error:[/] no bench/workloads/manifest.json under {args.shared}")
        return 2
    if args.profile:
        _profile(args, console)
        return 0
    bench(_settings(args, console), console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
