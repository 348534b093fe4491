"""What both local servers check before a request reaches an operation.

The callback endpoint (:mod:`runtime.server.endpoint`) and the API server
(:mod:`runtime.server.api`) listen on loopback and trust the machine's users. These
checks keep a hostile page in a browser, a confused client or a flood of connections from
doing more than getting an error:

* **Host**: the ``Host`` header must name a loopback address (``localhost``,
  ``127.0.0.1``, ``::1``) or the address the server was bound to, so that a web page
  whose name was re-pointed at 127.0.0.1 (DNS rebinding) cannot call the API.
* **Size**: ``Content-Length`` must be a decimal number; a body over
  :data:`MAX_BODY_BYTES` (Step Functions' "API request size: 1 MB" quota) is refused
  before it is read.
* **Shape**: the body is JSON text whose nesting is at most :data:`MAX_DEPTH` deep
  (checked before parsing, without recursion) and whose top is an object; else
  ``SerializationException``, as botocore names it.
* **Credential** (opt-in): with a shared secret, a request must carry an AWS Signature
  Version 4 made with that secret as the secret access key (any access key id), so
  unmodified boto3 or the AWS CLI work once their credentials are set. The signature is
  recomputed with botocore's own signer and compared in constant time; a missing or
  malformed ``Authorization`` is ``UnrecognizedClientException``, a wrong signature or
  one older than five minutes ``InvalidSignatureException`` (AWS's codes and messages).
"""

from __future__ import annotations

import hmac
import ipaddress
import itertools
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from runtime.callbacks.registry import StepFunctionsApiError
from runtime.engine.clock import RealClock

__all__ = [
    "ENV_SECRET",
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "AccessDeniedException",
    "InvalidSignatureException",
    "RequestTooLarge",
    "SerializationException",
    "UnrecognizedClientException",
    "allowed_hosts",
    "check_host",
    "client_keys",
    "content_length",
    "nesting_depth",
    "parse_body",
    "secret_from",
    "status_of",
    "too_large",
    "verify_signature",
]

#: The environment variable both servers (and ``asl send-task-*``/``asl worker`` as
#: clients) read the shared secret from when ``--secret`` is not given.
ENV_SECRET = "ASL_ENDPOINT_SECRET"
#: Step Functions quotas, "API request size: 1 MB" (SPEC.md A.14); taken as 1 MiB.
MAX_BODY_BYTES = 1_048_576
#: Deepest JSON nesting of a request body. No Step Functions request needs more than a
#: few levels (definitions and inputs travel as JSON *strings*); this bound is ours.
MAX_DEPTH = 64
#: AWS refuses a signature whose X-Amz-Date is more than five minutes away.
MAX_SKEW = timedelta(minutes=5)

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class SerializationException(StepFunctionsApiError):
    """Raised when the request body is not a JSON object (or Content-Length is bad)."""

    code = "SerializationException"


class RequestTooLarge(StepFunctionsApiError):
    """Raised when a request body is over :data:`MAX_BODY_BYTES` (HTTP 413)."""

    code = "RequestEntityTooLargeException"
    status = 413


class AccessDeniedException(StepFunctionsApiError):
    """Raised when the Host header names no loopback address (HTTP 403)."""

    code = "AccessDeniedException"
    status = 403


class UnrecognizedClientException(StepFunctionsApiError):
    """Raised when a secret is required and the request carries no usable signature."""

    code = "UnrecognizedClientException"


class InvalidSignatureException(StepFunctionsApiError):
    """Raised when a request's signature was not made with the shared secret."""

    code = "InvalidSignatureException"


def status_of(exc: StepFunctionsApiError) -> int:
    """The HTTP status of an error answer: 400 unless the error says otherwise."""
    return int(getattr(exc, "status", 400))


# -- Host ----------------------------------------------------------------------------------


