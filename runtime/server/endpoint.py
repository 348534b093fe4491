"""A local HTTP endpoint speaking the Step Functions API, for task tokens and activities.

Unmodified AWS clients work against it, e.g.::

    boto3.client("stepfunctions", endpoint_url=endpoint.url, region_name="us-east-1",
                 aws_access_key_id="x", aws_secret_access_key="x").send_task_success(
        taskToken=token, output="{}")

Protocol (AWS JSON 1.0, as in botocore's ``stepfunctions`` service model): ``POST /``
with ``X-Amz-Target: AWSStepFunctions.<Operation>`` and a JSON body; the answer is JSON
with ``Content-Type: application/x-amz-json-1.0``. Errors are HTTP 400 with
``{"__type": "com.amazonaws.swf.service.v2.model#<Code>", "message": ...}``: botocore
keeps what follows ``#`` as the error code, so the client raises e.g.
``client.exceptions.TaskTimedOut``. Operations: SendTaskSuccess, SendTaskFailure,
SendTaskHeartbeat, GetActivityTask, CreateActivity, DescribeActivity, DeleteActivity,
ListActivities. The server binds 127.0.0.1; requests are not authenticated unless a
shared ``secret`` is given, and every request passes :mod:`runtime.server.guard` (Host,
Content-Length, body size and depth, the signature).

The server runs in its own thread (stdlib ``ThreadingHTTPServer``, one thread per
connection, so long polls do not block answers), bounded: at most
:data:`MAX_CONNECTIONS` connections at once (more are closed at once), and a connection
that sends nothing for :data:`READ_SECONDS` is closed.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from runtime.adapters.activity import LONG_POLL_SECONDS, Activities
from runtime.callbacks.registry import CallbackRegistry, StepFunctionsApiError, ValidationException
from runtime.server.guard import (
    AccessDeniedException,
    RequestTooLarge,
    SerializationException,
    allowed_hosts,
    check_host,
    content_length,
    parse_body,
    status_of,
    verify_signature,
)

__all__ = ["LocalEndpoint"]

_TARGET_PREFIX = "AWSStepFunctions."
_ERROR_TYPE = "com.amazonaws.swf.service.v2.model#"
_CONTENT_TYPE = "application/x-amz-json-1.0"

#: Connections served at once (each holds a thread while open).
MAX_CONNECTIONS = 128
#: Seconds a connection may stay silent (before or within a request) before it is closed.
READ_SECONDS = 30.0

Operation = Callable[["LocalEndpoint", dict[str, Any]], dict[str, Any]]


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise ValidationException(
            f"1 validation error detected: Value null at '{name}' failed to satisfy "
            "constraint: Member must not be null"
        )
    return value


def _optional(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) else None


def _send_task_success(ep: LocalEndpoint, body: dict[str, Any]) -> dict[str, Any]:
    ep.callbacks.send_task_success(_required(body, "taskToken"), _required(body, "output"))
    return {}


def _send_task_failure(ep: LocalEndpoint, body: dict[str, Any]) -> dict[str, Any]:
    token = _required(body, "taskToken")
    ep.callbacks.send_task_failure(token, _optional(body, "error"), _optional(body, "cause"))
    return {}


def _send_task_heartbeat(ep: LocalEndpoint, body: dict[str, Any]) -> dict[str, Any]:
    ep.callbacks.send_task_heartbeat(_required(body, "taskToken"))
    return {}


def _get_activity_task(ep: LocalEndpoint, body: dict[str, Any]) -> dict[str, Any]:
    arn = _required(body, "activityArn")
    task = ep.activities.get_activity_task(arn, body.get("workerName") or "", ep.poll_seconds)
    # AWS: "If no task is available within 60 seconds, the poll returns a taskToken with
    # a null string"; botocore then leaves taskToken out of the response.
    return task or {}


def _create_activity(ep: LocalEndpoint, body: dict[str, Any]) -> dict[str, Any]:
    return ep.activities.create(_required(body, "name"))


def _describe_activity(ep: LocalEndpoint, body: dict[str, Any]) -> dict[str, Any]:
    return ep.activities.describe(_required(body, "activityArn"))


def _delete_activity(ep: LocalEndpoint, body: dict[str, Any]) -> dict[str, Any]:
    ep.activities.delete(_required(body, "activityArn"))
    return {}


def _list_activities(ep: LocalEndpoint, body: dict[str, Any]) -> dict[str, Any]:
    return {"activities": ep.activities.list()}


OPERATIONS: dict[str, Operation] = {
    "SendTaskSuccess": _send_task_success,
    "SendTaskFailure": _send_task_failure,
    "SendTaskHeartbeat": _send_task_heartbeat,
    "GetActivityTask": _get_activity_task,
    "CreateActivity": _create_activity,
    "DescribeActivity": _describe_activity,
    "DeleteActivity": _delete_activity,
    "ListActivities": _list_activities,
}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # A client that sends nothing (or half a request) for read_seconds is disconnected
        # and frees its thread (GetActivityTask's long poll waits server-side, not here).
        self.connection.settimeout(self.server.endpoint.read_seconds)

    def do_POST(self) -> None:
        status, payload = self._dispatch()
        self._answer(status, payload)

    def _refuse_method(self) -> None:
        self.close_connection = True
        self._answer(400, _error("UnknownOperationException", "Only POST / is served here."))

    do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", _CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
        except (ConnectionError, TimeoutError):  # the client went away: nothing to tell
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors (bad request line, headers too long...) as AWS-shaped JSON."""
        self.close_connection = True
        kind = "UnknownOperationException" if code == 501 else "SerializationException"
        self._answer(400, _error(kind, message or "Bad request"))

    def _dispatch(self) -> tuple[int, dict[str, Any]]:
        ep = self.server.endpoint
        try:
            check_host(self.headers.get("Host"), ep.hosts)
            if self.headers.get("Transfer-Encoding"):
                raise SerializationException(
                    "Transfer-Encoding is not supported; send Content-Length."
                )
            length = content_length(self.headers.get("Content-Length"))
            raw = self.rfile.read(length) if length else b""
            if len(raw) < length:
                raise SerializationException("The request body ended before Content-Length bytes.")
            if ep.secret is not None:
                verify_signature(ep.secret, "POST", self.path, dict(self.headers.items()), raw)
            target = self.headers.get("X-Amz-Target", "")
            operation = OPERATIONS.get(target.removeprefix(_TARGET_PREFIX))
            if operation is None or not target.startswith(_TARGET_PREFIX):
                return 400, _error("UnknownOperationException", f"Unknown operation {target[:200]}")
            return 200, operation(ep, parse_body(raw))
        except StepFunctionsApiError as exc:
            if isinstance(exc, SerializationException | RequestTooLarge | AccessDeniedException):
                self.close_connection = True  # the rest of the stream cannot be trusted
            return status_of(exc), _error(exc.code, exc.message)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: an endpoint inside a test run or the CLI must not print per request."""


def _error(code: str, message: str) -> dict[str, Any]:
    return {"__type": _ERROR_TYPE + code, "message": message}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], endpoint: LocalEndpoint) -> None:
        self.endpoint = endpoint
        self._slots = threading.BoundedSemaphore(endpoint.max_connections)
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """One thread per connection, at most ``max_connections``: more are closed at once."""
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that disconnects or stalls is not an error; anything else is one line."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        print(f"asl endpoint: {type(exc).__name__}: {exc}", file=sys.stderr)


class LocalEndpoint:
    """The Step Functions API on ``http://127.0.0.1:<port>``; ``port=0`` picks a free one.

    Use as a context manager, or :meth:`start` / :meth:`stop`. Starting it sets
    ``callbacks.external`` (answers now come from outside the event loop: see
    :mod:`runtime.callbacks.registry`). ``poll_seconds`` is the GetActivityTask long poll (AWS: 60).
    """

    def __init__(
        self,
        callbacks: CallbackRegistry,
        activities: Activities | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        poll_seconds: float = LONG_POLL_SECONDS,
        secret: str | None = None,
        max_connections: int = MAX_CONNECTIONS,
        read_seconds: float = READ_SECONDS,
    ) -> None:
        self.callbacks = callbacks
        #: When set, requests must be SigV4-signed with it (:mod:`runtime.server.guard`).
        self.secret = secret
        #: Host header values accepted (loopback and the bound address).
        self.hosts = allowed_hosts(host)
        self.max_connections = max_connections
        self.read_seconds = read_seconds
        self.activities = activities if activities is not None else Activities(callbacks)
        self.poll_seconds = poll_seconds
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The endpoint URL to give AWS clients (``endpoint_url``)."""
        if self._server is None:
            raise RuntimeError("the endpoint is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalEndpoint:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is None:
            self.callbacks.external = True
            self._server = _Server(self._address, self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="asl-endpoint",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (requests in flight finish on their own)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> LocalEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
