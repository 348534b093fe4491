"""GetExecutionHistory: the stored events, paged, oldest or newest first.

``includeExecutionData: false`` leaves out the JSON documents of the events (inputs,
outputs, task parameters and assigned variables), keeping their names, errors and causes.
"""

from __future__ import annotations

from typing import Any

from runtime.engine.events import details_key
from runtime.engine.replay import RecordedEvent
from runtime.server.api.backend import Backend
from runtime.server.api.protocol import flag, page, required

__all__ = ["OPERATIONS"]

#: What includeExecutionData=false removes from an event's details.
_DATA = frozenset(
    {
        "input",
        "inputDetails",
        "output",
        "outputDetails",
        "parameters",
        "assignedVariables",
        "assignedVariablesDetails",
    }
)


def _item(event: RecordedEvent, with_data: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "timestamp": event.timestamp,
        "type": event.type,
        "id": event.id,
        "previousEventId": event.previous_event_id,
    }
    if event.details:
        details = event.details
        if not with_data:
            details = {k: v for k, v in details.items() if k not in _DATA}
        item[details_key(event.type)] = details
    return item


async def get_execution_history(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """GetExecutionHistory (``maxResults``, ``nextToken``, ``reverseOrder``,
    ``includeExecutionData``)."""
    record = b.execution(required(body, "executionArn"))
    reverse = flag(body, "reverseOrder", False)
    with_data = flag(body, "includeExecutionData", True)
    events = b.store.recorded(record.arn)
    if reverse:
        events.reverse()
    items = [_item(event, with_data) for event in events]
    return page(items, body, f"GetExecutionHistory|{record.arn}|{reverse}", "events")


OPERATIONS = {"GetExecutionHistory": get_execution_history}
