"""Between Step Functions' JSON and boto3, guided by botocore's API model shapes.

ASL writes API parameters in PascalCase (``StateMachineArn``, ``JobQueue``); boto3 takes
the model's member names (``stateMachineArn``, ``jobQueue``). Responses go back the other
way with PascalCase member names. Map keys are data and keep their case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from runtime.engine.events import dumps

__all__ = ["from_boto", "to_boto"]


def to_boto(value: Any, shape: Any) -> Any:
    """Map ASL parameters onto a botocore input shape.

    Member names match case-insensitively; unknown keys pass through unchanged (boto3's
    validation reports them); a JSON value given for a string or blob member is sent as
    compact JSON text, as AWS does (recorded ``s3_put_object.*``: Body ``false`` is stored
    as the 5 bytes ``false``).
    """
    kind = getattr(shape, "type_name", None)
    if kind == "structure" and isinstance(value, Mapping):
        members = shape.members
        lowered = {name.lower(): name for name in members}
        out = {}
        for key, item in value.items():
            name = key if key in members else lowered.get(key.lower(), key)
            out[name] = to_boto(item, members[name]) if name in members else item
        return out
    if kind == "list" and isinstance(value, list):
        return [to_boto(item, shape.member) for item in value]
    if kind == "map" and isinstance(value, Mapping):
        return {key: to_boto(item, shape.value) for key, item in value.items()}
    if kind in ("string", "blob") and value is not None and not isinstance(value, str | bytes):
        return dumps(value)
    return value


def from_boto(value: Any, shape: Any, scalar: Callable[[Any], Any]) -> Any:
    """A boto3 response value with PascalCase member names; ``scalar`` converts leaves
    (timestamps are ISO text for SDK integrations, epoch milliseconds for optimized ones)."""
    kind = getattr(shape, "type_name", None)
    if kind == "structure" and isinstance(value, Mapping):
        members = shape.members
        return {
            key[:1].upper() + key[1:]: from_boto(item, members.get(key), scalar)
            for key, item in value.items()
            if key != "ResponseMetadata"
        }
    if kind == "list" and isinstance(value, list):
        return [from_boto(item, shape.member, scalar) for item in value]
    if kind == "map" and isinstance(value, Mapping):
        return {key: from_boto(item, shape.value, scalar) for key, item in value.items()}
    return scalar(value)
