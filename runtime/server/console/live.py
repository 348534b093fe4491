"""What an execution looks like now, and the Server-Sent Events stream that follows it.

A snapshot is the execution's status, its number of events and the colour of each state
(the report's outcomes, plus ``running`` for a state entered and not yet left). The
stream polls the store with :meth:`Browser.probe` (two index lookups) and reads the
history again only when a new event or a new status shows up, so a page watching an
idle execution costs the store almost nothing. It polls rather than listening to the
recorder because ``asl ui`` watches a store that another process writes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from asl.graph.text import visible
from runtime.durable.store import Store
from runtime.durable.store.browse import Browser
from runtime.engine.clock import Clock
from runtime.report.history import Event, parse_events
from runtime.report.visits import Visit, build_visits, last_redrive, latest_outcomes
from runtime.server.console.tasks import waiting_tasks

__all__ = ["POLL_SECONDS", "Snapshot", "live_outcomes", "snapshot", "stream"]

#: How often a live page's stream looks at the store (the issue asks for under a second).
POLL_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An execution's status and state colours at one moment."""

    status: str
    #: How many history events it has.
    events: int
    #: State name (as the page writes ``data-state``) → ``st-*`` suffix.
    states: Mapping[str, str]
    #: The states whose tasks wait for SendTaskSuccess/Failure (as the page writes them).
    waiting: tuple[str, ...] = ()

    def to_doc(self) -> dict[str, Any]:
        """The snapshot as a JSON document."""
        return {
            "status": self.status,
            "events": self.events,
            "states": dict(self.states),
            "waiting": list(self.waiting),
        }

    def to_json(self) -> str:
        """The snapshot as one SSE ``data:`` line (JSON never holds a raw newline)."""
        return json.dumps(self.to_doc(), ensure_ascii=True)


def live_outcomes(visits: Sequence[Visit], status: str, redriven_at: int = 0) -> dict[str, str]:
    """The report's outcome per state; while the execution runs, a state with an open
    visit that has not failed is ``running`` (the report would call it cancelled); after
    a redrive, a state's latest visits give its colour (:func:`latest_outcomes`)."""
    outcomes = latest_outcomes(visits, redriven_at)
    if status == "RUNNING":
        for visit in visits:
            if not visit.exited and not visit.errors and visit.type != "Fail":
                outcomes[visit.state] = "running"
    return outcomes


def snapshot(events: Sequence[Event], status: str) -> Snapshot:
    """The snapshot of a history, with the status the store gives the execution."""
    _, visits = build_visits(events)
    outcomes = live_outcomes(visits, status, last_redrive(events))
    states = {visible(name): outcome for name, outcome in outcomes.items()}
    waiting = (
        tuple(visible(task.state) for task in waiting_tasks(events, visits))
        if status == "RUNNING"
        else ()
    )
    return Snapshot(status, len(events), states, waiting)


def read_snapshot(store: Store, arn: str, status: str) -> Snapshot:
    """The snapshot of a stored execution."""
    return snapshot(parse_events(store.history(arn)), status)


async def stream(
    store: Store, arn: str, clock: Clock, poll_seconds: float = POLL_SECONDS
) -> AsyncIterator[str]:
    """SSE messages for ``arn``: one now, one on each change, the last once it has ended.

    Cancellation: the response cancels it when the browser goes away.
    """
    browser = Browser(store)
    seen: Any = None
    while True:
        probe = browser.probe(arn)
        if probe is None:
            yield "event: gone\ndata: {}\n\n"
            return
        if probe != seen:
            seen = probe
            yield f"data: {read_snapshot(store, arn, probe[0]).to_json()}\n\n"
            if probe[0] != "RUNNING":
                return
        await clock.sleep_until(clock.now() + poll_seconds)
