"""``asl ui [--store PATH] [--port PORT]``: the web console of a store, read-only.

Serves the executions list, each execution (graph, data flow, events; live while it
runs) and the state machines on http://127.0.0.1:PORT until interrupted. It runs
nothing and changes nothing: ``asl serve --ui`` serves the same pages beside the
executions it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import anyio

from asl.commandline import CommandParser, error_line

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``asl ui``; returns the exit status."""
    from runtime.durable.store import Store, StoreError, resolve_store_path
    from runtime.server.console import ConsoleOptions, run_console

    parser = CommandParser(prog="asl ui", description=__doc__.splitlines()[0])
    parser.add_argument("--store", metavar="PATH", help="the execution store (must exist)")
    parser.add_argument(
        "--port", type=int, default=8084, help="port on 127.0.0.1 (default 8084; 0 picks one)"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    path = resolve_store_path(args.store)
    assert path is not None
    try:
        Store.open(path, create=False).close()  # refuse a missing store before listening
    except StoreError as exc:
        error_line(f"asl ui: {exc}")
        return 2
    options = ConsoleOptions(store=str(path), port=args.port)

    def ready(url: str) -> None:
        print(f"asl console: {url}/ (store {path}, read-only)", file=sys.stderr, flush=True)

    async def serve() -> None:
        from runtime.cli.serve import until_signalled

        await until_signalled(lambda stop: run_console(options, stop=stop, ready=ready))

    try:
        anyio.run(serve)
    except OSError as exc:
        error_line(f"asl ui: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}")
        return 1
    return 0
