"""Ctrl-C during ``asl exec``: exit 130 and say what became of the execution."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

WAITING = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def interrupt(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Start ``asl exec`` on a one-hour real Wait, send SIGINT once it waits, collect it."""
    machine = tmp_path / "m.json"
    machine.write_text(json.dumps(WAITING))
    env = {**os.environ, "COLUMNS": "400"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "exec", str(machine), "--name", "night", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    seen = []
    # The trace writes its lines before the Wait blocks: read until the state shows.
    for line in proc.stderr:
        seen.append(line)
        if "execution started" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "".join(seen) + err)


def test_ctrl_c_says_the_execution_is_left_running_and_how_to_resume_it(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    done = interrupt(tmp_path, "--store", str(store))
    assert done.returncode == 130
    assert "Traceback" not in done.stderr
    assert "'night' is left RUNNING" in done.stderr
    assert f"asl resume night --store {store}" in done.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "executions", "--store", str(store), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    [row] = json.loads(listed.stdout)["executions"]
    assert row["name"] == "night" and row["status"] == "RUNNING"


def test_ctrl_c_without_a_store_says_nothing_can_resume_it(tmp_path: Path) -> None:
    done = interrupt(tmp_path, "--no-store")
    assert done.returncode == 130
    assert "not recorded in a store" in done.stderr
    assert "Traceback" not in done.stderr
