"""Callbacks and activities: SendTaskSuccess/Failure/Heartbeat, GetActivityTask and
Create/Describe/Delete/ListActivities.

The answers go to :class:`runtime.callbacks.registry.CallbackRegistry`, whose errors are
already AWS's (InvalidToken, TaskTimedOut, TaskDoesNotExist, InvalidOutput...).
GetActivityTask long-polls in the event loop (up to 60 s, as on AWS) without holding up
other requests.
"""

from __future__ import annotations

from typing import Any

from runtime.adapters.activity import activity_name
from runtime.engine.clock import RealClock
from runtime.server.api.backend import Backend
from runtime.server.api.errors import ActivityDoesNotExist
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
    """CreateActivity: idempotent; the activity is stored, so it outlives the server."""
    name = valid_name(required(body, "name"))
    arn = b.activities.create(name)["activityArn"]
    created = b.machines.create_activity(arn, name, RealClock().now())
    add_tags(b, arn, tag_list(body))
    return {"activityArn": arn, "creationDate": created}


def _stored(b: Backend, arn: str) -> tuple[str, float]:
    activity_name(arn)  # InvalidArn for what is not an activity ARN
    found = b.machines.activity(arn)
    if found is None:
        raise ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")
    return found


async def describe_activity(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeActivity."""
    arn = required(body, "activityArn")
    name, created = _stored(b, arn)
    return {"activityArn": arn, "name": name, "creationDate": created}


async def delete_activity(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteActivity: succeeds for an activity that does not exist, as on AWS."""
    arn = required(body, "activityArn")
    b.activities.delete(arn)
    b.machines.delete_activity(arn)
    return {}


async def list_activities(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListActivities, by name, paged."""
    items = [
        {"activityArn": arn, "name": name, "creationDate": created}
        for arn, name, created in b.machines.activities()
    ]
    return page(items, body, "ListActivities", "activities")


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
