"""A Map over many items: iterations are built lazily, and AWS's 25,000-event history quota
ends the execution with its error (never an ExceptionGroup traceback)."""

from __future__ import annotations

from typing import Any

import pytest

from runtime import run_sync
from runtime.engine import fanout
from runtime.engine.execution import MAX_HISTORY_EVENTS


def map_of(state: dict[str, Any], concurrency: int = 0) -> dict[str, Any]:
    return {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": concurrency,
                "ItemProcessor": {"StartAt": "S", "States": {"S": {**state, "End": True}}},
                "End": True,
            }
        },
    }


WAIT = {"Type": "Wait", "Seconds": 1}
PASS = {"Type": "Pass"}


@pytest.mark.parametrize(
    ("state", "concurrency"),
    [(WAIT, 0), (WAIT, 40), (PASS, 0), (PASS, 1)],
    ids=["wait-unlimited", "wait-40", "pass-unlimited", "pass-sequential"],
)
def test_the_history_quota_ends_a_big_map_with_awss_error(
    state: dict[str, Any], concurrency: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[int] = []
    real = fanout._iteration_frame

    def counting(run: Any, started: int, index: int) -> Any:
        built.append(index)
        return real(run, started, index)

    monkeypatch.setattr(fanout, "_iteration_frame", counting)
    items = 100_000
    result = run_sync(map_of(state, concurrency), {"items": [0] * items})
    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert result.cause is not None
    assert f"maximum number of history events ({MAX_HISTORY_EVENTS})" in result.cause
    assert result.history[-1].type == "ExecutionFailed"
    # Each iteration writes at least 4 events: the quota stops it after about 6,250 of
    # them, and only those (plus the ones running at once) were ever built.
    assert len(built) < MAX_HISTORY_EVENTS // 2
    assert len(set(built)) == len(built)


def test_a_small_map_still_runs_every_item_in_order() -> None:
    result = run_sync(map_of(WAIT, 3), {"items": list(range(10))})
    assert result.status == "SUCCEEDED"
    assert result.output == list(range(10))
