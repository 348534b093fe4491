"""The Step Functions API as an ASGI app (Starlette) served by uvicorn, beside the serve loop.

One event loop runs three things: uvicorn answering requests, the serve loop
(:func:`runtime.durable.serve.serve`) running the store's executions, and whatever the
operations await (GetActivityTask long polls, StopExecution waiting for the abort).
Operations are coroutines that run in that loop, so they share the store's connection
with the serve loop safely and answer callbacks without crossing threads.

    >>> # anyio.run(run_api, ApiOptions(store="api.db"))                 # doctest: +SKIP

:class:`ApiServer` runs the same in a background thread, for tests and embedding.
"""

from __future__ import annotations

import collections
import json
import os
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from runtime.adapters.activity import LONG_POLL_SECONDS, Activities
from runtime.callbacks.registry import CallbackRegistry
from runtime.durable.serve import serve
from runtime.durable.store import Store
from runtime.engine.clock import RealClock, Timer
from runtime.server.api import (
    executions,
    express,
    history,
    machines,
    maprun,
    redrive,
    tags,
    tasks,
    teststate,
    versions,
)
from runtime.server.api.backend import Backend
from runtime.server.api.errors import (
    SerializationException,
    StepFunctionsApiError,
    UnknownOperationException,
)
from runtime.server.api.protocol import CONTENT_TYPE, TARGET_PREFIX, error_body
from runtime.server.background import BackgroundServer, bind
from runtime.server.guard import (
    MAX_BODY_BYTES,
    allowed_hosts,
    check_host,
    content_length,
    parse_body,
    status_of,
    too_large,
    verify_signature,
)

__all__ = ["OPERATIONS", "ApiOptions", "ApiServer", "create_app", "handle", "run_api"]

Operation = Callable[[Backend, dict[str, Any]], Awaitable[dict[str, Any]]]

#: Every operation, by the name in ``X-Amz-Target`` (dispatch by table).
OPERATIONS: dict[str, Operation] = {
    **machines.OPERATIONS,
    **executions.OPERATIONS,
    **express.OPERATIONS,
    **history.OPERATIONS,
    **redrive.OPERATIONS,
    **tasks.OPERATIONS,
    **tags.OPERATIONS,
    **teststate.OPERATIONS,
    **versions.OPERATIONS,
    **maprun.OPERATIONS,  # after executions: ListExecutions(mapRunArn) is answered there
}


@dataclass(frozen=True, slots=True)
class ApiOptions:
    """How to run the API server."""

    #: The store file (executions, state machines, tags).
    store: str
    host: str = "127.0.0.1"
    #: 8083 is Step Functions Local's port; 0 picks a free one.
    port: int = 8083
    #: The MockConfigFile for ``<stateMachineArn>#<TestCase>`` (absolute path), or None.
    mock_config: str | None = None
    account: str = "123456789012"
    region: str = "us-east-1"
    #: boto3 endpoints for tasks: ``SERVICE=URL`` (e.g. ``lambda=http://...``) or one URL.
    endpoints: tuple[str, ...] = ()
    #: An ``asl.toml`` naming local Lambda handlers (absolute path), or None.
    config: str | None = None
    #: The EventBridge connections of HTTP Tasks (``runtime.adapters.http``), or None.
    connections: str | None = None
    #: ``real``, or ``virtual``: Waits and retry delays of executions take no time.
    clock: str = "real"
    #: How long GetActivityTask waits for a task, in real seconds.
    poll_seconds: float = LONG_POLL_SECONDS
    #: The serve loop's lease length and store poll (it is woken at once on StartExecution).
    lease_seconds: float = 30.0
    store_poll_seconds: float = 1.0
    max_running: int = 1000
    #: Worker processes for Distributed Map children that never wait (``--processes``).
    processes: int = 1
    #: When set, requests must be SigV4-signed with it as the secret access key.
    secret: str | None = None
    #: Host header values accepted besides loopback names and ``host``.
    hosts: tuple[str, ...] = ()
    #: Hears each execution's start and end (``runtime.durable.serve.LogRecord``), or None.
    log: Callable[[dict[str, Any]], None] | None = None
    #: Serve the Step Functions API (``POST /``); False with ``ui`` alone.
    api: bool = True
    #: Serve the web console (:mod:`runtime.server.console`) on the same app and port.
    ui: bool = False


