"""The store's execution observer: records each history event as the execution writes it.

The recorder needs the execution's identity (ARN, name, machine, definition, input) before
the first event, since the ``ExecutionStarted`` event carries only the input and role. It
learns it in one of two ways:

* ``attach(execution)``, called by :func:`runtime.api.run` on every observer that has it,
  after the :class:`runtime.engine.execution.Execution` is built and before it runs. The store
  row is written then, so a duplicate name fails before any state runs.
* an :class:`ExecutionInfo` given to the constructor; the row is then written when the
  ``ExecutionStarted`` event arrives (with that event's input and time).

Group commit (``asl serve``): a recorder given a :class:`GroupCommit` hands each event to
it instead of committing it alone. The events of every execution written during one turn
of the event loop are committed in one transaction just after that turn
(``Store.record_many``), and at once for a closing event, so an execution is seen to end
only once all its events are committed. An event not yet committed when the process is
killed was never acknowledged: the execution resumes from the last committed one and
does that step again, as after any crash.

Once attached, the recorder holds the execution's lease and writes each event fenced by
it: when another process took the execution over (this one was paused past its lease),
the write is refused, the execution is cancelled, and :class:`LeaseLost` ends the run.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Mapping
from typing import Any

from runtime.durable.store.errors import LeaseLost, StoreError
from runtime.durable.store.lease import Lease
from runtime.durable.store.records import ExecutionInfo, RunningExecution
from runtime.durable.store.sqlite import Store
from runtime.engine.events import HistoryEvent

#: Environment variable naming the event id after which a crash test kills the process.
KILL_AFTER_EVENT_VAR = "ASL_FAULT_KILL_AFTER_EVENT"

__all__ = ["FLUSH_EVENTS", "KILL_AFTER_EVENT_VAR", "GroupCommit", "StoreRecorder"]


_CLOSING = frozenset(
    {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}
)


#: Events a group commit holds at most: the one that reaches it is committed at once,
#: within the writer's turn of the event loop. A CPU-bound execution's turn (see
#: ``runtime.engine.scope.TURN_SECONDS``) then includes committing what it wrote, and
#: the others wait for that turn, not for it plus a commit of all its events.
FLUSH_EVENTS = 64


class GroupCommit:
    """Commits the events recorders hand it, one transaction per turn of the event loop
    (or per :data:`FLUSH_EVENTS` events, whichever comes first).

    Use from one event loop (the one the executions run in). :meth:`flush` commits what
    is pending now (a closing event, a parked execution, serve stopping).
    """

    __slots__ = ("_items", "_recorders", "_scheduled", "commits", "events", "store")

    def __init__(self, store: Store) -> None:
        self.store = store
        self._items: list[tuple[str, HistoryEvent, int | None]] = []
        self._recorders: dict[int, StoreRecorder] = {}
        self._scheduled = False
        #: Transactions and events committed so far (for the serve benchmarks).
        self.commits = 0
        self.events = 0

    def _scheduled_flush(self) -> None:
        self._scheduled = False
        self.flush()

    def add(
        self, recorder: StoreRecorder, arn: str, event: HistoryEvent, fence: int | None
    ) -> None:
        """Queue ``event``; it is committed after the current turn of the loop."""
        items = self._items
        items.append((arn, event, fence))
        self._recorders[id(recorder)] = recorder
        if len(items) >= FLUSH_EVENTS:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._scheduled_flush)

    def flush(self) -> None:
        """Commit every queued event now, in one transaction, and tell their recorders."""
        items, self._items = self._items, []
        recorders, self._recorders = self._recorders, {}
        if not items:
            return
        try:
            refused = self.store.record_many(items)
        except StoreError as exc:
            for recorder in recorders.values():
                recorder.uncommitted(str(exc))
            return
        self.commits += 1
        self.events += len(items)
        for recorder in recorders.values():
            recorder.committed(refused)


class StoreRecorder:
    """An execution observer (``recorder(event, frame)``) that commits every event."""

    __slots__ = (
        "_batch",
        "_begun",
        "_execution",
        "_failed",
        "_kill_after",
        "_last_id",
        "_lease",
        "info",
        "options",
        "store",
    )

    def __init__(
        self,
        store: Store,
        info: ExecutionInfo | None = None,
        *,
        options: Mapping[str, Any] | None = None,
        resuming: bool = False,
        lease: Lease | None = None,
        batch: GroupCommit | None = None,
    ) -> None:
        self.store = store
        #: Group commit (``asl serve``): events are committed by it, per loop turn.
        self._batch = batch
        #: Why the last group commit failed; no event is accepted after it.
        self._failed: str | None = None
        #: The id of the last event handed to the batch.
        self._last_id = 0
        #: The execution being recorded; set by the constructor or by :meth:`attach`.
        self.info = info
        #: How the execution was started, kept for ``asl resume``.
        self.options = dict(options or {})
        #: A resumed execution is already stored: only its new events are recorded.
        self._begun = resuming
        #: Fault injection for crash tests: SIGKILL this process once the event with
        #: this id is committed (``ASL_FAULT_KILL_AFTER_EVENT``; unset in normal use).
        kill = os.environ.get(KILL_AFTER_EVENT_VAR, "")
        self._kill_after = int(kill) if kill.isdigit() else 0
        #: This process's claim on the execution while it runs it (see runtime.durable.store.lease).
        self._lease = lease if lease is not None else Lease(store)
        self._execution: RunningExecution | None = None

    @property
    def stored_name(self) -> str | None:
        """The execution's name once it is in the store (RUNNING or later), else None."""
        return self.info.name if self._begun and self.info is not None else None

    def attach(self, execution: RunningExecution) -> None:
        """Learn the execution's identity and store it as RUNNING, before its first event.

        Raises :class:`runtime.durable.store.errors.ExecutionAlreadyExists` for a reused name.
        """
        self.info = ExecutionInfo.of(execution, self.options)
        if not self._begun:
            self.store.begin_execution(self.info, execution.input, execution.start_time)
            self._begun = True
        self._execution = execution
        self._lease.on_stop = getattr(execution, "abort", None)
        self._lease.on_lost = self._stop
        self._lease.hold(self.info.arn)

    def detach(self) -> None:
        """Forget the execution once it stopped running here. The execution refers to
        this recorder (its observer), so keeping it would make a reference cycle: the
        finished execution and its whole history would wait for the cyclic garbage
        collector, a pause of tens of ms in ``asl serve``, instead of being freed at once."""
        self._execution = None
        self._lease.on_stop = self._lease.on_lost = None

    def _stop(self, reason: str) -> None:
        """The lease is lost: cancel the execution now; its next event is refused."""
        scope = getattr(self._execution, "stop_scope", None)
        if scope is not None:
            scope.cancel()

    def __call__(self, event: HistoryEvent, frame: Any = None) -> None:
        """Commit ``event`` (called synchronously by the execution as it writes it)."""
        info = self.info
        if info is None:
            raise StoreError("the store recorder got an event before the execution's identity")
        if not self._begun:
            details = event.details or {}
            self.store.begin_execution(info, details.get("input", {}), event.timestamp)
            self._begun = True
        lease = self._lease
        if lease.lost is not None:
            raise LeaseLost(lease.lost)
        if self._failed is not None:
            raise StoreError(self._failed)
        batch = self._batch
        if batch is not None:
            self._last_id = event.id  # before add: a full batch commits (and tells) at once
            batch.add(self, info.arn, event, lease.generation)
            if event.type in _CLOSING:
                batch.flush()  # the execution is seen to end once all of it is committed
                if lease.lost is not None:
                    raise LeaseLost(lease.lost)
                if self._failed is not None:
                    raise StoreError(self._failed)
                self._lease.ended()  # its lease row went with the closing commit
            return
        try:
            self.store.record(info.arn, event, fence=lease.generation)
        except LeaseLost as exc:
            lease.lose(str(exc))
            raise
        if self._kill_after and event.id >= self._kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        if event.type in _CLOSING:
            # The commit that set the execution's outcome deleted its lease row (the
            # store's trigger), as in a group commit: nothing is left to give up.
            lease.ended()

    def committed(self, refused: set[str]) -> None:
        """The group commit stored this recorder's pending events (or refused them all:
        its lease was taken over)."""
        info = self.info
        if info is not None and info.arn in refused:
            self._lease.lose(f"the execution {info.arn} was taken over by another process")
            return
        if self._kill_after and self._last_id >= self._kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    def uncommitted(self, reason: str) -> None:
        """The group commit failed: stop the execution; it stays RUNNING in the store,
        at its last committed event, for a runner to resume."""
        self._failed = f"cannot record the execution's events: {reason}"
        self._stop(self._failed)

    def map_run(self, record: Any, children: Any = None) -> None:
        """Store a Map Run as it starts and ends (with its children then); see
        :mod:`runtime.durable.store.mapruns`."""
        self.store.save_map_run(record, children)
