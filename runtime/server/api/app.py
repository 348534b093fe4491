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
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from runtime.adapters.activity import LONG_POLL_SECONDS, Activities
from runtime.callbacks.registry import CallbackRegistry
from runtime.durable.serve import serve
from runtime.durable.store import Store
from runtime.server.api import (
    executions,
    express,
    history,
    machines,
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
    #: ``real``, or ``virtual``: Waits and retry delays of executions take no time.
    clock: str = "real"
    #: How long GetActivityTask waits for a task, in real seconds.
    poll_seconds: float = LONG_POLL_SECONDS
    #: The serve loop's lease length and store poll (it is woken at once on StartExecution).
    lease_seconds: float = 30.0
    store_poll_seconds: float = 1.0
    max_running: int = 1000
    #: Serve the Step Functions API (``POST /``); False with ``ui`` alone.
    api: bool = True
    #: Serve the web console (:mod:`runtime.server.console`) on the same app and port.
    ui: bool = False


async def handle(backend: Backend, target: str, raw: bytes) -> tuple[int, dict[str, Any]]:
    """Answer one request: (HTTP status, JSON body)."""
    try:
        operation = OPERATIONS.get(target.removeprefix(TARGET_PREFIX))
        if operation is None or not target.startswith(TARGET_PREFIX):
            raise UnknownOperationException(f"Unknown operation {target}")
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise SerializationException("The request body is not JSON.") from None
        if not isinstance(body, dict):
            raise SerializationException("The request body is not a JSON object.")
        return 200, await operation(backend, body)
    except StepFunctionsApiError as exc:
        return 400, error_body(exc)


def create_app(backend: Backend, *, api: bool = True, extra: Sequence[BaseRoute] = ()) -> Starlette:
    """The ASGI app answering ``POST /`` for ``backend`` (unless ``api`` is false), then
    the ``extra`` routes (the console's pages are all GET, so they share ``/``)."""

    async def endpoint(request: Request) -> Response:
        status, payload = await handle(
            backend, request.headers.get("x-amz-target", ""), await request.body()
        )
        return Response(
            json.dumps(payload),
            status_code=status,
            media_type=CONTENT_TYPE,
            headers={"x-amzn-RequestId": str(uuid.uuid4())},
        )

    routes: list[BaseRoute] = [Route("/", endpoint, methods=["POST"])] if api else []
    return Starlette(routes=[*routes, *extra])


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: ``asl serve`` owns the signals."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (bound now, so the port is known before serving starts).

    With TCP_NODELAY, which the accepted connections inherit: asyncio sets it on the
    connections of the sockets it creates, but not on those of a socket made with
    ``proto=0`` as this one is, and a response written as headers then body would then
    wait for the client's delayed ACK (40 ms on Linux) on every request.
    """
    sock = socket.create_server((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


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
    callbacks = CallbackRegistry(external=True)
    activities = Activities(callbacks, account=options.account, region=options.region)
    with Store.open(options.store) as store:
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
            poll_seconds=options.poll_seconds,
            on_end=on_end,
        )
        extra: list[BaseRoute] = []
        if options.ui:
            from runtime.server.console import console_routes

            extra = console_routes(store)
        config = uvicorn.Config(
            create_app(backend, api=options.api, extra=extra),
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
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


class ApiServer:
    """:func:`run_api` in a daemon thread: ``with ApiServer(options) as server: server.url``.

    ``port=0`` in the options picks a free port. :meth:`stop` ends serving as SIGTERM
    does: executions still running stay RUNNING in the store. :meth:`wait_ended` blocks
    until an execution has stopped running here (tests wait on it instead of polling).
    """

    def __init__(self, options: ApiOptions) -> None:
        self.options = options
        self._sock = bind(options.host, options.port)
        host, port = self._sock.getsockname()[:2]
        #: The endpoint URL to give AWS clients (``endpoint_url``).
        self.url = f"http://{host}:{port}"
        self._stop: anyio.Event | None = None
        self._token: Any = None
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
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

    def start(self) -> ApiServer:
        """Start serving; returns once the server accepts requests."""

        async def main() -> None:
            self._stop = anyio.Event()
            self._token = anyio.lowlevel.current_token()
            await run_api(
                self.options,
                stop=self._stop,
                sock=self._sock,
                ready=lambda _url: self._started.set(),
                on_end=self._note_end,
            )

        def target() -> None:
            try:
                anyio.run(main)
            except BaseException as exc:  # surfaced by start()/stop()
                self._error = exc
                self._started.set()

        self._thread = threading.Thread(target=target, name="asl-api", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._thread is None:
            return
        if self._stop is not None:
            anyio.from_thread.run_sync(self._stop.set, token=self._token)
        self._thread.join()
        self._thread = None
        if self._error is not None:
            raise self._error

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


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
