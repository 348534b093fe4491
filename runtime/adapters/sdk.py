"""AWS SDK integrations: ``arn:aws:states:::aws-sdk:SERVICE:apiAction`` mapped onto boto3.

AWS names the service by its SDK client (``sfn``, ``dynamodb``, ``eventbridge``,
``cloudwatchlogs``...) and the action in camelCase (``listObjectsV2``); parameters use the
API's member names in PascalCase (DG "Use AWS SDK service integrations"). The result is the
API response with member names in PascalCase and no HTTP metadata; errors are named
``<Service>.<Exception>`` after the AWS SDK for Java v2 client (``DynamoDb``, ``Sfn``,
``S3``) with the cause ``<message> (Service: <Service>, Status Code: <n>, Request ID: <id>)``
(recorded cases ``aws_sdk.*``, ``aws_sdk_task_service.*``).

Only request-response is run here; :meth:`AwsSdkAdapter.submit` is the submit step of
``.waitForTaskToken`` for the callback helper.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread

from runtime.adapters import shapes
from runtime.adapters.aws import ClientPool
from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.adapters.shapes import to_boto
from runtime.engine.clock import Clock, RealClock
from runtime.engine.errors import TaskFailure

__all__ = [
    "AwsSdkAdapter",
    "SdkOperation",
    "boto_service_name",
    "error_service_name",
    "from_boto",
    "instant",
    "register",
    "resolve_operation",
    "sdk_error",
    "to_boto",
]

#: SDK integration service names whose boto3 client name is not the same name with the
#: hyphens removed (DG "Supported AWS SDK service integrations": names follow the AWS SDK
#: for Java v2 client packages, boto3 follows the endpoint prefixes).
_SERVICE_ALIASES = {
    "sfn": "stepfunctions",
    "states": "stepfunctions",
    "eventbridge": "events",
    "cloudwatchevents": "events",
    "cloudwatchlogs": "logs",
    "costexplorer": "ce",
    "costandusagereport": "cur",
    "cognitoidentityprovider": "cognito-idp",
    "databasemigration": "dms",
    "directory": "ds",
    "elasticloadbalancing": "elb",
    "elasticloadbalancingv2": "elbv2",
    "elasticsearch": "es",
    "configservice": "config",
    "lexruntime": "lex-runtime",
    "lexmodelbuilding": "lex-models",
    "lexruntimev2": "lexv2-runtime",
    "lexmodelsv2": "lexv2-models",
    "migrationhub": "mgh",
    "pinpointemail": "pinpoint-email",
    "sagemakera2iruntime": "sagemaker-a2i-runtime",
}

#: Splits a service ID into the words the Java SDK v2 capitalises ("DynamoDB" → Dynamo, DB).
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")


@functools.cache
def _boto_names() -> dict[str, str]:
    import botocore.session

    services = botocore.session.get_session().get_available_services()
    return {name.replace("-", ""): name for name in services}


def boto_service_name(sdk_service: str) -> str | None:
    """The boto3 client name of an SDK integration service name, or None if unknown."""
    key = sdk_service.lower()
    return _SERVICE_ALIASES.get(key) or _boto_names().get(key.replace("-", ""))


def error_service_name(service_id: str) -> str:
    """The service as the Java SDK v2 names its client: "DynamoDB" → "DynamoDb", "SFN" → "Sfn"."""
    words = _WORDS.findall(service_id.replace("-", " "))
    return "".join(word[0].upper() + word[1:].lower() for word in words)


@dataclass(frozen=True, slots=True)
class SdkOperation:
    """One API action of one service, resolved against botocore's model."""

    #: boto3 client name, e.g. "stepfunctions".
    service: str
    #: boto3 method, e.g. "list_objects_v2".
    method: str
    #: botocore ``OperationModel``.
    model: Any
    #: Prefix of error names and "Service:" in causes, e.g. "DynamoDb".
    error_name: str
    #: Error codes the service models (others become ``<Service>.<Service>Exception``).
    modeled_errors: frozenset[str]


@functools.lru_cache(maxsize=512)
def resolve_operation(sdk_service: str, action: str) -> SdkOperation:
    """Resolve ``aws-sdk:SERVICE:action``; TaskFailure naming the part that is unknown."""
    import botocore.session
    from botocore import xform_name

    service = boto_service_name(sdk_service)
    if service is None:
        raise _unknown(sdk_service, action, f"no AWS SDK service is named '{sdk_service}'")
    model = botocore.session.get_session().get_service_model(service)
    names = {name.lower(): name for name in model.operation_names}
    operation = names.get(action.lower())
    if operation is None:
        raise _unknown(sdk_service, action, f"the service '{sdk_service}' has no action '{action}'")
    return SdkOperation(
        service,
        xform_name(operation),
        model.operation_model(operation),
        error_service_name(model.service_id),
        frozenset(shape.name for shape in model.error_shapes),
    )


def _unknown(sdk_service: str, action: str, why: str) -> TaskFailure:
    arn = f"arn:aws:states:::aws-sdk:{sdk_service}:{action}"
    return TaskFailure(
        "States.Runtime",
        f"The resource provided {arn} is not recognized. The value is not a valid resource "
        f"ARN, or the resource is not available in this region ({why}).",
    )


