"""What the lease fence costs each event write: ``Store.record`` with and without ``fence``.

Run as ``python -m bench.fencing --events 20000``; it prints one JSON line. Both kinds of
write go to one store file in alternating blocks (so disk and machine load hit them
alike), each block a fresh execution; the figure is the median time per event of each
kind over the blocks, and their difference.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["measure"]

_ARN = "arn:aws:states:us-east-1:123456789012"


def measure(events: int = 20_000, block: int = 500, definition_kb: int = 32) -> dict[str, Any]:
    """Per-event seconds of unfenced and fenced writes (medians over blocks of ``block``),
    for executions whose definition is about ``definition_kb`` KiB (the fence must not
    read it)."""
    from runtime.durable.store import ExecutionInfo, Store
    from runtime.engine.events import HistoryEvent

    states = {
        f"S{k}": {"Type": "Pass", "Comment": "x" * 80, "Next": f"S{k + 1}"}
        for k in range(definition_kb * 1024 // 120)
    }
    definition = {"StartAt": "S0", "States": {**states, f"S{len(states)}": {"Type": "Succeed"}}}
    per_kind: dict[str, list[float]] = {"unfenced": [], "fenced": []}
    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "s.db") as store:
        for n in range(max(2, events // block)):
            kind = "fenced" if n % 2 else "unfenced"
            arn = f"{_ARN}:execution:M:e{n}"
            info = ExecutionInfo(arn, f"e{n}", f"{_ARN}:stateMachine:M", "M", definition)
            store.begin_execution(info, {}, time.time())
            fence = store.acquire_lease(arn, "bench", time.time(), 60.0)
            started = time.perf_counter()
            for i in range(1, block + 1):
                event = HistoryEvent(i, i - 1, "PassStateEntered", time.time(), {"name": "P"})
                store.record(arn, event, fence=fence if kind == "fenced" else None)
            per_kind[kind].append((time.perf_counter() - started) / block)
    unfenced = statistics.median(per_kind["unfenced"])
    fenced = statistics.median(per_kind["fenced"])
    return {
        "events": events,
        "definition_kb": definition_kb,
        "unfenced_us": round(unfenced * 1e6, 2),
        "fenced_us": round(fenced * 1e6, 2),
        "fence_cost_us": round((fenced - unfenced) * 1e6, 2),
        "fence_cost_pct": round((fenced / unfenced - 1) * 100, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--definition-kb", type=int, default=32)
    args = parser.parse_args()
    print(json.dumps(measure(args.events, definition_kb=args.definition_kb)))


if __name__ == "__main__":
    main()
