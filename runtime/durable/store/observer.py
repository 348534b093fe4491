"""The store's execution observer: records each history event as the execution writes it.

The recorder needs the execution's identity (ARN, name, machine, definition, input) before
the first event, since the ``ExecutionStarted`` event carries only the input and role. It
learns it in one of two ways:

* ``attach(execution)``, called by :func:`runtime.api.run` on every observer that has it,
  after the :class:`runtime.engine.execution.Execution` is built and before it runs. The store
  row is written then, so a duplicate name fails before any state runs.
* an :class:`ExecutionInfo` given to the constructor; the row is then written when the
  ``ExecutionStarted`` event arrives (with that event's input and time).

Once attached, the recorder holds the execution's lease and writes each event fenced by
it: when another process took the execution over (this one was paused past its lease),
the write is refused, the execution is cancelled, and :class:`LeaseLost` ends the run.
"""

from __future__ import annotations

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

__all__ = ["KILL_AFTER_EVENT_VAR", "StoreRecorder"]


_CLOSING = frozenset(
    {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}
)


class StoreRecorder:
    """An execution observer (``recorder(event, frame)``) that commits every event."""

    __slots__ = ("_begun", "_execution", "_kill_after", "_lease", "info", "options", "store")

    def __init__(
        self,
        store: Store,
        info: ExecutionInfo | None = None,
        *,
        options: Mapping[str, Any] | None = None,
        resuming: bool = False,
        lease: Lease | None = None,
    ) -> None:
        self.store = store
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
        try:
            self.store.record(info.arn, event, fence=lease.generation)
        except LeaseLost as exc:
            lease.lose(str(exc))
            raise
        if self._kill_after and event.id >= self._kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        if event.type in _CLOSING:
            self._lease.release()

    def map_run(self, record: Any, children: Any = None) -> None:
        """Store a Map Run as it starts and ends (with its children then); see
        :mod:`runtime.durable.store.mapruns`."""
        self.store.save_map_run(record, children)
