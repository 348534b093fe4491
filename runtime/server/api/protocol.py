"""AWS JSON 1.0 as botocore speaks it, and the checks every request field goes through.

A request is ``POST /`` with ``X-Amz-Target: AWSStepFunctions.<Operation>`` and a JSON
object body. An answer is JSON with ``Content-Type: application/x-amz-json-1.0``; an
error is HTTP 400 with ``{"__type": "<code>", "message": ...}`` (botocore reads the code
from ``__type``, after any ``#``). Timestamps are epoch seconds, as AWS sends them.

Field errors use AWS's wording for its constraint violations, e.g. ``1 validation error
detected: Value null at 'name' failed to satisfy constraint: Member must not be null``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from runtime.callbacks.registry import valid_name
from runtime.server.api.errors import (
    InvalidToken,
    StepFunctionsApiError,
    ValidationException,
)

__all__ = [
    "CONTENT_TYPE",
    "TARGET_PREFIX",
    "error_body",
    "flag",
    "max_results",
    "next_token",
    "one_of",
    "optional",
    "page",
    "required",
    "valid_name",
]

TARGET_PREFIX = "AWSStepFunctions."
CONTENT_TYPE = "application/x-amz-json-1.0"
#: List operations: "The default is 100 and the max allowed page size is 1000. A value of
#: 0 uses the default." (API reference, ListExecutions maxResults).
DEFAULT_PAGE = 100
MAX_PAGE = 1000


def error_body(exc: StepFunctionsApiError) -> dict[str, Any]:
    """The JSON body of an error answer."""
    return {"__type": exc.code, "message": exc.message}


def _invalid(detail: str) -> ValidationException:
    return ValidationException(f"1 validation error detected: {detail}")


def required(body: dict[str, Any], name: str) -> str:
    """A required string member; ValidationException when it is missing."""
    value = body.get(name)
    if value is None:
        raise _invalid(
            f"Value null at '{name}' failed to satisfy constraint: Member must not be null"
        )
    if not isinstance(value, str):
        raise _invalid(f"Value at '{name}' failed to satisfy constraint: Member must be a string")
    return value


def optional(body: dict[str, Any], name: str) -> str | None:
    """An optional string member."""
    if body.get(name) is None:
        return None
    return required(body, name)


def flag(body: dict[str, Any], name: str, default: bool) -> bool:
    """An optional boolean member."""
    value = body.get(name)
    return default if value is None else bool(value)


def one_of(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    """An optional enum member; AWS's wording when the value is not in the set."""
    value = optional(body, name)
    if value is not None and value not in allowed:
        raise _invalid(
            f"Value '{value}' at '{name}' failed to satisfy constraint: Member must satisfy "
            f"enum value set: [{', '.join(allowed)}]"
        )
    return value


def max_results(body: dict[str, Any]) -> int:
    """``maxResults``: 0 or absent is the default page size; above 1000 is refused."""
    value = body.get("maxResults")
    if value is None or value == 0:
        return DEFAULT_PAGE
    if not isinstance(value, int) or value < 0 or value > MAX_PAGE:
        raise _invalid(
            f"Value '{value}' at 'maxResults' failed to satisfy constraint: Member must have "
            f"value less than or equal to {MAX_PAGE}"
        )
    return value


def next_token(body: dict[str, Any], scope: str) -> int:
    """The offset a ``nextToken`` resumes at; InvalidToken for a token of another listing."""
    token = optional(body, "nextToken")
    if token is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
        kind, _, offset = text.rpartition("|")
        if kind == scope and offset.isdigit():
            return int(offset)
    except (ValueError, binascii.Error, UnicodeError):
        pass
    raise InvalidToken("Invalid Token: 'Invalid token'")


def page(items: list[Any], body: dict[str, Any], scope: str, key: str) -> dict[str, Any]:
    """One page of ``items`` under ``key``, with a ``nextToken`` when more follow.

    ``scope`` ties a token to its listing (operation and filters), so a token given to
    another listing is refused as AWS refuses it.
    """
    start = next_token(body, scope)
    size = max_results(body)
    out: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        raw = f"{scope}|{start + size}".encode()
        out["nextToken"] = base64.urlsafe_b64encode(raw).decode("ascii")
    return out
