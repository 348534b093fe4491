"""Map Runs: DescribeMapRun, ListMapRuns, UpdateMapRun, and ListExecutions(mapRunArn).

Map Runs and their child executions are the store's (see
:mod:`runtime.durable.store.mapruns`); a Map Run that is running in this server's loop is
also found in :data:`runtime.distributed.runs.LIVE`, so DescribeMapRun shows its counters
as they move and UpdateMapRun changes its tolerated failures while it runs (AWS,
UpdateMapRun: "Updates an in-progress Map Run's configuration"). A stopped Map Run cannot
be updated (ValidationException).

ListExecutions with ``mapRunArn`` lists the Map Run's child executions (with
``mapRunArn``, ``itemCount`` and ``redriveCount``); without it, the request goes on to
:mod:`runtime.server.api.executions`.
"""

from __future__ import annotations

from typing import Any

from runtime.distributed.runs import LIVE, MapRunRecord, child_list_item
from runtime.server.api import executions
from runtime.server.api.backend import Backend, check_arn
from runtime.server.api.errors import ResourceNotFound, ValidationException
from runtime.server.api.protocol import one_of, page, required

__all__ = ["OPERATIONS"]

_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")


def _record(b: Backend, arn: str) -> MapRunRecord:
    """The Map Run of ``arn``: InvalidArn or ResourceNotFound."""
    check_arn(arn, "mapRun")
    live = LIVE.get(arn)
    if live is not None:
        return live
    document = b.store.map_run(arn)
    if document is None:
        raise ResourceNotFound(f"Resource not found: '{arn}'")
    return MapRunRecord.from_json(document)


async def describe_map_run(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeMapRun: configuration, counters and redrives of one Map Run."""
    return _record(b, required(body, "mapRunArn")).describe()


async def list_map_runs(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListMapRuns of one execution, in the order they started, paged."""
    arn = required(body, "executionArn")
    b.execution(arn)
    items = []
    for document in b.store.map_runs(arn):
        stored = MapRunRecord.from_json(document)
        items.append((LIVE.get(stored.arn) or stored).list_item())
    return page(items, body, f"ListMapRuns|{arn}", "mapRuns")


async def update_map_run(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """UpdateMapRun: maxConcurrency, toleratedFailurePercentage, toleratedFailureCount of
    a running Map Run."""
    record = _record(b, required(body, "mapRunArn"))
    changes = {
        name: body.get(name)
        for name in ("maxConcurrency", "toleratedFailurePercentage", "toleratedFailureCount")
        if body.get(name) is not None
    }
    if not changes:
        raise ValidationException(
            "At least one of maxConcurrency, toleratedFailurePercentage or "
            "toleratedFailureCount must be given"
        )
    concurrency = changes.get("maxConcurrency")
    if concurrency is not None and (not _is_int(concurrency) or concurrency < 0):
        raise _constraint("maxConcurrency", concurrency, "greater than or equal to 0")
    count = changes.get("toleratedFailureCount")
    if count is not None and (not _is_int(count) or count < 0):
        raise _constraint("toleratedFailureCount", count, "greater than or equal to 0")
    percentage = changes.get("toleratedFailurePercentage")
    if percentage is not None and (
        isinstance(percentage, bool)
        or not isinstance(percentage, int | float)
        or not 0 <= percentage <= 100
    ):
        raise _constraint("toleratedFailurePercentage", percentage, "between 0 and 100")
    if record.status != "RUNNING" or record.arn not in LIVE:
        raise ValidationException(f"Map Run is {record.status} and cannot be updated")
    if concurrency is not None:
        record.max_concurrency = int(concurrency)
    if count is not None:
        record.tolerated_failure_count = int(count)
    if percentage is not None:
        record.tolerated_failure_percentage = float(percentage)
    b.store.update_map_run(record.arn, record.to_json())
    return {}


async def list_executions(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListExecutions: a Map Run's child executions with ``mapRunArn``, else the
    executions of a state machine (:func:`runtime.server.api.executions.list_executions`)."""
    arn = body.get("mapRunArn")
    if arn is None:
        return await _LIST_EXECUTIONS(b, body)
    if body.get("stateMachineArn") is not None:
        raise ValidationException("Specify either stateMachineArn or mapRunArn, not both")
    record = _record(b, str(arn))
    status = one_of(body, "statusFilter", _STATUSES)
    redrive = one_of(body, "redriveFilter", ("REDRIVEN", "NOT_REDRIVEN"))
    items = [
        child_list_item(row, record.arn, record.express)
        for row in b.store.map_run_children(record.arn, status=status)
        if redrive is None or (row["redrive_count"] > 0) == (redrive == "REDRIVEN")
    ]
    return page(items, body, f"ListExecutions|{record.arn}|{status}|{redrive}", "executions")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _constraint(name: str, value: Any, rule: str) -> ValidationException:
    return ValidationException(
        f"Value '{value}' at '{name}' failed to satisfy constraint: Member must be {rule}"
    )


_LIST_EXECUTIONS = executions.OPERATIONS["ListExecutions"]

OPERATIONS = {
    "DescribeMapRun": describe_map_run,
    "ListMapRuns": list_map_runs,
    "UpdateMapRun": update_map_run,
    "ListExecutions": list_executions,
}
