"""AWS Lambda over boto3: legacy function ARNs and ``arn:aws:states:::lambda:invoke``.

Two resource forms (SPEC.md B.1, DG "Invoke an AWS Lambda function with Step Functions"):

* ``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]``: the effective input is the
  event and the task result is the function's parsed payload (LambdaFunction* events);
* ``arn:aws:states:::lambda:invoke[.waitForTaskToken]``: Parameters are the Invoke API's
  (FunctionName, Payload, InvocationType, Qualifier, ClientContext, LogType) and the result
  is the response envelope ``{ExecutedVersion, Payload, SdkHttpMetadata,
  SdkResponseMetadata, StatusCode}`` (Task* events).

The payload and envelope helpers here are shared with :mod:`runtime.adapters.local_lambda`,
so a local Python handler answers exactly like a deployed function.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from runtime.adapters.aws import ClientPool, service_error
from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.engine.clock import Clock, RealClock
from runtime.engine.errors import TaskFailure
from runtime.engine.events import dumps

__all__ = [
    "INVOKE_ARN",
    "INVOKE_PARAMETERS",
    "INVOKE_TOKEN_ARN",
    "LEGACY_ARN",
    "FunctionRef",
    "LambdaAdapter",
    "decode_payload",
    "encode_payload",
    "function_failure",
    "http_metadata",
    "invoke_envelope",
    "parse_function_name",
    "register",
]

#: Registry patterns (regexes on the Resource ARN).
LEGACY_ARN = r"^arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+(:[^:]+)?$"
INVOKE_ARN = r"^arn:[^:]+:states:::lambda:invoke$"
INVOKE_TOKEN_ARN = r"^arn:[^:]+:states:::lambda:invoke\.waitForTaskToken$"

#: The Invoke parameters Step Functions passes on (DG "Lambda" optimized integration;
#: LogType is outside the documented list but accepted by AWS).
INVOKE_PARAMETERS = frozenset(
    {"FunctionName", "Payload", "InvocationType", "Qualifier", "ClientContext", "LogType"}
)

# -- function names ---------------------------------------------------------------------

# Lambda's FunctionName forms: "my-function", "my-function:v1", "123456789012:function:
# my-function[:v1]" (partial ARN), "arn:aws:lambda:us-east-1:123456789012:function:
# my-function[:v1]" (Lambda API Reference, Invoke, FunctionName).
_FUNCTION_NAME = re.compile(
    r"^(?:(?:arn:[^:]+:lambda:(?P<region>[^:]+):)?(?P<account>[^:]+):function:)?"
    r"(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$"
)


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A FunctionName split into its parts."""

    #: The bare function name.
    name: str
    #: Version or alias, if the name carried one.
    qualifier: str | None = None
    #: The region of a full ARN, else None.
    region: str | None = None
    #: The account of a full or partial ARN, else None.
    account: str | None = None


def parse_function_name(value: Any) -> FunctionRef | None:
    """Split a Lambda function name, partial ARN or ARN; None if it is none of them."""
    if not isinstance(value, str):
        return None
    match = _FUNCTION_NAME.match(value)
    if match is None:
        return None
    return FunctionRef(match["name"], match["qualifier"], match["region"], match["account"])


# -- payloads -----------------------------------------------------------------------------


def encode_payload(value: Any) -> bytes:
    """The bytes Step Functions sends as a Lambda event.

    As AWS does (recorded cases ``lambda_task_service.invoke_json_values.*``: a Payload
    ``"[]"`` arrives as ``[]``, Content-Length 2): a string that is JSON text is sent
    as is; any other string, and every other value, is sent as JSON; null is ``{}``.
    """
    if value is None:
        return b"{}"
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return dumps(value).encode("utf-8")
        return value.encode("utf-8")
    return dumps(value).encode("utf-8")


def decode_payload(data: bytes) -> Any:
    """A Lambda response payload: parsed JSON, or the text itself if it is not JSON."""
    text = data.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


_UNKNOWN_CAUSE = (
    "The cause could not be determined because Lambda did not return an error type. "
    "Returned payload: "
)


