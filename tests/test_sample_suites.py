"""Every sample has a suite, ``asl test`` passes them all, and each sample is covered in full
(the coverage table is printed: ``pytest tests/test_sample_suites.py -s`` shows it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runtime.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SUITES = sorted(SAMPLES.glob("*/*.asl-test.yaml"))
#: A MockConfigFile run unchanged, its expectations in MockConfigFile.expect.yaml.
SIDECAR = SAMPLES / "order_pipeline" / "MockConfigFile.json"


def test_every_sample_has_a_suite() -> None:
    samples = {p.parent for p in SAMPLES.glob("*/machine.asl.json")}
    assert samples and samples == {suite.parent for suite in SUITES}


def test_asl_test_passes_the_samples_with_full_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    argv = ["test", *map(str, SUITES), str(SIDECAR), "--json", str(report)]
    code = main([*argv, "--fail-under", "100"])
    out = capsys.readouterr().out
    with capsys.disabled():
        print("\n" + out[out.index("coverage") :])  # the coverage of each sample, shown
    assert code == 0, out
    doc = json.loads(report.read_text())
    assert doc["totals"]["failed"] == doc["totals"]["error"] == 0
    assert doc["totals"]["passed"] >= 3 * len(SUITES)
    covered = {Path(c["definition"]).parent.name: c["percent"] for c in doc["coverage"]}
    assert covered == {suite.parent.name: 100.0 for suite in SUITES}


def test_fail_under_100_fails_where_a_state_is_missed(capsys: pytest.CaptureFixture[str]) -> None:
    suite = SAMPLES / "order_pipeline" / "order_pipeline.asl-test.yaml"
    assert main(["test", str(suite), "-k", "HappyPath", "--fail-under", "100"]) == 1
    out = capsys.readouterr().out
    assert "under --fail-under 100" in out
    assert "RejectOrder" in out and "ReleaseStock" in out  # named among the missed


def test_a_broken_sample_expectation_fails(tmp_path: Path) -> None:
    """The sample suites can fail: the same suite with one expectation changed does."""
    sample = tmp_path / "nightly_report"
    shutil.copytree(SAMPLES / "nightly_report", sample)
    suite = sample / "nightly_report.asl-test.yaml"
    text = suite.read_text().replace("breaches: [checkout, accounts]}", "breaches: [checkout]}")
    assert text != suite.read_text()
    suite.write_text(text)
    assert main(["test", str(suite), "--quiet"]) == 1
