"""Smoke test of ``python -m bench.api_load``: it drives the API server and returns figures
of the right shape (never judged against a threshold)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import api_load  # noqa: E402


def test_api_load_measures_our_server() -> None:
    figure = api_load.measure_ours(executions=4, threads=2)
    assert (figure.server, figure.executions, figure.failed) == ("asl serve --api", 4, 0)
    assert figure.executions_per_s > 0 and 0 < figure.p50_ms <= figure.p99_ms


def test_the_machine_has_ten_states() -> None:
    assert len(api_load.machine()["States"]) == api_load.STATES == 10
