"""Optimized integrations users meet first: SQS sendMessage, DynamoDB item calls, EventBridge.

Results are the API response as the AWS SDK for Java v1 shapes it: the response members plus
``SdkHttpMetadata`` and ``SdkResponseMetadata`` for SQS and DynamoDB (recorded
``base_scenarios.sqs_send_message``, ``base_scenarios.dynamodb_put_get_item``), and just
``{Entries, FailedEntryCount}`` for EventBridge (``base_scenarios.events_put_events``).

Errors: :func:`runtime.adapters.aws.service_error`'s ``<Service>.<Code>`` with the SDK v1
cause, except that DynamoDB codes the SDK does not model (``ValidationException``) are
``DynamoDB.AmazonDynamoDBException`` (``task_service_dynamodb.*``), and a putEvents with
failed entries fails with ``EventBridge.FailedEntry`` whose cause is the response as JSON
(``events_task_service.*``).
"""

from __future__ import annotations

import base64
import email.utils
import functools
import re
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from runtime.adapters.aws import ClientPool, service_error
from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.engine.clock import Clock, RealClock
from runtime.engine.errors import TaskFailure
from runtime.engine.events import dumps

__all__ = ["OptimizedAdapter", "dynamodb_validation", "register", "sdk_http_metadata"]

#: Response headers AWS lists in SdkHttpMetadata, in its order, per service.
_HEADERS = {
    "dynamodb": (
        "Server",
        "Connection",
        "x-amzn-RequestId",
        "x-amz-crc32",
        "Content-Length",
        "Date",
        "Content-Type",
    ),
    "default": ("x-amzn-RequestId", "connection", "Content-Length", "Date", "Content-Type"),
}


def sdk_http_metadata(service: str, body: str, request_id: str, now: float) -> dict[str, Any]:
    """``SdkHttpMetadata`` and ``SdkResponseMetadata`` of a JSON-protocol response.

    ``body`` is the response's JSON text: its length is Content-Length (57 for the
    recorded GetItem) and DynamoDB's x-amz-crc32 is its CRC32.
    """
    raw = body.encode("utf-8")
    values = {
        "Server": "Server",
        "Connection": "keep-alive",
        "connection": "keep-alive",
        "x-amzn-RequestId": request_id,
        "x-amz-crc32": str(zlib.crc32(raw)),
        "Content-Length": str(len(raw)),
        "Date": email.utils.formatdate(now, usegmt=True),
        "Content-Type": "application/x-amz-json-1.0",
    }
    names = _HEADERS.get(service, _HEADERS["default"])
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {name: [values[name]] for name in names},
            "HttpHeaders": {name: values[name] for name in sorted(names, key=str.lower)},
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


# -- request shaping ----------------------------------------------------------------------


def _json_text(value: Any) -> Any:
    """AWS serialises a JSON value given for a string member (MessageBody, Detail)."""
    return value if value is None or isinstance(value, str) else dumps(value)


def _sqs_params(params: dict[str, Any]) -> dict[str, Any]:
    if "MessageBody" in params:
        params["MessageBody"] = _json_text(params["MessageBody"])
    return params


def _events_params(params: dict[str, Any]) -> dict[str, Any]:
    entries = params.get("Entries")
    if isinstance(entries, list):
        params["Entries"] = [
            {**entry, "Detail": _json_text(entry["Detail"])}
            if isinstance(entry, Mapping) and "Detail" in entry
            else entry
            for entry in entries
        ]
    return params


#: DynamoDB's table name rule, as its validation message prints it.
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")


@functools.cache
def _required(method: str) -> tuple[str, ...]:
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model("dynamodb")
    names = {xform_name(name): name for name in model.operation_names}
    shape = model.operation_model(names[method]).input_shape
    return tuple(shape.required_members)


def dynamodb_validation(method: str, params: Mapping[str, Any]) -> str | None:
    """DynamoDB's server-side validation message for ``params``, or None if valid.

    botocore would reject these before sending; AWS answers with a ValidationException
    naming each member in lowerCamelCase (recorded ``task_service_dynamodb.invalid_param``
    and ``put_item_invalid_table_name``).
    """
    problems = []
    for name in _required(method):
        member = name[:1].lower() + name[1:]
        value = params.get(name)
        if value is None:
            problems.append(
                f"Value null at '{member}' failed to satisfy constraint: Member must not be null"
            )
        elif name == "TableName" and _bad_table_name(value):
            problems.append(
                f"Value '{value}' at '{member}' failed to satisfy constraint: Member must "
                f"satisfy regular expression pattern: {_TABLE_NAME.pattern}"
            )
    if not problems:
        return None
    count = len(problems)
    plural = "error" if count == 1 else "errors"
    return f"{count} validation {plural} detected: " + "; ".join(problems)