def allowed_hosts(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Host names a request may name: loopback, the bound address, and ``extra``."""
    names = set(_LOOPBACK_NAMES) | {h.lower() for h in extra}
    if bound and bound not in ("0.0.0.0", "::"):
        names.add(bound.lower())
    return frozenset(names)


def _host_name(header: str) -> str:
    header = header.strip().lower()
    if header.startswith("["):  # [::1]:8083
        return header[1 : header.find("]")] if "]" in header else header
    name, sep, port = header.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name
    return header


def check_host(header: str | None, allowed: frozenset[str]) -> None:
    """AccessDeniedException unless ``header`` names an allowed host (absent is allowed:
    browsers always send one)."""
    if header is None:
        return
    name = _host_name(header)
    # botocore sends StartSyncExecution and TestState to the ``sync-`` host prefix: a
    # client with a hosts entry for sync-localhost names it.
    name = name.removeprefix("sync-") if name.startswith("sync-") else name
    if name in allowed:
        return
    try:
        if ipaddress.ip_address(name).is_loopback:
            return
    except ValueError:
        pass
    raise AccessDeniedException(
        f"Host {header[:100]!r} is not a loopback name: this local endpoint answers "
        "requests for localhost, 127.0.0.1 and ::1 only"
    )


# -- size and shape ------------------------------------------------------------------------


def content_length(header: str | None) -> int:
    """The body length a request announces; SerializationException or RequestTooLarge."""
    if header is None or header == "":
        return 0
    text = header.strip()
    if not text.isascii() or not text.isdigit():
        raise SerializationException(f"Content-Length {header[:40]!r} is not a number of bytes")
    length = int(text)
    if length > MAX_BODY_BYTES:
        raise too_large(length)
    return length


def too_large(length: int) -> RequestTooLarge:
    """The error for a body of ``length`` bytes (or more)."""
    return RequestTooLarge(
        f"Request size {length} bytes exceeds the Step Functions API request limit "
        f"of {MAX_BODY_BYTES} bytes"
    )


# JSON strings, unrolled ("[^"\\]*(?:\\.[^"\\]*)*") so a long string is one fast scan.
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Openers become +1 and closers -1 (0xff read as a signed byte): the depth steps.
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def nesting_depth(raw: bytes) -> int:
    """How deeply JSON text nests (strings skipped); linear, no recursion, and the
    per-bracket work is done in C (a 1 MB body of brackets takes milliseconds)."""
    brackets = _STRINGS.sub(b"", raw).translate(_STEPS, _NOT_BRACKETS)
    steps = memoryview(brackets).cast("b")
    return max(itertools.accumulate(steps), default=0)


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body (empty: ``{}``); SerializationException else."""
    import json

    if not raw.strip():
        return {}
    openers = raw.count(b"[") + raw.count(b"{")  # fewer than the bound: cannot be too deep
    if openers > MAX_DEPTH and nesting_depth(raw) > MAX_DEPTH:
        raise SerializationException(
            f"The request body nests deeper than {MAX_DEPTH} levels of arrays and objects."
        )
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise SerializationException("The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise SerializationException("The request body is not a JSON object.")
    return body


# -- the shared secret ---------------------------------------------------------------------

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
    r"(?P<service>[^/,\s]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9\-;]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)


def verify_signature(
    secret: str,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
) -> None:
    """Check a SigV4 signature made with ``secret``; raise AWS's error when it is not.

    ``headers`` are the request's headers (any case). botocore's :class:`SigV4Auth`
    recomputes the signature over the headers the client signed.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    lower = {name.lower(): value for name, value in headers.items()}
    match = _AUTH.match(lower.get("authorization", "").strip())
    amz_date = lower.get("x-amz-date", "")
    if match is None or not re.fullmatch(r"\d{8}T\d{6}Z", amz_date):
        raise UnrecognizedClientException("The security token included in the request is invalid.")
    signed = match["signed"].split(";")
    if "host" not in signed or any(name not in lower for name in signed):
        raise UnrecognizedClientException("The security token included in the request is invalid.")
    when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    now = now or datetime.fromtimestamp(RealClock().now(), UTC)
    if abs(now - when) > MAX_SKEW:
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        early = (now - MAX_SKEW).strftime("%Y%m%dT%H%M%SZ")
        raise InvalidSignatureException(
            f"Signature expired: {amz_date} is now earlier than {early} ({stamp} - 5 min.)"
        )
    request = AWSRequest(
        method=method,
        url=f"http://{lower['host']}{path}",
        headers={name: lower[name] for name in signed},
        data=body,
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(match["key"], secret), match["service"], match["region"])
    expected = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    if not hmac.compare_digest(expected, match["signature"]):
        raise InvalidSignatureException(_SIGNATURE_MISMATCH)


def secret_from(flag: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The shared secret: ``--secret``, else :data:`ENV_SECRET`, else None (no check)."""
    env = os.environ if env is None else env
    return flag or env.get(ENV_SECRET) or None


def client_keys(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """boto3 credentials for a local endpoint: the shared secret when set, else any."""
    secret = secret_from(None, env)
    return {"aws_access_key_id": "local", "aws_secret_access_key": secret or "local"}
