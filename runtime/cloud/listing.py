"""Reading and stopping executions on AWS Step Functions for ``asl executions``,
``asl history``, ``asl describe`` and ``asl stop`` with ``--on aws``.

Each function takes a boto3 ``stepfunctions`` client and follows every page the API
returns, so what the commands print is complete. Dates come back as ``datetime``
objects from boto3; they are turned into the RFC 3339 text the local commands print
(``iso_timestamp``), so a cloud listing and a local one read alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from runtime.cloud.remote import epoch_seconds
from runtime.durable.store.records import ExecutionRecord, ExecutionSummary
from runtime.engine.events import iso_timestamp

__all__ = [
    "CloudLookupError",
    "describe_execution",
    "execution_history",
    "list_executions",
    "state_machine_arn",
    "stop_execution",
    "summary_of",
]


class CloudLookupError(LookupError):
    """A name given on the command line matches nothing on AWS."""


def state_machine_arn(client: Any, name_or_arn: str) -> str:
    """The ARN of a state machine given by ARN or by name (ListStateMachines, every page)."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    paginator = client.get_paginator("list_state_machines")
    for page in paginator.paginate():
        for item in page.get("stateMachines", []):
            if item.get("name") == name_or_arn:
                return str(item["stateMachineArn"])
    raise CloudLookupError(f"no state machine named {name_or_arn!r} on AWS (give its ARN)")


def list_executions(
    client: Any,
    *,
    state_machine: str | None = None,
    map_run: str | None = None,
    status: str | None = None,
    since: float | None = None,
    until: float | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """ListExecutions of a state machine (or of a Map Run), newest first, as AWS's items.

    ``since`` and ``until`` (epoch seconds) filter on the start date; AWS lists newest
    first, so the pages stop being read once an execution started before ``since``.
    """
    request: dict[str, Any] = {}
    if map_run is not None:
        request["mapRunArn"] = map_run
    elif state_machine is not None:
        request["stateMachineArn"] = state_machine_arn(client, state_machine)
    else:
        raise CloudLookupError(
            "--on aws lists the executions of one state machine: give --state-machine"
        )
    if status is not None:
        request["statusFilter"] = status
    items: list[dict[str, Any]] = []
    for item in _pages(client, "list_executions", "executions", request):
        started = epoch_seconds(item["startDate"])
        if since is not None and started < since:
            break
        if until is not None and started >= until:
            continue
        items.append(_dated(item))
        if limit is not None and len(items) >= limit:
            break
    return items


def summary_of(item: dict[str, Any]) -> ExecutionSummary:
    """One ListExecutions item as the row the local table prints."""
    machine = str(item.get("stateMachineArn", ""))
    stop = item.get("stopDate")
    return ExecutionSummary(
        str(item["executionArn"]),
        str(item.get("name") or str(item["executionArn"]).rsplit(":", 1)[-1]),
        machine.split(":")[6] if machine.count(":") >= 6 else machine,
        machine,
        str(item["status"]),
        epoch_seconds(item["startDate"]),
        None if stop is None else epoch_seconds(stop),
        int(item.get("redriveCount", 0)),
        None,
        None,
    )


def execution_history(client: Any, arn: str, *, reverse: bool = False) -> list[dict[str, Any]]:
    """GetExecutionHistory, every page, with the execution's data, in AWS's event shape.

    Every page is read, so the order is set here by event id (some stand-ins for AWS
    ignore ``reverseOrder``)."""
    request = {"executionArn": arn, "includeExecutionData": True}
    events = [_dated(event) for event in _pages(client, "get_execution_history", "events", request)]
    return sorted(events, key=lambda event: int(event["id"]), reverse=reverse)


def describe_execution(client: Any, arn: str) -> tuple[dict[str, Any], ExecutionRecord]:
    """DescribeExecution as AWS answers it (dates as text), and as the record the local
    ``asl describe`` grid prints."""
    raw = client.describe_execution(executionArn=arn)
    raw.pop("ResponseMetadata", None)
    described = _dated(raw)
    summary = summary_of(described)
    record = ExecutionRecord(
        summary.arn,
        summary.name,
        summary.state_machine_name,
        summary.state_machine_arn,
        summary.status,
        summary.start_time,
        summary.stop_time,
        summary.redrive_count,
        described.get("error"),
        described.get("cause"),
        "null",
        str(described.get("input", "null")),
        described.get("output"),
    )
    return described, record


def stop_execution(client: Any, arn: str, error: str | None, cause: str | None) -> str | None:
    """StopExecution; returns the stop date as text (None from a stand-in that omits it)."""
    request: dict[str, Any] = {"executionArn": arn}
    if error:
        request["error"] = error
    if cause:
        request["cause"] = cause
    answer = client.stop_execution(**request)
    stopped = answer.get("stopDate")
    return None if stopped is None else iso_timestamp(epoch_seconds(stopped))


def _pages(client: Any, operation: str, member: str, request: dict[str, Any]) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**request):
        yield from page.get(member, [])


def _dated(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` with its ``datetime`` values as RFC 3339 text."""
    return {
        key: iso_timestamp(value.timestamp()) if isinstance(value, datetime) else value
        for key, value in item.items()
    }