# -- parameters: state's JSON → boto3 keyword arguments --------------------------------


# -- results: boto3 response → the JSON AWS returns -----------------------------------


def instant(value: datetime) -> str:
    """A timestamp as the Java SDK v2 prints an ``Instant``: ``2024-05-01T10:00:00.123Z``."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        digits = f"{value.microsecond:06d}"
        text += "." + (digits[:3] if digits.endswith("000") else digits)
    return text + "Z"


def from_boto(value: Any, shape: Any) -> Any:
    """A boto3 value as AWS returns it: PascalCase members, text bodies, ISO timestamps."""
    return shapes.from_boto(value, shape, _scalar)


def _scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return instant(value)
    if hasattr(value, "read"):  # botocore StreamingBody, read in a worker thread beforehand
        value = value.read()
    if isinstance(value, bytes | bytearray):
        try:
            # AWS returns streamed bodies (S3 GetObject) as text (s3_get_object.*).
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: _scalar(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scalar(item) for item in value]
    return value


def _read_bodies(response: dict[str, Any]) -> dict[str, Any]:
    """Read streamed members (blocking I/O: run in a worker thread)."""
    return {key: item.read() if hasattr(item, "read") else item for key, item in response.items()}


# -- errors ------------------------------------------------------------------------------


def sdk_error(operation: SdkOperation, exc: BaseException) -> TaskFailure:
    """A botocore failure as AWS names it for SDK integrations.

    Modeled errors keep their name with "Exception" appended (``S3.NoSuchKeyException``);
    codes the service does not model become the client's base exception
    (``SecretsManager.SecretsManagerException``, recorded ``aws_sdk.invalid_secret_name``).
    """
    service = operation.error_name
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return TaskFailure(f"{service}.SdkClientException", f"{type(exc).__name__}: {exc}")
    error = response.get("Error", {}) or {}
    meta = response.get("ResponseMetadata", {}) or {}
    code = str(error.get("Code") or "")
    if code == "404" and operation.service == "s3":
        # A HEAD has no error body; the Java SDK v2 still throws the modeled exception.
        code = "NoSuchKey" if operation.method == "head_object" else "NoSuchBucket"
    name = code if code in operation.modeled_errors else service
    if not name.endswith("Exception"):
        name += "Exception"
    details = [
        f"Service: {service}",
        f"Status Code: {meta.get('HTTPStatusCode', 400)}",
        f"Request ID: {meta.get('RequestId', '')}",
    ]
    if meta.get("HostId"):
        details.append(f"Extended Request ID: {meta['HostId']}")
    message = str(error.get("Message") or code or name)
    # SDK v2 appends the attempt count (recorded 2025: "(SDK Attempt Count: 1)").
    attempts = int(meta.get("RetryAttempts", 0) or 0) + 1
    cause = f"{message} ({', '.join(details)}) (SDK Attempt Count: {attempts})"
    return TaskFailure(f"{service}.{name}", cause)


# -- the adapter -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AwsSdkAdapter:
    """Runs ``aws-sdk:*`` tasks through a :class:`ClientPool`."""

    pool: ClientPool

    async def invoke(self, call: TaskCall) -> Any:
        """Call the API once; the response is the task result.

        Cancellation abandons the worker thread's result (the HTTP call itself cannot be
        interrupted) and re-raises.
        """
        return await self.submit(call)

    async def submit(self, call: TaskCall) -> Any:
        """Make the call and return AWS's shaped response (also ``.waitForTaskToken``)."""
        service_name = call.resource.resource_type.partition(":")[2]
        operation = resolve_operation(service_name, call.resource.action)
        given = call.parameters if call.parameters is not None else {}
        params = to_boto(given, operation.model.input_shape)
        if not isinstance(params, dict):
            raise TaskFailure(
                "States.Runtime",
                f"The parameters of {call.resource.arn} must be a JSON object.",
            )
        clock: Clock = call.clock or RealClock()
        try:
            response = await self.pool.call(clock, operation.service, operation.method, params)
            if any(hasattr(item, "read") for item in response.values()):
                with clock.busy():
                    response = await anyio.to_thread.run_sync(_read_bodies, response)
        except Exception as exc:
            raise sdk_error(operation, exc) from None
        response = {key: item for key, item in response.items() if key != "ResponseMetadata"}
        return from_boto(response, operation.model.output_shape)


def register(registry: AdapterRegistry, pool: ClientPool) -> AwsSdkAdapter:
    """Route request-response ``aws-sdk:*`` resources to an :class:`AwsSdkAdapter`.

    ``.waitForTaskToken`` resources are left to the callback helper, which calls
    :meth:`AwsSdkAdapter.submit` and then waits for the token.
    """
    adapter = AwsSdkAdapter(pool)
    registry.register(r"^arn:[^:]+:states:::aws-sdk:[^:]+:[A-Za-z0-9]+$", adapter)
    return adapter
