"""The web console's executions list with many executions in the store.

``python -m bench.console_list --executions 100000`` fills a temporary store (one
transaction of plain INSERTs: the figure is about reading), serves it with ``asl ui``'s
server on 127.0.0.1, and times full HTTP requests of the list: the first page, a page
deep in the keyset order (reached by following "Older" links), filtered pages (by
status, by state machine and status, by a rare name prefix), the state machines with
their counts and one state machine's page. Prints one JSON line; the issue's target is
under 200 ms a page with 100,000 executions.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from runtime.durable.store import Store
from runtime.server.console import ConsoleOptions, ConsoleServer

__all__ = ["fill", "measure"]

_MACHINES = ("Orders", "Nightly", "Reports", "Billing")
_STATUSES = ("SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "FAILED", "RUNNING", "ABORTED")
_PREFIX = "arn:aws:states:us-east-1:123456789012"
_DEFINITION = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def fill(path: Path, count: int) -> None:
    """``count`` executions (statuses and machines in turn) in a new store at ``path``."""
    Store.open(path).close()  # creates the schema
    conn = sqlite3.connect(path)
    rows = []
    for i in range(count):
        machine = _MACHINES[i % len(_MACHINES)]
        status = _STATUSES[i % len(_STATUSES)]
        start = 1_767_225_600.0 + i * 0.37
        stop = None if status == "RUNNING" else start + 2.5
        failed = status in ("FAILED", "ABORTED")
        rows.append(
            (
                f"{_PREFIX}:execution:{machine}:run-{i:07d}",
                f"run-{i:07d}",
                machine,
                f"{_PREFIX}:stateMachine:{machine}",
                _DEFINITION,
                json.dumps({"i": i}),
                status,
                start,
                stop,
                "Bench.Failure" if failed else None,
                "a cause" if failed else None,
            )
        )
    with conn:
        conn.executemany(
            "INSERT INTO executions (arn, name, state_machine_name, state_machine_arn, "
            "definition, input, status, start_time, stop_time, error, cause) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    conn.close()


def _get(url: str) -> tuple[float, str]:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as answer:
        body = answer.read().decode()
    return (time.perf_counter() - began) * 1000, body


def _older(base: str, page: str) -> str:
    found = re.search(r'<a href="(/\?[^"]+)" rel="next">', page)
    assert found is not None, "no Older link"
    return base + html.unescape(found.group(1))


def measure(count: int, repeat: int = 5, deep_pages: int = 40) -> dict[str, Any]:
    """Median milliseconds per list request, by kind of page."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.db"
        began = time.perf_counter()
        fill(path, count)
        fill_s = time.perf_counter() - began
        with ConsoleServer(ConsoleOptions(str(path), port=0)) as server:
            base = server.url
            urls = {
                "first page": base + "/",
                "FAILED": base + "/?status=FAILED",
                "machine + RUNNING": base + "/?machine=Nightly&status=RUNNING",
                "rare name prefix": base + f"/?name=run-{count - 3:07d}",
            }
            _, page = _get(urls["first page"])
            url = base + "/"
            deep_pages = min(deep_pages, count // 50 - 1)
            for _ in range(deep_pages):
                url = _older(base, page)
                _, page = _get(url)
            urls[f"page {deep_pages + 1} (keyset)"] = url
            figures = {
                label: round(statistics.median(_get(u)[0] for _ in range(repeat)), 1)
                for label, u in urls.items()
            }
            others = {
                "state machines": f"{base}/state-machines",
                "state machine page": f"{base}/state-machines/{_PREFIX}:stateMachine:Nightly",
            }
            for label, other in others.items():
                figures[label] = round(statistics.median(_get(other)[0] for _ in range(repeat)), 1)
            execution = f"{base}/executions/{_PREFIX}:execution:Orders:run-0000000"
            figures["one execution"] = round(
                statistics.median(_get(execution)[0] for _ in range(repeat)), 1
            )
    return {"executions": count, "fill_s": round(fill_s, 1), "median_ms": figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.executions, args.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
