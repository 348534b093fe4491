"""TagResource, UntagResource and ListTagsForResource, on state machines and activities.

AWS: at most 50 tags a resource; keys 1 to 128 characters, values up to 256.
"""

from __future__ import annotations

from typing import Any

from runtime.server.api.backend import Backend
from runtime.server.api.errors import (
    InvalidArn,
    ResourceNotFound,
    TooManyTags,
    ValidationException,
)
from runtime.server.api.protocol import required

__all__ = ["OPERATIONS", "add_tags", "tag_list"]

MAX_TAGS = 50


def tag_list(body: dict[str, Any]) -> dict[str, str]:
    """The ``tags`` member (``[{"key", "value"}]``) as a mapping."""
    tags = body.get("tags") or []
    if not isinstance(tags, list):
        raise ValidationException("1 validation error detected: 'tags' must be a list")
    out: dict[str, str] = {}
    for tag in tags:
        key = tag.get("key") if isinstance(tag, dict) else None
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise ValidationException(
                f"1 validation error detected: Value '{key}' at 'tags.member.key' failed to "
                "satisfy constraint: Member must have length between 1 and 128"
            )
        value = tag.get("value", "")
        if not isinstance(value, str) or len(value) > 256:
            raise ValidationException(
                "1 validation error detected: Value at 'tags.member.value' failed to satisfy "
                "constraint: Member must have length less than or equal to 256"
            )
        out[key] = value
    return out


def add_tags(b: Backend, arn: str, tags: dict[str, str]) -> None:
    """Tag a resource, refusing more than 50 tags in all (TooManyTags)."""
    if not tags:
        return
    if len(b.machines.tags(arn).keys() | tags.keys()) > MAX_TAGS:
        raise TooManyTags(f"Too many tags: '{arn}' may have at most {MAX_TAGS} tags")
    b.machines.tag(arn, tags)


def _resource(b: Backend, body: dict[str, Any]) -> str:
    """The ``resourceArn`` of an existing state machine or activity."""
    arn = required(body, "resourceArn")
    parts = arn.split(":")
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "states":
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    exists = False
    if parts[5] == "stateMachine":
        exists = b.machines.get(arn) is not None
    elif parts[5] == "activity":
        exists = b.machines.activity(arn) is not None
    else:
        raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {parts[5]}'")
    if not exists:
        raise ResourceNotFound(f"Resource not found: '{arn}'")
    return arn


async def tag_resource(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """TagResource."""
    add_tags(b, _resource(b, body), tag_list(body))
    return {}


async def untag_resource(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """UntagResource: unknown keys are ignored."""
    arn = _resource(b, body)
    keys = body.get("tagKeys")
    if not isinstance(keys, list):
        raise ValidationException(
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
            "constraint: Member must not be null"
        )
    b.machines.untag(arn, [str(k) for k in keys])
    return {}


async def list_tags_for_resource(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListTagsForResource."""
    tags = b.machines.tags(_resource(b, body))
    return {"tags": [{"key": k, "value": v} for k, v in tags.items()]}


OPERATIONS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
