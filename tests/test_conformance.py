"""The recorded AWS executions: a pass-rate floor, plus a sample through ``asl exec``.

The floor lives in ``conformance_floor.json``; raise it as cases get fixed. Cases we
believe AWS's recording does not pin (or that we knowingly diverge on) are listed there
with a reason each.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance_cases import CASES, SHARED, case_files, run_case

FLOOR_FILE = Path(__file__).with_name("conformance_floor.json")

pytestmark = pytest.mark.skipif(not case_files(), reason=f"no conformance cases in {CASES}")


def test_pass_rate_stays_above_the_floor() -> None:
    floor = json.loads(FLOOR_FILE.read_text())
    outcomes = [run_case(path) for path in case_files()]
    failed = {o.id: o.why for o in outcomes if not o.ok}
    unexpected = {k: v for k, v in failed.items() if k not in floor["known_failures"]}
    passed = len(outcomes) - len(failed)
    summary = "\n".join(f"{k}: {v}" for k, v in sorted(unexpected.items())[:40])
    assert passed >= floor["min_passed"], f"{passed} passed < floor\n{summary}"
    assert not unexpected, f"cases failing that are not known failures:\n{summary}"
    causes = [o.cause_ok for o in outcomes if o.cause_ok is not None]
    events = [o.events_ok for o in outcomes if o.events_ok is not None]
    assert sum(causes) >= floor["min_causes_equal"]
    assert sum(events) >= floor["min_events_equal"]


def test_a_sample_through_asl_exec(tmp_path: Path) -> None:
    """One case in 25 through the shared runner and the real ``asl`` command."""
    asl = shutil.which("asl", path=str(Path(sys.executable).parent))
    assert asl is not None
    sample = tmp_path / "cases"
    sample.mkdir()
    for path in case_files()[::25]:
        shutil.copy(path, sample)
    proc = subprocess.run(
        [
            sys.executable,
            str(SHARED / "conformance" / "run.py"),
            "--cmd",
            asl,
            "--cases",
            str(sample),
            "-v",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    in_process = {run_case(p).id: run_case(p).ok for p in sorted(sample.glob("*.json"))}
    expected_failures = sum(1 for ok in in_process.values() if not ok)
    assert f"{len(in_process) - expected_failures} passed, {expected_failures} failed" in (
        proc.stdout
    ), proc.stdout[-2000:]