def function_failure(payload: str, *, legacy: bool) -> TaskFailure:
    """The task failure for a response with ``FunctionError`` set.

    The error is the payload's ``errorType``; without one it is ``Lambda.Unknown`` (DG
    "Handle Lambda service exceptions": unhandled errors such as timeouts and out of
    memory), with AWS's "The cause could not be determined..." cause. The cause is the
    payload as the function returned it for legacy ARNs, and re-serialised compactly for
    lambda:invoke (recorded: ``task_lambda.raise_custom_exception`` keeps Python's
    ``", "`` separators, ``task_service_lambda.raise_exception_catch`` has none).
    """
    body = decode_payload(payload.encode("utf-8"))
    if not legacy and not isinstance(body, str):
        payload = dumps(body)
    error = body.get("errorType") if isinstance(body, dict) else None
    if not isinstance(error, str) or not error:
        return TaskFailure("Lambda.Unknown", _UNKNOWN_CAUSE + payload)
    return TaskFailure(error, payload)


# -- the lambda:invoke envelope -------------------------------------------------------------

# Header names as the Java SDK behind Step Functions spells them, in the order AWS lists
# them in AllHttpHeaders (recorded ``base_scenarios.lambda_service_invoke``). botocore
# lower-cases header names, so they are restored from this table.
_HEADER_ORDER = (
    "X-Amz-Executed-Version",
    "x-amzn-Remapped-Content-Length",
    "Connection",
    "x-amzn-RequestId",
    "Content-Length",
    "Date",
    "X-Amzn-Trace-Id",
    "Content-Type",
)
_HEADER_RANK = {name: rank for rank, name in enumerate(_HEADER_ORDER)}
_HEADER_NAMES = {
    name.lower(): name for name in (*_HEADER_ORDER, "X-Amz-Function-Error", "X-Amz-Log-Result")
}


def _header_name(name: str) -> str:
    known = _HEADER_NAMES.get(name.lower())
    if known is not None:
        return known
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def http_metadata(headers: Mapping[str, Any], status: int) -> dict[str, Any]:
    """``SdkHttpMetadata``: headers as lists (AllHttpHeaders) and as values (HttpHeaders).

    HttpHeaders is ordered case-insensitively, like the SDK's TreeMap; AllHttpHeaders in
    AWS's order for the headers Lambda sends, then any others as received.
    """
    named = {_header_name(key): str(value) for key, value in headers.items()}
    in_aws_order = sorted(named, key=lambda name: _HEADER_RANK.get(name, len(_HEADER_RANK)))
    return {
        "AllHttpHeaders": {name: [named[name]] for name in in_aws_order},
        "HttpHeaders": {name: named[name] for name in sorted(named, key=str.lower)},
        "HttpStatusCode": status,
    }


def invoke_envelope(
    *,
    payload: Any,
    status_code: int,
    headers: Mapping[str, Any],
    http_status: int,
    request_id: str,
    executed_version: str | None = None,
    log_result: str | None = None,
) -> dict[str, Any]:
    """The lambda:invoke task result, keys in AWS's (alphabetical) order."""
    envelope: dict[str, Any] = {}
    if executed_version is not None:
        envelope["ExecutedVersion"] = executed_version
    if log_result is not None:
        envelope["LogResult"] = log_result
    envelope["Payload"] = payload
    envelope["SdkHttpMetadata"] = http_metadata(headers, http_status)
    envelope["SdkResponseMetadata"] = {"RequestId": request_id}
    envelope["StatusCode"] = status_code
    return envelope


# -- the boto3 adapter ------------------------------------------------------------------


def _clock(call: TaskCall) -> Clock:
    return call.clock if call.clock is not None else RealClock()


def _is_aws_error(exc: BaseException) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, BotoCoreError | ClientError)