async def handle(backend: Backend, target: str, raw: bytes) -> tuple[int, dict[str, Any]]:
    """Answer one request: (HTTP status, JSON body)."""
    try:
        operation = OPERATIONS.get(target.removeprefix(TARGET_PREFIX))
        if operation is None or not target.startswith(TARGET_PREFIX):
            raise UnknownOperationException(f"Unknown operation {target[:200]}")
        return 200, await operation(backend, parse_body(raw))
    except StepFunctionsApiError as exc:
        return status_of(exc), error_body(exc)


#: Seconds a request body may take to arrive once its headers did.
BODY_SECONDS = 30.0


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


async def _receive_body(receive: Any, length: int) -> bytes:
    """The body, at most MAX_BODY_BYTES, within BODY_SECONDS; AWS-shaped errors else."""
    chunks: list[bytes] = []
    size = 0
    clock = RealClock()  # a deadline on the wire, in real time
    with anyio.CancelScope() as scope:
        timer = clock.call_at(clock.now() + BODY_SECONDS, scope.cancel)
        try:
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise SerializationException("The client closed the connection.")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise too_large(size)
                chunks.append(chunk)
                more = message.get("more_body", False)
        finally:
            timer.cancel()
    if scope.cancelled_caught:
        raise SerializationException(
            f"The request body did not arrive within {BODY_SECONDS:g} seconds."
        )
    raw = b"".join(chunks)
    if len(raw) < length:
        raise SerializationException("The request body ended before Content-Length bytes.")
    return raw


