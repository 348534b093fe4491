"""Smoke test of the benchmark harness (bench/): it runs on tiny sizes and produces numbers.

Nothing here judges speed: the figures are checked for shape (positive, counted, written),
never against a threshold.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from bench import ours, parked, peers, report, serve_load, serve_scale, workloads  # noqa: E402
from bench.run import main as bench_main  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (SHARED / "bench" / "workloads" / "manifest.json").exists(),
    reason="needs shared/bench beside the repository",
)


def test_standard_workloads_have_manifest_counts() -> None:
    loads = workloads.load_standard(SHARED)
    assert [w.name for w in loads] == list(workloads.STANDARD)
    assert {w.name: w.transitions for w in loads}["choice_loop"] == 2002
    assert all(w.standard and w.definition["States"] for w in loads)


def test_generated_sizes_are_labelled_and_counted() -> None:
    loads = workloads.generated(SHARED, {"pass_chain": 5, "map_1k": 10_000})
    assert [(w.name, w.transitions, w.standard) for w in loads] == [
        ("pass_chain_5", 5, False),
        ("map_10k", 30_001, False),
    ]


def test_parse_sizes() -> None:
    assert workloads.parse_sizes("pass_chain=10, map_1k=20") == {"pass_chain": 10, "map_1k": 20}
    assert workloads.parse_sizes("none") == {}
    with pytest.raises(ValueError, match="bad size"):
        workloads.parse_sizes("nosuch=3")


def test_library_figure_counts_transitions() -> None:
    (tiny,) = workloads.generated(SHARED, {"pass_chain": 5})
    fig = ours.measure_library(tiny, budget_s=0.0, min_runs=2)
    assert fig.status == "SUCCEEDED"
    assert (fig.runs, fig.transitions, fig.warning) == (2, 5, None)
    assert fig.transitions_per_s > 0 and fig.best_s <= fig.median_s


def test_library_figure_warns_on_wrong_manifest_count() -> None:
    (tiny,) = workloads.generated(SHARED, {"choice_loop": 2})
    wrong = workloads.Workload("wrong", tiny.definition, tiny.input_text, 7, False)
    fig = ours.measure_library(wrong, budget_s=0.0, min_runs=1)
    assert fig.warning == "wrong: 6 transitions, manifest says 7"


def test_parked_executions_wait_then_finish_after_one_virtual_day() -> None:
    fig = asyncio.run(parked.park(25))
    assert fig.statuses == {"SUCCEEDED": 25}
    assert fig.virtual_elapsed_s == 86_400
    assert fig.hwm_rss_bytes > 0


def test_serve_load_parks_then_runs_and_leaves_the_parked_running(tmp_path: Path) -> None:
    fig = anyio.run(functools.partial(serve_load.load, 20, 5, idle_s=0.0, folder=tmp_path))
    assert fig.statuses == {"RUNNING": 20, "SUCCEEDED": 5}
    assert fig.ended == 5
    assert fig.transitions == 5 * serve_load.WORK_TRANSITIONS == 250
    assert 1 <= fig.peak_in_flight <= 5
    assert fig.started_per_s > 0 and fig.transitions_per_s > 0 and fig.events_per_s > 0
    # Readings only: the kernel's VmHWM can lag by a page or so between two reads.
    assert fig.rss_bytes > 0 and fig.hwm_end_bytes > 0 and fig.hwm_parked_bytes > 0
    assert list(tmp_path.iterdir()) == []  # the temporary store is gone


def test_serve_load_figure_renders() -> None:
    fig = serve_load.ServeLoadFigure(**{**_SERVE_FIGURE, "transitions_per_s": 12345.0})
    console = Console(file=io.StringIO(), width=250)
    report.render_serve_load(console, [fig])
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "12,345" in text and "RUNNING 20, SUCCEEDED 5" in text


_SERVE_FIGURE: dict[str, Any] = dict.fromkeys(serve_load.ServeLoadFigure.__slots__, 1)
_SERVE_FIGURE.update(mode="rss", statuses={"RUNNING": 20, "SUCCEEDED": 5}, poll_s=0.05)


def test_peer_driver_crash_becomes_an_error_figure(tmp_path: Path) -> None:
    # Our venv has no localstack: the driver fails to import, and the harness reports it.
    (tiny,) = workloads.generated(SHARED, {"pass_chain": 3})
    files = workloads.write_files(tiny, tmp_path)
    fig = peers.run_peer(Path(sys.executable), SHARED, "localstack", tiny.name, files, 3)
    assert fig.status == "ERROR" and fig.transitions_per_s is None
    assert fig.error is not None and fig.error.startswith("exit ")


def test_ratio_and_rates_render() -> None:
    assert report.ratio(2000.0, 10.0) == "×200"
    assert report.ratio(15.0, 10.0) == "×1.5"
    assert report.ratio(None, 10.0) == "—"
    assert report.fmt_rate(1234567.8) == "1,234,568"


def test_quick_run_prints_tables_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "latest.json"
    argv = ["--shared", str(SHARED), "--quick", "--no-peers", "--workloads", "pass_chain"]
    sizes = ["--parked", "20", "--serve-parked", "20", "--serve-running", "5"]
    sizes += ["--serve-short", "3", "--serve-long-transitions", "2000"]
    sizes += ["--serve-workers-executions", "4"]
    sizes += ["--api-executions", "6", "--api-threads", "2", "--fleet-executions", "0"]
    assert bench_main([*argv, *sizes, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "State transitions per second" in printed and "pass_chain" in printed
    assert "asl serve: parked and running executions" in printed
    doc = json.loads(out.read_text())
    (lib,) = doc["library"]
    assert lib["workload"] == "pass_chain" and lib["transitions"] == 200
    assert lib["transitions_per_s"] > 0
    assert doc["cli_exec"]["pass_chain"]["median_s"] > 0
    assert [s["command"] for s in doc["startup"]][1] == "asl --help"
    assert doc["parked"][0]["statuses"] == {"SUCCEEDED": 20}
    (latency,) = doc["serve_scale"]["latency"]
    assert latency["short"] >= 1 and latency["statuses"]["SUCCEEDED"] >= 2
    assert [(w["workers"], w["count"], w["failed"]) for w in doc["serve_scale"]["workers"]] == [
        (1, 4, 0),
        (2, 4, 0),
    ]
    assert "asl serve --workers N --once" in printed
    (serve,) = doc["serve"]
    assert serve["statuses"] == {"RUNNING": 20, "SUCCEEDED": 5} and serve["transitions"] == 250
    assert doc["peers"] == []
    assert "Step Functions API loop" in printed and "ours÷moto" in printed
    assert [(a["server"], a["executions"], a["failed"]) for a in doc["api"]] == [
        ("asl serve --api", 6, 0),
        ("moto server", 6, 0),
    ]


def test_render_throughput_shows_peer_ratio() -> None:
    lib = ours.LibraryFigure("w", 0.1, 3, 0.01, 0.01, 100, 10_000.0, 900.0, "SUCCEEDED", None)
    peer = peers.PeerFigure("localstack", "w", "4.9.2", 1, 100.0, 1.0, "SUCCEEDED", 0.5, None)
    console = Console(file=io.StringIO(), width=200)
    report.render_throughput(console, [lib], {}, {("localstack", "w"): peer}, ["localstack"], [])
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "10,000" in text and "×100" in text


def test_distributed_map_figure_with_two_processes(tmp_path: Path) -> None:
    from bench import dmap

    dmap.write_items(tmp_path, 600)
    figure = dmap.measure_dmap(tmp_path, 600, 2)
    assert (figure.status, figure.items, figure.processes) == ("SUCCEEDED", 600, 2)
    assert figure.seconds > 0 and figure.rss_mib > 0 and figure.worker_rss_mib > 0
    manifest = next((tmp_path / "results").rglob("manifest.json"))
    succeeded = json.loads(manifest.read_text())["ResultFiles"]["SUCCEEDED"]
    records = json.loads((tmp_path / succeeded[0]["Key"]).read_text())
    assert [json.loads(r["Output"])["id"] for r in records] == list(range(600))


def test_distributed_map_figure_names_a_missing_items_file(tmp_path: Path) -> None:
    from bench import dmap

    with pytest.raises(RuntimeError) as refused:
        dmap.measure_dmap(tmp_path, 10, 1)
    message = str(refused.value)
    assert "\n" not in message and "items.jsonl" in message and str(tmp_path) in message


def test_a_failed_distributed_map_figure_says_why(tmp_path: Path) -> None:
    from bench import dmap

    (tmp_path / "items.jsonl").write_text('{"id": 1}\n')  # no "name": Pick fails
    figure = dmap.measure_dmap(tmp_path, 1, 1)
    assert figure.status == "FAILED"
    assert figure.why.startswith("States.Runtime: ") and "'Pick'" in figure.why
    assert f"FAILED ({figure.why})" in figure.describe(None)


def test_console_list_figure_times_every_kind_of_page() -> None:
    from bench.console_list import measure

    figure = measure(200, repeat=1)
    assert figure["executions"] == 200
    assert set(figure["median_ms"]) == {
        "first page",
        "FAILED",
        "machine + RUNNING",
        "rare name prefix",
        "page 4 (keyset)",
        "state machines",
        "state machine page",
        "one execution",
    }


def test_serve_scale_latency_runs_short_beside_long(tmp_path: Path) -> None:
    fig = anyio.run(functools.partial(serve_scale.latency, 3, 100, folder=tmp_path))
    assert fig.short >= 1 and fig.long_transitions >= 100
    assert set(fig.statuses) == {"SUCCEEDED"}
    assert 0 < fig.p50_ms <= fig.p99_ms <= fig.max_ms
