"""The console's routes (Starlette), and ``asl ui``'s server: uvicorn on 127.0.0.1.

:func:`console_routes` gives the routes for an open store; ``asl serve --ui`` adds them to
the API server's app (:mod:`runtime.server.api.app`), where the store is the one the serve
loop writes, and ``asl ui`` serves them alone (:func:`run_console`), read-only. Handlers
run in the event loop's thread, the thread that opened the store.

    >>> # anyio.run(run_console, ConsoleOptions(store="store.db", port=8084))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from runtime.durable.store import Store
from runtime.durable.store.browse import STATUSES, Browser, Cursor, ExecutionQuery
from runtime.durable.store.machines import StateMachines
from runtime.engine.clock import Clock, RealClock
from runtime.report.history import parse_events
from runtime.report.visits import build_visits
from runtime.server.background import BackgroundServer, bind
from runtime.server.console import live, pages, tasks
from runtime.server.console.actions import Actions, refuse_read_only
from runtime.server.guard import AccessDeniedException, allowed_hosts, check_host

__all__ = [
    "PAGE_SIZE",
    "Actions",
    "ConsoleOptions",
    "ConsoleServer",
    "console_app",
    "console_routes",
    "run_console",
]

#: Executions per page of the list.
PAGE_SIZE = 50
#: Newest executions on a state machine's page.
RECENT = 20
#: Running executions whose histories the waiting-tasks page reads, newest first.
RUNNING_SCANNED = 100
#: Newest firings shown per schedule.
FIRINGS_SHOWN = 20

#: No page of the console may load anything from elsewhere, nor run injected script.
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'"
)
_HEADERS = {"content-security-policy": _CSP, "x-content-type-options": "nosniff"}


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=_HEADERS)


class _BadRequest(ValueError):
    """Raised when a query parameter cannot be read; the message names it."""


def _time(params: Any, key: str) -> float | None:
    """``since``/``until``: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]``, in UTC."""
    text = params.get(key) or ""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _BadRequest(f"{key}={text!r} is not a date or time (YYYY-MM-DDTHH:MM, UTC)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _query(request: Request) -> tuple[ExecutionQuery, Cursor | None, Cursor | None]:
    params = request.query_params
    status = params.get("status") or None
    if status is not None and status not in STATUSES:
        raise _BadRequest(f"status={status!r} is not one of {', '.join(STATUSES)}")
    query = ExecutionQuery(
        params.get("machine") or None,
        status,
        params.get("name") or None,
        _time(params, "since"),
        _time(params, "until"),
    )
    try:
        after = Cursor.decode(params["after"]) if params.get("after") else None
        before = Cursor.decode(params["before"]) if params.get("before") else None
    except ValueError as exc:
        raise _BadRequest(str(exc)) from None
    return query, after, before


def console_routes(
    store: Store | Callable[[], Store],
    clock: Clock | None = None,
    *,
    actions: Actions | None = None,
) -> list[BaseRoute]:
    """The console's pages over ``store``, or over the store a function gives when the
    store is opened later in the serving thread. Without ``actions`` (``asl ui``) the
    console changes nothing: every ``POST /actions/...`` is refused; with them
    (``asl serve --ui``) its forms start, stop and redrive executions and answer tasks
    through the API's operations (:mod:`runtime.server.console.actions`)."""
    opened: Callable[[], Store] = store if callable(store) else (lambda: store)
    if not callable(store):
        Browser.prepare(store)
    ticking: Clock = clock or RealClock()
    token = actions.token if actions is not None else None

    async def executions(request: Request) -> Response:
        browser = Browser(opened())
        try:
            query, after, before = _query(request)
        except _BadRequest as exc:
            return _html(pages.error_page("Bad filter", str(exc)), 400)
        page = browser.page(query, PAGE_SIZE, after=after, before=before)
        total = browser.count(query)
        return _html(
            pages.executions_page(query, page, total, browser.machine_names(), token=token)
        )

    async def state_machines(request: Request) -> Response:
        return _html(pages.machines_page(Browser(opened()).machines(), token=token))

    async def state_machine(request: Request) -> Response:
        arn = request.path_params["arn"]
        browser = Browser(opened())
        view = browser.machine(arn)
        if view is None:
            message = f"No state machine with the ARN {arn} in the store {opened().path}."
            return _html(pages.error_page("State machine not found", message), 404)
        recent = browser.page(ExecutionQuery(arn), RECENT)
        return _html(pages.machine_page(view, recent, token=token))

    async def waiting_tasks(request: Request) -> Response:
        browser = Browser(opened())
        running = browser.page(ExecutionQuery(status="RUNNING"), RUNNING_SCANNED).rows
        waiting = []
        for row in running:
            events = parse_events(opened().history(row.arn))
            found = tasks.waiting_tasks(events, build_visits(events)[1])
            if found:
                waiting.append((row, found))
        activities = StateMachines(opened()).activities()
        return _html(pages.tasks_page(waiting, activities, len(running), token=token))

    async def schedules(request: Request) -> Response:
        store = opened()
        specs = [json.loads(row.spec_json) for row in store.list_schedules()]
        found = [
            (spec, store.schedule_firings(str(spec.get("Name", "")), FIRINGS_SHOWN))
            for spec in specs
        ]
        return _html(pages.schedules_page(found, token=token))

    async def action(request: Request) -> Response:
        if actions is None:
            return refuse_read_only()
        return await actions.answer(request)

    def _record(request: Request) -> Any:
        arn = request.path_params["arn"]
        return arn, StateMachines(opened()).execution(arn)

    def _missing(arn: str) -> Response:
        message = f"No execution with the ARN {arn} in the store {opened().path}."
        return _html(pages.error_page("Execution not found", message), 404)

    async def execution(request: Request) -> Response:
        arn, record = _record(request)
        if record is None:
            return _missing(arn)
        events = parse_events(opened().history(arn))
        map_runs = Browser(opened()).map_runs(arn)
        return _html(pages.execution_page(record, events, map_runs=map_runs, token=token))

    async def status(request: Request) -> Response:
        arn, record = _record(request)
        if record is None:
            return JSONResponse({"message": f"no execution {arn}"}, 404)
        snap = live.read_snapshot(opened(), arn, record.status)
        return JSONResponse(snap.to_doc())

    async def events(request: Request) -> Response:
        arn, record = _record(request)
        if record is None:
            return _missing(arn)
        return StreamingResponse(
            live.stream(opened(), arn, ticking),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", **_HEADERS},
        )

    return [
        Route("/", executions, methods=["GET"]),
        Route("/state-machines", state_machines, methods=["GET"]),
        Route("/state-machines/{arn:path}", state_machine, methods=["GET"]),
        Route("/tasks", waiting_tasks, methods=["GET"]),
        Route("/schedules", schedules, methods=["GET"]),
        Route("/actions/{operation}", action, methods=["POST"]),
        Route("/executions/{arn:path}/events", events, methods=["GET"]),
        Route("/executions/{arn:path}/status", status, methods=["GET"]),
        Route("/executions/{arn:path}", execution, methods=["GET"]),
    ]


