"""The store methods ``asl serve`` uses to run many executions at once: leases taken and
renewed in batches, executions parked until a time, the next time anything is due, and
events of many executions committed together (group commit).

:class:`LeaseBatches` declares them, each with a default written in terms of a store's
one-execution methods (``claimable``, ``acquire_lease``, ``renew_lease``,
``stop_request``, ``record``), so a backend that has only those still serves correctly,
one transaction per lease. The SQLite :class:`runtime.durable.store.Store` overrides each
with one transaction per batch over indexed tables; another backend should do the same.

The model the overrides implement (``runtime/durable/store/schema.py``, the due-time
migration): every RUNNING execution has a row in ``leases``. Its ``owner`` is the process
running it, or ``''`` (:data:`NOBODY`) when nobody does; ``expires_at`` is when the
lease runs out, or, for a row of nobody, when the execution is *due*: its start time, a
parked Wait's deadline, or 0 when a runner let it go. An execution is claimable once its
row's ``expires_at`` has passed (or its owner is known to be dead), so finding work and
the next wake-up are range reads of one index, whatever the number of parked executions.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from runtime.durable.store.errors import LeaseLost
from runtime.engine.events import HistoryEvent

__all__ = ["NOBODY", "LeaseBatches", "StopRequests"]

#: The owner of the lease row of a RUNNING execution that no process runs.
NOBODY = ""

#: (error, cause) of each pending stop request, by execution ARN.
StopRequests = dict[str, tuple[str | None, str | None]]


class LeaseBatches:
    """Batch methods of a store, with defaults built on its one-execution methods."""

    __slots__ = ()

    # The one-execution methods the defaults use (provided by the concrete store).
    claimable: Any
    acquire_lease: Any
    renew_lease: Any
    stop_request: Any
    record: Any

    def claim_leases(
        self,
        owner: str,
        now: float,
        seconds: float,
        limit: int,
        replace: Collection[str] = (),
    ) -> list[tuple[str, int]]:
        """Take the leases of up to ``limit`` RUNNING executions that are due, the longest
        due first; return their (ARN, lease generation) pairs.

        Due: nobody runs it and its due time (start, a parked execution's wake time) has
        come, or its lease expired, or its lease is held by an owner in ``replace`` (known
        dead). Leases ``owner`` itself holds are never taken again. The SQLite store does
        it in one transaction; the default takes each lease with :meth:`acquire_lease`.
        """
        taken: list[tuple[str, int]] = []
        for arn, holder in self.claimable(now, limit=limit + 1000):
            if len(taken) >= limit:
                break
            if holder == owner or (holder is not None and holder not in replace):
                continue
            generation = self.acquire_lease(
                arn, owner, now, seconds, replace=holder if holder is not None else None
            )
            if generation is not None:
                taken.append((arn, generation))
        return taken

    def renew_leases(
        self, owner: str, held: Mapping[str, int], now: float, seconds: float
    ) -> tuple[set[str], StopRequests]:
        """Extend every lease ``owner`` holds (``held``: ARN → generation) to
        ``now + seconds``; return the ARNs whose lease was taken over meanwhile (their
        runner must stop, writing nothing) and the pending stop requests of the others.

        The SQLite store does it in one transaction (one UPDATE by owner); the default
        renews each lease with :meth:`renew_lease`.
        """
        lost: set[str] = set()
        stops: StopRequests = {}
        for arn, generation in held.items():
            if not self.renew_lease(arn, owner, generation, now, seconds):
                lost.add(arn)
                continue
            request = self.stop_request(arn)
            if request is not None:
                stops[arn] = request
        return lost, stops

    def lease_holders(self, now: float) -> list[str]:
        """The owners holding at least one live lease (to find those that died)."""
        return sorted({h for _, h in self.claimable(now, limit=1_000_000) if h is not None})

    def park_lease(self, execution_arn: str, owner: str, generation: int, wake_at: float) -> bool:
        """Give up ``owner``'s lease (at ``generation``) on a RUNNING execution that has
        nothing to do before ``wake_at`` (every branch sleeps in a Wait or a retry delay):
        it becomes claimable again at ``wake_at``, by any process. Returns False when the
        lease was not held (taken over), or when the store cannot park (the default): the
        runner then keeps the execution in memory."""
        return False

    def parked_until(self, execution_arn: str, now: float) -> float | None:
        """When a parked execution (nobody runs it) is due, if that is after ``now``;
        None otherwise (running, due, or the store cannot park: the default).

        ``release_lease(execution_arn, NOBODY)`` makes a parked execution due at once."""
        return None

    def change_marker(self) -> object | None:
        """A value that changes whenever another connection or process commits to the
        store (SQLite's ``PRAGMA data_version``): while it stays the same, nothing became
        due but by time, and serve's idle poll reads nothing. None (the default): unknown,
        serve queries on every poll."""
        return None

    def next_wake(self, now: float) -> float | None:
        """The earliest time after ``now`` at which :meth:`claim_leases` may find an
        execution (a parked execution's wake time, a lease running out), or None when
        the store cannot tell (the default) or nothing is pending: poll then."""
        return None

    def record_many(self, items: Sequence[tuple[str, HistoryEvent, int | None]]) -> set[str]:
        """Commit history events of several executions (execution ARN, event, fence, as
        for :meth:`record`), in order; return the ARNs whose writes were refused because
        their lease was taken over (their later events in ``items`` are skipped too).

        The SQLite store commits them in one transaction (group commit): all or nothing,
        apart from the refused ones. The default records one by one.
        """
        refused: set[str] = set()
        for arn, event, fence in items:
            if arn in refused:
                continue
            try:
                self.record(arn, event, fence=fence)
            except LeaseLost:
                refused.add(arn)
        return refused
