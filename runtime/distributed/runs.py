"""The Map Run resource: what DescribeMapRun, ListMapRuns and ListExecutions(mapRunArn) show.

A :class:`MapRunRecord` is kept by :class:`runtime.distributed.maprun.MapRun` while it
runs: its identity (``arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/LABEL:ID``), status,
dates, the runtime settings UpdateMapRun may change (``maxConcurrency``,
``toleratedFailurePercentage``, ``toleratedFailureCount``), and the counters of items and
child executions by status (botocore's ``MapRunItemCounts`` and
``MapRunExecutionCounts``). A child execution whose batch holds several items counts once
among the executions and once per item among the items.

Execution observers that have a ``map_run(record, children)`` method (the store's
recorder) hear of each Map Run when it starts and when it ends, with its children then.
Live records are also kept in :data:`LIVE` by ARN, so an UpdateMapRun served in the same
process (``asl serve --api``) changes the tolerance of a running Map Run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COUNTERS", "LIVE", "MapRunRecord", "child_list_item"]

#: The counters of ``itemCounts`` and ``executionCounts``, in botocore's order.
COUNTERS = (
    "pending",
    "running",
    "succeeded",
    "failed",
    "timedOut",
    "aborted",
    "total",
    "resultsWritten",
    "failuresNotRedrivable",
    "pendingRedrive",
)

#: Map Runs running in this process, by ARN (see the module's docstring).
LIVE: dict[str, MapRunRecord] = {}


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNTERS, 0)


@dataclass
class MapRunRecord:
    """One Map Run; dates are epoch seconds."""

    arn: str
    execution_arn: str
    state_machine_arn: str
    start: float
    max_concurrency: int = 0
    tolerated_failure_percentage: float = 0.0
    tolerated_failure_count: int = 0
    status: str = "RUNNING"
    stop: float | None = None
    redrive_count: int = 0
    redrive_date: float | None = None
    items: dict[str, int] = field(default_factory=_zero)
    executions: dict[str, int] = field(default_factory=_zero)

    # -- counting ------------------------------------------------------------------

    def read(self, count: int = 1) -> None:
        """Items read from the source, not started yet."""
        self.items["total"] += count
        self.items["pending"] += count

    def started(self, size: int) -> None:
        """A child execution holding ``size`` items started."""
        self.items["pending"] -= size
        self.items["running"] += size
        self.executions["total"] += 1
        self.executions["running"] += 1

    def ended(self, size: int, status: str) -> None:
        """A running child execution ended with ``status`` (SUCCEEDED, FAILED...)."""
        key = _KEYS[status]
        self.items["running"] -= size
        self.items[key] += size
        self.executions["running"] -= 1
        self.executions[key] += 1

    def succeeded(self, items: int, executions: int) -> None:
        """``executions`` children holding ``items`` items started and succeeded."""
        self.items["pending"] -= items
        self.items["succeeded"] += items
        self.executions["total"] += executions
        self.executions["succeeded"] += executions

    def reused(self, size: int) -> None:
        """A child that succeeded before a redrive, counted again without running."""
        self.items["pending"] -= size
        self.items["succeeded"] += size
        self.executions["total"] += 1
        self.executions["succeeded"] += 1

    def unstarted(self) -> None:
        """A child execution its Map Run will not start (the run failed): a pending
        execution, counted in the total (its items are pending already)."""
        self.executions["total"] += 1
        self.executions["pending"] += 1

    def written(self, items: int, executions: int) -> None:
        """Results exported by the ResultWriter."""
        self.items["resultsWritten"] = items
        self.executions["resultsWritten"] = executions

    def finish(self, status: str, stop: float) -> None:
        self.status = status
        self.stop = stop

    # -- AWS's shapes ------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """``DescribeMapRun``'s answer (dates as epoch seconds)."""
        doc: dict[str, Any] = {
            "mapRunArn": self.arn,
            "executionArn": self.execution_arn,
            "status": self.status,
            "startDate": self.start,
        }
        if self.stop is not None:
            doc["stopDate"] = self.stop
        doc.update(
            maxConcurrency=self.max_concurrency,
            toleratedFailurePercentage=self.tolerated_failure_percentage,
            toleratedFailureCount=self.tolerated_failure_count,
            itemCounts=dict(self.items),
            executionCounts=dict(self.executions),
            redriveCount=self.redrive_count,
        )
        if self.redrive_date is not None:
            doc["redriveDate"] = self.redrive_date
        return doc

    def list_item(self) -> dict[str, Any]:
        """One ``ListMapRuns`` entry."""
        item: dict[str, Any] = {
            "executionArn": self.execution_arn,
            "mapRunArn": self.arn,
            "stateMachineArn": self.state_machine_arn,
            "startDate": self.start,
        }
        if self.stop is not None:
            item["stopDate"] = self.stop
        return item

    def to_json(self) -> str:
        doc = self.describe()
        doc["stateMachineArn"] = self.state_machine_arn
        return json.dumps(doc, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> MapRunRecord:
        doc = json.loads(text)
        return cls(
            arn=doc["mapRunArn"],
            execution_arn=doc["executionArn"],
            state_machine_arn=doc["stateMachineArn"],
            start=float(doc["startDate"]),
            max_concurrency=int(doc["maxConcurrency"]),
            tolerated_failure_percentage=float(doc["toleratedFailurePercentage"]),
            tolerated_failure_count=int(doc["toleratedFailureCount"]),
            status=doc["status"],
            stop=doc.get("stopDate"),
            redrive_count=int(doc.get("redriveCount", 0)),
            redrive_date=doc.get("redriveDate"),
            items={**_zero(), **doc["itemCounts"]},
            executions={**_zero(), **doc["executionCounts"]},
        )


_KEYS = {
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "TIMED_OUT": "timedOut",
    "ABORTED": "aborted",
}


def child_list_item(row: Mapping[str, Any], map_run_arn: str) -> dict[str, Any]:
    """A child execution as ``ListExecutions(mapRunArn=...)`` lists it.

    ``row`` is a stored child (:meth:`runtime.durable.store.Store.map_run_children`):
    its ``name``, ``status``, ``start``, ``stop``, ``size`` and ``redrive_count``. A
    child's ARN is ``arn:aws:states:REGION:ACCOUNT:execution:MACHINE/LABEL:NAME``, its
    state machine's ``...:stateMachine:MACHINE/LABEL``.
    """
    prefix = map_run_arn.replace(":mapRun:", ":execution:", 1).rsplit(":", 1)[0]
    item: dict[str, Any] = {
        "executionArn": f"{prefix}:{row['name']}",
        "stateMachineArn": prefix.replace(":execution:", ":stateMachine:", 1),
        "name": row["name"],
        "status": row["status"],
        "startDate": row["start"],
    }
    if row.get("stop") is not None:
        item["stopDate"] = row["stop"]
    item["mapRunArn"] = map_run_arn
    item["itemCount"] = row["size"]
    item["redriveCount"] = row["redrive_count"]
    return item
