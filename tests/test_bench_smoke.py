"""Smoke test of the benchmark harness (bench/): it runs on tiny sizes and produces numbers.

Nothing here judges speed: the figures are checked for shape (positive, counted, written),
never against a threshold.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path

import pytest
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from bench import ours, parked, peers, report, workloads  # noqa: E402
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
    assert bench_main([*argv, "--parked", "20", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "State transitions per second" in printed and "pass_chain" in printed
    doc = json.loads(out.read_text())
    (lib,) = doc["library"]
    assert lib["workload"] == "pass_chain" and lib["transitions"] == 200
    assert lib["transitions_per_s"] > 0
    assert doc["cli_exec"]["pass_chain"]["median_s"] > 0
    assert [s["command"] for s in doc["startup"]][1] == "asl --help"
    assert doc["parked"][0]["statuses"] == {"SUCCEEDED": 20}
    assert doc["peers"] == []


def test_render_throughput_shows_peer_ratio() -> None:
    lib = ours.LibraryFigure("w", 0.1, 3, 0.01, 0.01, 100, 10_000.0, 900.0, "SUCCEEDED", None)
    peer = peers.PeerFigure("localstack", "w", "4.9.2", 1, 100.0, 1.0, "SUCCEEDED", 0.5, None)
    console = Console(file=io.StringIO(), width=200)
    report.render_throughput(console, [lib], {}, {("localstack", "w"): peer}, ["localstack"], [])
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "10,000" in text and "×100" in text
