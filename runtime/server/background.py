"""What the HTTP servers share: a socket bound before serving, and running one in a thread.

:class:`BackgroundServer` runs a server coroutine in a daemon thread with its own event
loop (tests and embedding: ``with Server(options) as server: server.url``); a subclass says
what to serve in :meth:`BackgroundServer.serve`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any, Self

import anyio
import anyio.from_thread
import anyio.lowlevel

__all__ = ["BackgroundServer", "bind"]


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


class BackgroundServer:
    """A server on ``host:port`` (0 picks a free port) served from a daemon thread."""

    #: The serving thread's name.
    thread_name = "asl-server"

    def __init__(self, host: str, port: int) -> None:
        self._sock = bind(host, port)
        host, port = self._sock.getsockname()[:2]
        #: Where the server answers.
        self.url = f"http://{host}:{port}"
        self._stop: anyio.Event | None = None
        self._token: Any = None
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    async def serve(
        self, stop: anyio.Event, sock: socket.socket, ready: Callable[[str], None]
    ) -> None:
        """Serve on ``sock`` until ``stop`` is set; call ``ready`` once accepting."""
        raise NotImplementedError

    def start(self) -> Self:
        """Start serving; returns once the server accepts requests."""

        async def main() -> None:
            self._stop = anyio.Event()
            self._token = anyio.lowlevel.current_token()
            await self.serve(self._stop, self._sock, lambda _url: self._started.set())

        def target() -> None:
            try:
                anyio.run(main)
            except BaseException as exc:  # surfaced by start()/stop()
                self._error = exc
                self._started.set()

        self._thread = threading.Thread(target=target, name=self.thread_name, daemon=True)
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
        self._sock.close()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