def console_app(path: str, clock: Clock | None = None) -> Starlette:
    """The console alone as an ASGI app: the store at ``path`` (which must exist) is
    opened at startup in the serving thread and closed at shutdown."""
    holder: list[Store] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        with Store.open(path, create=False) as store:
            Browser.prepare(store)
            holder.append(store)
            yield
            holder.clear()

    def opened() -> Store:
        return holder[0]

    return Starlette(routes=console_routes(opened, clock), lifespan=lifespan)


@dataclass(frozen=True, slots=True)
class ConsoleOptions:
    """How ``asl ui`` serves a store."""

    #: The store file; it must exist.
    store: str
    host: str = "127.0.0.1"
    #: 0 picks a free port.
    port: int = 8084
    clock: Clock = field(default_factory=RealClock)


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: the command owns the signals."""

    def capture_signals(self) -> Any:
        from contextlib import nullcontext

        return nullcontext()


async def run_console(
    options: ConsoleOptions,
    *,
    stop: anyio.Event | None = None,
    sock: socket.socket | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the console of ``options.store`` until ``stop`` is set.

    Raises :class:`runtime.durable.store.StoreError` when the store cannot be opened.
    """
    stop = stop or anyio.Event()
    with Store.open(options.store, create=False) as store:
        sock = sock or bind(options.host, options.port)
        app = _loopback_only(
            Starlette(routes=console_routes(store, options.clock)),
            allowed_hosts(options.host),
        )
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=1
        )
        server = _Uvicorn(config)
        async with anyio.create_task_group() as group:
            group.start_soon(server.serve, [sock])
            if ready is not None:
                host, port = sock.getsockname()[:2]
                ready(f"http://{host}:{port}")
            await stop.wait()
            server.should_exit = True


class ConsoleServer(BackgroundServer):
    """:func:`run_console` in a daemon thread: ``with ConsoleServer(options) as s: s.url``."""

    thread_name = "asl-console"

    def __init__(self, options: ConsoleOptions) -> None:
        super().__init__(options.host, options.port)
        self.options = options

    async def serve(
        self, stop: anyio.Event, sock: socket.socket, ready: Callable[[str], None]
    ) -> None:
        await run_console(self.options, stop=stop, sock=sock, ready=ready)


def _loopback_only(app: Any, allowed: frozenset[str]) -> Any:
    """``app`` answering 403 to a request whose Host is not a loopback name: a page served
    on localhost is what DNS rebinding aims at."""

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = dict(scope["headers"]).get(b"host")
            try:
                check_host(host.decode("latin-1") if host is not None else None, allowed)
            except AccessDeniedException as exc:
                await Response(str(exc), status_code=403, media_type="text/plain")(
                    scope, receive, send
                )
                return
        await app(scope, receive, send)

    return guarded
