"""The web console (``asl ui``, ``asl serve --ui``): the store's executions in a browser.

Pages rendered on the server from the store, with the HTML report's pieces
(:mod:`runtime.report`) for one execution: :mod:`~runtime.server.console.pages` writes
the HTML, :mod:`~runtime.server.console.live` follows a running execution over
Server-Sent Events, :mod:`~runtime.server.console.assets` holds the console's CSS and
script, :mod:`~runtime.server.console.app` routes and serves them,
:mod:`~runtime.server.console.actions` guards the actions of ``asl serve --ui`` (start,
stop, redrive, answer a task) and :mod:`~runtime.server.console.tasks` finds the tasks
an execution waits on. The queries live with the store
(:mod:`runtime.durable.store.browse`).
"""

from __future__ import annotations

from runtime.server.console.app import ConsoleOptions, ConsoleServer, console_routes, run_console

__all__ = ["ConsoleOptions", "ConsoleServer", "console_routes", "run_console"]