def _invoke_request(call: TaskCall) -> tuple[dict[str, Any], str]:
    """Invoke's keyword arguments and region for a lambda:invoke task."""
    params = call.parameters
    if not isinstance(params, Mapping):
        raise TaskFailure(
            "States.Runtime", "The Parameters of a lambda:invoke task must be a JSON object."
        )
    unknown = sorted(set(params) - INVOKE_PARAMETERS)
    if unknown:
        raise TaskFailure(
            "States.Runtime", f"The field '{unknown[0]}' is not supported by Step Functions."
        )
    request = dict(params)
    if "Payload" in request:
        request["Payload"] = encode_payload(request["Payload"])
    ref = parse_function_name(request.get("FunctionName"))
    return request, (ref.region if ref and ref.region else call.resource.region)


@dataclass(frozen=True, slots=True)
class _Response:
    """What Lambda answered to one Invoke."""

    raw: Mapping[str, Any]
    body: bytes

    @property
    def function_error(self) -> str | None:
        value = self.raw.get("FunctionError")
        return str(value) if value else None

    def envelope(self) -> dict[str, Any]:
        meta = self.raw.get("ResponseMetadata") or {}
        return invoke_envelope(
            payload=decode_payload(self.body),
            status_code=int(self.raw.get("StatusCode", meta.get("HTTPStatusCode", 200))),
            headers=meta.get("HTTPHeaders") or {},
            http_status=int(meta.get("HTTPStatusCode", 200)),
            request_id=str(meta.get("RequestId", "")),
            executed_version=self.raw.get("ExecutedVersion"),
            log_result=self.raw.get("LogResult"),
        )


@dataclass(frozen=True, slots=True)
class LambdaAdapter:
    """Calls Lambda's Invoke through the shared :class:`ClientPool`.

    Request-response for both resource forms. For ``.waitForTaskToken``, :meth:`submit`
    is the Submit step of :class:`runtime.adapters.callback.WaitForToken`, which opens
    the token, writes TaskSubmitted and waits. Cancellation abandons the Invoke in
    flight (it cannot be recalled).
    """

    pool: ClientPool

    async def invoke(self, call: TaskCall) -> Any:
        """Run one attempt of a Task state; see the module docstring for the two forms."""
        if call.resource.kind == "function":
            return await self._legacy(call)
        return await self.submit(call)

    async def submit(self, call: TaskCall) -> Any:
        """Invoke as a lambda:invoke task's Parameters say; return the envelope.

        A function error or a Lambda API error raises TaskFailure, so a callback task
        fails at once instead of waiting for a token nobody will send.
        """
        response = await self._call(call, *_invoke_request(call))
        return self._checked(response, legacy=False).envelope()

    async def _legacy(self, call: TaskCall) -> Any:
        request = {
            "FunctionName": call.resource.arn,
            "InvocationType": "RequestResponse",
            "Payload": encode_payload(call.parameters),
        }
        response = await self._call(call, request, call.resource.region)
        return decode_payload(self._checked(response, legacy=True).body)

    @staticmethod
    def _checked(response: _Response, *, legacy: bool) -> _Response:
        if response.function_error is not None:
            raise function_failure(response.body.decode("utf-8", "replace"), legacy=legacy)
        return response

    async def _call(self, call: TaskCall, request: Mapping[str, Any], region: str) -> _Response:
        clock = _clock(call)
        try:
            raw = await self.pool.call(clock, "lambda", "invoke", request, region)
        except Exception as exc:
            if not _is_aws_error(exc):
                raise
            raise service_error("lambda", exc) from exc
        return _Response(raw, await _read_body(clock, raw.get("Payload")))


async def _read_body(clock: Clock, payload: Any) -> bytes:
    """Read the streamed Payload in a worker thread: on a real endpoint it is network I/O."""
    if payload is None:
        return b""
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    with clock.busy():
        data = await anyio.to_thread.run_sync(payload.read, abandon_on_cancel=True)
    return bytes(data)


def register(registry: AdapterRegistry, pool: ClientPool) -> LambdaAdapter:
    """Route legacy Lambda ARNs and lambda:invoke to boto3; returns the adapter.

    ``lambda:invoke.waitForTaskToken`` is left to the caller:
    ``registry.register(INVOKE_TOKEN_ARN, WaitForToken(adapter.submit, callbacks))``.
    """
    adapter = LambdaAdapter(pool)
    for pattern in (LEGACY_ARN, INVOKE_ARN):
        registry.register(pattern, adapter)
    return adapter
