"""Callbacks and activities: SendTaskSuccess/Failure/Heartbeat, GetActivityTask and
Create/Describe/Delete/ListActivities.

The answers go to :class:`runtime.callbacks.registry.CallbackRegistry`, whose errors are
already AWS's (InvalidToken, TaskTimedOut, TaskDoesNotExist, InvalidOutput...).
GetActivityTask long-polls in the event loop (up to 60 s, as on AWS) without holding up
other requests.
"""

from __future__ import annotations

from typing import Any

from runtime.server.api.backend import Backend
from runtime.server.api.protocol import optional, page, required, valid_name
from runtime.server.api.tags import add_tags, tag_list

__all__ = ["OPERATIONS"]


async def send_task_success(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """SendTaskSuccess."""
    b.callbacks.send_task_success(required(body, "taskToken"), required(body, "output"))
    return {}


async def send_task_failure(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """SendTaskFailure."""
    token = required(body, "taskToken")
    b.callbacks.send_task_failure(token, optional(body, "error"), optional(body, "cause"))
    return {}


async def send_task_heartbeat(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """SendTaskHeartbeat."""
    b.callbacks.send_task_heartbeat(required(body, "taskToken"))
    return {}


async def get_activity_task(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """GetActivityTask: ``taskToken`` and ``input``, or {} when no task came within the
    long poll (AWS: "the poll returns a taskToken with a null string")."""
    arn = required(body, "activityArn")
    worker = optional(body, "workerName") or ""
    task = await b.activities.get_task(arn, worker, b.poll_seconds)
    return {} if task is None else task.to_aws()


async def create_activity(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """CreateActivity: idempotent."""
    created = b.activities.create(valid_name(required(body, "name")))
    add_tags(b, created["activityArn"], tag_list(body))
    return created


async def describe_activity(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeActivity."""
    return b.activities.describe(required(body, "activityArn"))


async def delete_activity(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteActivity."""
    b.activities.delete(required(body, "activityArn"))
    return {}


async def list_activities(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListActivities, by name, paged."""
    return page(b.activities.list(), body, "ListActivities", "activities")


OPERATIONS = {
    "SendTaskSuccess": send_task_success,
    "SendTaskFailure": send_task_failure,
    "SendTaskHeartbeat": send_task_heartbeat,
    "GetActivityTask": get_activity_task,
    "CreateActivity": create_activity,
    "DescribeActivity": describe_activity,
    "DeleteActivity": delete_activity,
    "ListActivities": list_activities,
}
