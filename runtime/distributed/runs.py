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

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "COUNTERS",
    "LIVE",
    "MapRunRecord",
    "child_arn",
    "child_list_item",
    "child_prefix",
    "default_label",
    "express_id",
]

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
    #: Its children are Express executions (``ExecutionType``): their ARNs differ
    #: (:func:`child_arn`). Kept in the store's document, not in AWS's answers.
    express: bool = False

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
        doc["executionType"] = "EXPRESS" if self.express else "STANDARD"
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
            express=doc.get("executionType") == "EXPRESS",
        )


_KEYS = {
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "TIMED_OUT": "timedOut",
    "ABORTED": "aborted",
}


# -- identities ---------------------------------------------------------------------
#
# Captured from AWS (radkawar/stackd, testdata/aws/stepfunctions/distributed_map.json and
# redrive_map.json): a Map state without ``Label`` gets the label
# ``<UUID version 3 of its state name>`` (``LoadMap`` gives
# ``34a8d7c6-ed5e-37c8-a758-52f3cbb41e32``); an Express child's ARN is
# ``arn:aws:states:R:A:express:MACHINE/LABEL:NAME:ID``, the same after a redrive, listed
# by ListExecutions with the name ``NAME:ID``.


def default_label(state_name: str) -> str:
    """The label of a Map Run whose Map state has no ``Label``: the name-based UUID
    version 3 of the state's name (the MD5 of its UTF-8 bytes with no namespace, as Java's
    ``UUID.nameUUIDFromBytes``), which is what AWS's captured labels are."""
    digest = hashlib.md5(state_name.encode("utf-8", "surrogatepass"), usedforsecurity=False)
    return str(uuid.UUID(bytes=digest.digest(), version=3))


def child_prefix(map_run_arn: str, express: bool = False) -> str:
    """``arn:aws:states:REGION:ACCOUNT:execution:MACHINE/LABEL`` of a Map Run's children
    (``:express:`` for Express children), from the Map Run's ARN."""
    head, _, rest = map_run_arn.partition(":mapRun:")
    return f"{head}:{'express' if express else 'execution'}:{rest.rsplit(':', 1)[0]}"


def express_id(name: str) -> str:
    """The last part of an Express child's ARN. AWS's is a random UUID given when the
    child first starts and kept on a redrive; here the UUID version 5 of the child's
    name (itself stable, see :func:`runtime.distributed.workers.child_name`) in the URL
    namespace, so a resumed or redriven run, and a worker process, find the same one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"express:{name}"))


def child_arn(prefix: str, name: str, express: bool = False) -> str:
    """A child's ARN: ``<prefix>:NAME``, ``<prefix>:NAME:ID`` for an Express child
    (``prefix`` as :func:`child_prefix` gives it)."""
    return f"{prefix}:{name}:{express_id(name)}" if express else f"{prefix}:{name}"


def child_list_item(
    row: Mapping[str, Any], map_run_arn: str, express: bool = False
) -> dict[str, Any]:
    """A child execution as ``ListExecutions(mapRunArn=...)`` lists it.

    ``row`` is a stored child (:meth:`runtime.durable.store.Store.map_run_children`):
    its ``name``, ``status``, ``start``, ``stop``, ``size`` and ``redrive_count``. A
    child's ARN is :func:`child_arn`'s, its state machine's
    ``...:stateMachine:MACHINE/LABEL``; an Express child is listed with the name
    ``NAME:ID``, the end of its ARN, as AWS lists it.
    """
    arn = child_arn(child_prefix(map_run_arn, express), row["name"], express)
    item: dict[str, Any] = {
        "executionArn": arn,
        "stateMachineArn": child_prefix(map_run_arn).replace(":execution:", ":stateMachine:", 1),
        "name": arn.split(":", 7)[7],
        "status": row["status"],
        "startDate": row["start"],
    }
    if row.get("stop") is not None:
        item["stopDate"] = row["stop"]
    item["mapRunArn"] = map_run_arn
    item["itemCount"] = row["size"]
    item["redriveCount"] = row["redrive_count"]
    return item