async def _answer(send: Any, status: int, payload: dict[str, Any], close: bool = False) -> None:
    data = json.dumps(payload).encode()
    headers = [
        (b"content-type", CONTENT_TYPE.encode()),
        (b"content-length", str(len(data)).encode()),
        (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class _Api:
    """The API as a plain ASGI app: every request in AWS's shape, with no framework
    objects on the way (this is the hot path of every client's polling loop)."""

    def __init__(self, backend: Backend, secret: str | None, allowed: frozenset[str]) -> None:
        self.backend = backend
        self.secret = secret
        self.allowed = allowed

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        found: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:  # ASGI: names in lower case; first one wins
            found.setdefault(name, value)
        try:
            check_host(_text(found.get(b"host")), self.allowed)
            if scope["method"] != "POST" or scope["path"] != "/":
                raise UnknownOperationException("Only POST / is served here.")
            length = content_length(_text(found.get(b"content-length")))
            raw = await _receive_body(receive, length)
            if self.secret is not None:
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in found.items()}
                verify_signature(self.secret, "POST", scope["path"], headers, raw)
        except StepFunctionsApiError as exc:
            await _answer(send, status_of(exc), error_body(exc), close=True)
            return
        target = found.get(b"x-amz-target", b"").decode("latin-1")
        status, payload = await handle(self.backend, target, raw)
        await _answer(send, status, payload)


def create_app(
    backend: Backend,
    *,
    secret: str | None = None,
    hosts: frozenset[str] | None = None,
    api: bool = True,
    extra: Sequence[BaseRoute] = (),
) -> Any:
    """The ASGI app answering ``POST /`` for ``backend`` (unless ``api`` is false), and the
    ``extra`` routes (the console's pages, GET, and its ``POST /actions/...``, which
    the console guards itself, so they share ``/``).

    Every request passes :mod:`runtime.server.guard` first: its Host must be one of
    ``hosts`` (default: loopback names), its body at most 1 MiB of JSON at most 64 deep,
    and with a ``secret`` it must be SigV4-signed with it. The console's pages get the
    Host check too (a page on localhost is what DNS rebinding aims at).
    """
    allowed = hosts if hosts is not None else allowed_hosts("127.0.0.1")
    endpoint = _Api(backend, secret, allowed)
    if api and not extra:
        return endpoint
    # The console's GET pages first; then the API, which answers anything else in AWS's
    # shape (UnknownOperationException).
    routes: list[BaseRoute] = list(extra)
    if api:
        routes += [Route("/", endpoint), Route("/{rest:path}", endpoint)]
    return _host_checked(Starlette(routes=routes), allowed)


def _host_checked(app: Any, allowed: frozenset[str]) -> Any:
    """``app`` behind the Host check, for routes that do not make it themselves."""

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = dict(scope["headers"]).get(b"host")
            try:
                check_host(host.decode("latin-1") if host is not None else None, allowed)
            except StepFunctionsApiError as exc:
                response = Response(
                    json.dumps(error_body(exc)),
                    status_code=status_of(exc),
                    media_type=CONTENT_TYPE,
                )
                await response(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


if TYPE_CHECKING:
    _Protocol = H11Protocol
else:
    _Protocol = object


class _BoundedHead(_Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for a request's head, and protocol
    errors (bad Content-Length, broken request line) answered in AWS's shape; mixed into
    uvicorn's httptools protocol, or its h11 one when httptools is not installed.

    uvicorn closes idle keep-alive connections by itself, but not one that opens and never
    sends (or sends half) a request head: that one is closed after HEAD_SECONDS.
    """

    head_seconds = 10.0

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._head_timer: Timer | None = None
        self._arm()

    def _arm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        clock = RealClock()
        self._head_timer = clock.call_at(clock.now() + self.head_seconds, self._head_timeout)

    def _head_timeout(self) -> None:
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        body = json.dumps(error_body(SerializationException(f"Malformed HTTP request: {msg}")))
        data = body.encode()
        head = (
            "HTTP/1.1 400 Bad Request\r\n"
            f"content-type: {CONTENT_TYPE}\r\n"
            f"content-length: {len(data)}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + data)
        self.transport.close()


class _BoundedH11(_BoundedHead, H11Protocol):
    """The bounded protocol on h11 (pure Python)."""


def _protocol() -> type[Any]:
    """httptools' protocol (a C parser: about a quarter of the server's CPU per request
    less than h11's) when installed, else h11's."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return _BoundedH11

    class _BoundedHttpTools(_BoundedHead, HttpToolsProtocol):  # type: ignore[misc]
        """The bounded protocol on httptools."""

    return _BoundedHttpTools


#: The HTTP/1.1 protocol class uvicorn runs (see :func:`_protocol`).
HTTP_PROTOCOL: type[Any] = _protocol()


#: Connections or requests in flight at once; more get HTTP 503 (uvicorn's
#: ``limit_concurrency``). GetActivityTask long polls count.
MAX_CONCURRENCY = 512


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: ``asl serve`` owns the signals."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_api(
    options: ApiOptions,
    *,
    stop: anyio.Event | None = None,
    sock: socket.socket | None = None,
    ready: Callable[[str], None] | None = None,
    on_end: Callable[[str], None] | None = None,
) -> int:
    """Serve the API and run the store's executions until ``stop`` is set; return how
    many executions ended meanwhile. ``ready`` is called with the URL once listening;
    ``on_end`` with the ARN of each execution that stops running here.

    Cancellation: executions left running stay RUNNING in the store, for the next start.
    """
    stop = stop or anyio.Event()
    sock = sock or bind(options.host, options.port)
    with Store.open(options.store) as store:
        callbacks = CallbackRegistry(external=True, signer=store.token_signer())
        activities = Activities(callbacks, account=options.account, region=options.region)
        backend = Backend(
            store,
            callbacks,
            activities,
            account=options.account,
            region=options.region,
            mock_config=options.mock_config,
            clock=options.clock,
            endpoints=options.endpoints,
            config=options.config,
            connections=options.connections,
            poll_seconds=options.poll_seconds,
            on_end=on_end,
            processes=options.processes,
        )
        extra: list[BaseRoute] = []
        if options.ui:
            from runtime.server.console import console_routes
            from runtime.server.console.actions import Actions

            async def call(operation: str, body: dict[str, Any]) -> dict[str, Any]:
                return await OPERATIONS[operation](backend, body)

            # With --secret the API needs signatures; the console's pages cannot sign, so
            # its actions stay off rather than open a door around them.
            actions = None
            if options.secret is None:
                actions = Actions(call, task_token=store.token_signer().make)
            extra = console_routes(store, actions=actions)
        config = uvicorn.Config(
            create_app(
                backend,
                secret=options.secret,
                hosts=allowed_hosts(options.host, options.hosts),
                api=options.api,
                extra=extra,
            ),
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
            http=HTTP_PROTOCOL,
            limit_concurrency=MAX_CONCURRENCY,
            timeout_keep_alive=5,
        )
        server = _Uvicorn(config)
        ended = 0
        async with anyio.create_task_group() as group:

            async def run_loop() -> None:
                nonlocal ended
                ended = await serve(
                    store,
                    lease_seconds=options.lease_seconds,
                    poll_seconds=options.store_poll_seconds,
                    max_running=options.max_running,
                    stop=stop,
                    callbacks=callbacks,
                    activities=activities,
                    nudge=backend.nudge,
                    running=backend.running,
                    on_end=on_end,
                    log=options.log,
                    processes=options.processes,
                )

            group.start_soon(run_loop)
            backend.spawn = group.start_soon
            group.start_soon(server.serve, [sock])
            if ready is not None:
                host, port = sock.getsockname()[:2]
                ready(f"http://{host}:{port}")
            await stop.wait()
            server.should_exit = True
    return ended


class ApiServer(BackgroundServer):
    """:func:`run_api` in a daemon thread: ``with ApiServer(options) as server: server.url``.

    ``port=0`` in the options picks a free port. :meth:`stop` ends serving as SIGTERM
    does: executions still running stay RUNNING in the store. :meth:`wait_ended` blocks
    until an execution has stopped running here (tests wait on it instead of polling).
    """

    thread_name = "asl-api"

    def __init__(self, options: ApiOptions) -> None:
        super().__init__(options.host, options.port)
        self.options = options
        self._ended: collections.Counter[str] = collections.Counter()
        self._ended_changed = threading.Condition()

    def _note_end(self, arn: str) -> None:
        with self._ended_changed:
            self._ended[arn] += 1
            self._ended_changed.notify_all()

    def wait_ended(self, arn: str, times: int = 1, timeout: float = 60.0) -> bool:
        """Block until execution ``arn`` stopped running in this server ``times`` times
        (ended or failed to run; a redrive runs it again); False if ``timeout`` real
        seconds pass first."""
        with self._ended_changed:
            return self._ended_changed.wait_for(lambda: self._ended[arn] >= times, timeout)

    async def serve(
        self, stop: anyio.Event, sock: socket.socket, ready: Callable[[str], None]
    ) -> None:
        await run_api(self.options, stop=stop, sock=sock, ready=ready, on_end=self._note_end)


def env_clock(env: dict[str, str] | None = None) -> str | None:
    """``virtual`` for Step Functions Local's ``WAIT_TIME_SCALE=0``; ``real`` for 1; None
    when unset. Other scales are refused (ValueError): only no time or real time exist."""
    env = dict(os.environ) if env is None else env
    scale = env.get("WAIT_TIME_SCALE")
    if not scale:
        return None
    try:
        value = float(scale)
    except ValueError:
        raise ValueError(f"WAIT_TIME_SCALE={scale}: not a number") from None
    if value == 0:
        return "virtual"
    if value == 1:
        return "real"
    raise ValueError(f"WAIT_TIME_SCALE={scale}: only 0 (no waiting) and 1 are supported")


#: Step Functions Local's endpoint variables and the boto3 service each one sets.
ENDPOINT_VARIABLES = {
    "LAMBDA_ENDPOINT": "lambda",
    "SNS_ENDPOINT": "sns",
    "SQS_ENDPOINT": "sqs",
    "BATCH_ENDPOINT": "batch",
    "DYNAMODB_ENDPOINT": "dynamodb",
    "ECS_ENDPOINT": "ecs",
    "STEP_FUNCTIONS_ENDPOINT": "stepfunctions",
}


def env_endpoints(env: dict[str, str] | None = None) -> list[str]:
    """``SERVICE=URL`` specs from Step Functions Local's ``*_ENDPOINT`` variables."""
    env = dict(os.environ) if env is None else env
    return [
        f"{service}={env[name]}" for name, service in ENDPOINT_VARIABLES.items() if env.get(name)
    ]


def env_mock_config(env: dict[str, str] | None = None) -> str | None:
    """The MockConfigFile named by ``SFN_MOCK_CONFIG`` (Step Functions Local) or
    ``LOCALSTACK_SFN_MOCK_CONFIG`` (LocalStack)."""
    env = dict(os.environ) if env is None else env
    return env.get("SFN_MOCK_CONFIG") or env.get("LOCALSTACK_SFN_MOCK_CONFIG") or None
