"""``asl serve`` logs one line per execution it starts and ends (text, or ``--json-log``)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio

from runtime.durable.serve import json_log_line, log_line, serve
from runtime.durable.store import ExecutionInfo, Store

PREFIX = "arn:aws:states:us-east-1:123456789012"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "no"}}}


def _store_unrun(store: Store, name: str, definition: Any) -> str:
    arn = f"{PREFIX}:execution:M:{name}"
    info = ExecutionInfo(
        arn,
        name,
        f"{PREFIX}:stateMachine:M",
        "M",
        definition,
        options={"clock": "real", "offline": True},
    )
    store.begin_execution(info, {}, time.time())
    return arn


def test_serve_tells_its_log_each_start_and_end(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = []
    with Store.open(tmp_path / "s.db") as store:
        ok = _store_unrun(store, "ok", PASS)
        bad = _store_unrun(store, "bad", FAIL)
        ended = anyio.run(lambda: serve(store, once=True, poll_seconds=0.01, log=records.append))
    assert ended == 2
    by = {(r["event"], r["name"]): r for r in records}
    assert set(by) == {("started", "ok"), ("ended", "ok"), ("started", "bad"), ("ended", "bad")}
    assert by["started", "ok"]["execution"] == ok
    assert by["ended", "ok"]["status"] == "SUCCEEDED" and "error" not in by["ended", "ok"]
    assert by["ended", "bad"]["execution"] == bad
    assert (by["ended", "bad"]["status"], by["ended", "bad"]["error"]) == ("FAILED", "Bad")
    assert by["ended", "ok"]["seconds"] >= 0 and by["ended", "ok"]["duration"] >= 0

    text = io.StringIO()
    for record in records:
        log_line(record, text)
    lines = text.getvalue().splitlines()
    assert f"asl serve: started ok ({ok})" in lines
    assert any(
        line.startswith("asl serve: ended bad FAILED in ") and line.endswith(": Bad: no")
        for line in lines
    )
    out = io.StringIO()
    json_log_line(by["ended", "ok"], out)
    assert json.loads(out.getvalue())["status"] == "SUCCEEDED"


def test_asl_serve_json_log_writes_json_lines(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    with Store.open(store) as db:
        _store_unrun(db, "ok", PASS)
    done = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "serve", "--once", "--json-log"],
        env=dict(os.environ, ASL_STORE=str(store)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    logged = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert [(r["event"], r["name"]) for r in logged] == [("started", "ok"), ("ended", "ok")]
    assert logged[1]["status"] == "SUCCEEDED"