def _bad_table_name(value: Any) -> bool:
    # A table ARN is valid too; only plain names have the pattern.
    return (
        isinstance(value, str) and not value.startswith("arn:") and not _TABLE_NAME.fullmatch(value)
    )


@functools.cache
def _dynamodb_modeled() -> frozenset[str]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("dynamodb")
    return frozenset(shape.name for shape in model.error_shapes)


def _dynamodb_error(exc: BaseException) -> TaskFailure:
    failure = service_error("dynamodb", exc)
    response = getattr(exc, "response", None)
    code = str(((response or {}).get("Error") or {}).get("Code", ""))
    if response is not None and code not in _dynamodb_modeled():
        # The SDK v1 client throws its base class for codes it does not model.
        return TaskFailure("DynamoDB.AmazonDynamoDBException", failure.cause)
    return failure


def _sqs_error(exc: BaseException) -> TaskFailure:
    """SQS's query-compatible codes (``AWS.SimpleQueueService.NonExistentQueue``) name the
    modeled exception the SDK throws (``QueueDoesNotExist``); AWS names the error after it."""
    failure = service_error("sqs", exc)
    modeled = type(exc).__name__
    if modeled != "ClientError" and getattr(exc, "response", None) is not None:
        suffix = modeled if modeled.endswith("Exception") else f"{modeled}Exception"
        return TaskFailure(f"SQS.{suffix}", failure.cause)
    return failure


def _validation_failure(message: str) -> TaskFailure:
    return TaskFailure(
        "DynamoDB.AmazonDynamoDBException",
        f"{message} (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: "
        f"ValidationException; Request ID: {uuid.uuid4()}; Proxy: null)",
    )


# -- the adapter --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Action:
    service: str
    method: str
    shape: Callable[[dict[str, Any]], dict[str, Any]]
    errors: Callable[[BaseException], TaskFailure]
    #: Add SdkHttpMetadata/SdkResponseMetadata to the result.
    http_metadata: bool = True


def _identity(params: dict[str, Any]) -> dict[str, Any]:
    return params


_ACTIONS = {
    "sqs:sendMessage": _Action("sqs", "send_message", _sqs_params, _sqs_error),
    "events:putEvents": _Action(
        "events", "put_events", _events_params, functools.partial(service_error, "events"), False
    ),
    **{
        f"dynamodb:{action}": _Action("dynamodb", method, _identity, _dynamodb_error)
        for action, method in (
            ("getItem", "get_item"),
            ("putItem", "put_item"),
            ("updateItem", "update_item"),
            ("deleteItem", "delete_item"),
        )
    },
}


@dataclass(frozen=True, slots=True)
class OptimizedAdapter:
    """Runs the optimized SQS, DynamoDB and EventBridge integrations through boto3."""

    pool: ClientPool

    async def invoke(self, call: TaskCall) -> Any:
        """Make the call; the shaped response is the result.

        Cancellation abandons the worker thread's result and re-raises.
        """
        return await self.submit(call)

    async def submit(self, call: TaskCall) -> Any:
        """Make the call (also the submit step of ``.waitForTaskToken``)."""
        action = _ACTIONS.get(f"{call.resource.kind}:{call.resource.action}")
        if action is None:
            raise TaskFailure("States.Runtime", f"Unsupported resource: {call.resource.arn}")
        given = call.parameters if isinstance(call.parameters, Mapping) else {}
        params = action.shape(dict(given))
        if action.service == "dynamodb":
            problem = dynamodb_validation(action.method, params)
            if problem is not None:
                raise _validation_failure(problem)
        clock: Clock = call.clock or RealClock()
        try:
            response = await self.pool.call(clock, action.service, action.method, params)
        except Exception as exc:
            raise action.errors(exc) from None
        meta = response.pop("ResponseMetadata", {}) or {}
        response = _jsonable(response)
        if action.service == "events" and response.get("FailedEntryCount", 0) > 0:
            raise TaskFailure("EventBridge.FailedEntry", dumps(response))
        if not action.http_metadata:
            return response
        request_id = str(meta.get("RequestId") or uuid.uuid4())
        body = dumps(response)
        return {**response, **sdk_http_metadata(action.service, body, request_id, clock.now())}


def _jsonable(value: Any) -> Any:
    """Binary values (DynamoDB ``B``/``BS``) as the base64 text of the JSON protocol."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def register(registry: AdapterRegistry, pool: ClientPool) -> OptimizedAdapter:
    """Route ``sqs:sendMessage``, ``dynamodb:getItem|putItem|updateItem|deleteItem`` and
    ``events:putEvents`` (request-response) to an :class:`OptimizedAdapter`.
    ``.waitForTaskToken`` variants are the callback helper's, through ``submit``.
    """
    adapter = OptimizedAdapter(pool)
    registry.register(
        r"^arn:[^:]+:states:::(sqs:sendMessage|events:putEvents"
        r"|dynamodb:(getItem|putItem|updateItem|deleteItem))$",
        adapter,
    )
    return adapter
