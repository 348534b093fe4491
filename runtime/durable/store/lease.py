"""Leases: which process runs a RUNNING execution of the store, and for how long.

A process running an execution (``asl exec``, ``asl resume``, ``asl serve``) holds its
lease and renews it from a background task every third of its length; if the process
dies, the lease expires and ``asl serve`` may take the execution over. Taking a lease is
atomic across processes (one ``BEGIN IMMEDIATE`` transaction), so two runners never take
the same execution at once. Lease time is real time, whatever clock the execution uses.

A process can also stop without dying (SIGSTOP, a debugger, a laptop lid, a long GC pause)
and wake up after another one took its executions over. Two things keep it from running
them on:

* **Fencing.** Each take of a lease increments the execution's lease *generation*; the
  holder passes its generation with every event it writes (``Store.record(fence=...)``)
  and the store refuses the write, in the write's own transaction, once the generation
  moved on. The stale runner gets :class:`LeaseLost` and writes nothing more.
* **Renewal.** A renewal that finds the lease taken over (or that cannot reach the store
  until the lease has run out) marks the lease lost and calls ``on_lost``: the store's
  recorder cancels the execution at once, without writing, so a Task waiting on a
  handler is not left to finish.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from runtime.durable.store.errors import LeaseLost, StoreError
from runtime.engine.clock import Clock, RealClock

if TYPE_CHECKING:
    from runtime.durable.store.sqlite import Store

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "HeldLease",
    "Lease",
    "LeaseKeeper",
    "LeaseLost",
    "dead_here",
    "new_owner",
]

#: How long a lease lasts without renewal (``ASL_LEASE_SECONDS`` overrides it). A stop
#: request is noticed when the lease is renewed, every third of it.
DEFAULT_LEASE_SECONDS = float(os.environ.get("ASL_LEASE_SECONDS", "") or 30.0)


def new_owner() -> str:
    """A name for this process's leases: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def dead_here(owner: str) -> bool:
    """True when ``owner`` names a process of this host that is not running."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _zombie(int(pid))


def _zombie(pid: int) -> bool:
    """True when ``pid`` has exited but was not reaped yet (Linux's ``/proc``; elsewhere
    False). A killed process stays a zombie until its parent waits for it, and a parent
    that never does (a container's init, a shell gone) would otherwise keep it "alive"."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rpartition(")")[2].split()[:1]
    return state in (["Z"], ["X"])


class Lease:
    """This process's lease on one execution, renewed in the background while held.

    ``clock`` is the real clock unless a test drives one (leases are real time).
    """

    def __init__(
        self,
        store: Store,
        owner: str | None = None,
        seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Clock | None = None,
        *,
        background: bool = True,
    ) -> None:
        self.store = store
        #: False when someone else renews this lease (``asl serve`` renewing all its
        #: leases in one statement, :meth:`renewed`); no renewal task is started then.
        self.background = background
        self.owner = owner or new_owner()
        self.seconds = seconds
        self.arn: str | None = None
        #: The fencing token of the lease while held (see ``Store.acquire_lease``).
        self.generation: int | None = None
        #: Why the lease was lost (taken over, not renewed in time); None while it holds.
        self.lost: str | None = None
        self._clock: Clock = clock or RealClock()
        self._expires = 0.0
        self._renewer: asyncio.Task[None] | None = None
        #: Called with (error, cause) when ``asl stop`` asks to abort the execution.
        self.on_stop: Callable[[str | None, str | None], None] | None = None
        #: Called once when the lease is lost: the runner must stop, writing nothing.
        self.on_lost: Callable[[str], None] | None = None

    def hold(self, arn: str) -> None:
        """Take the lease of ``arn`` and keep renewing it. Raises :class:`LeaseLost`.

        A live lease held by a process of this host that no longer exists is taken over
        at once (its runner was killed); other live leases are respected until they expire.
        """
        if self.arn == arn and (self._renewer is not None or not self.background):
            return  # held and renewed already
        now = self._clock.now()
        holder = self.store.lease_owner(arn, now)
        dead = holder if holder is not None and dead_here(holder) else None
        generation = self.store.acquire_lease(arn, self.owner, now, self.seconds, replace=dead)
        if generation is None:
            raise LeaseLost(
                f"the execution {arn} is being run by {holder} (its lease expires within "
                f"{self.seconds:g} s of that process stopping)"
            )
        self.adopt(arn, generation, now)

    def adopt(self, arn: str, generation: int, now: float) -> None:
        """Hold the lease of ``arn`` taken at ``generation`` (by a batch claim such as
        ``Store.claim_leases``) and keep it renewed as :meth:`hold` does."""
        self.arn, self.generation, self.lost = arn, generation, None
        self._expires = now + self.seconds
        if not self.background:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._renewer = loop.create_task(self._renew())

    async def _renew(self) -> None:
        while True:
            await self._clock.sleep_until(self._clock.now() + self.seconds / 3)
            if not self.renew():
                return

    def renew(self) -> bool:
        """Renew the lease now (the background task does it every third of its length);
        pass on a pending stop request. Returns False once the lease is lost."""
        arn, generation = self.arn, self.generation
        if self.lost is not None or arn is None or generation is None:
            return False
        now = self._clock.now()
        try:
            renewed = self.store.renew_lease(arn, self.owner, generation, now, self.seconds)
        except StoreError as exc:
            if now < self._expires:
                return True  # try again at the next renewal, while the lease still runs
            self.lose(f"the lease of {arn} ran out while the store could not be written: {exc}")
            return False
        if not renewed:
            self.lose(f"the execution {arn} was taken over by another process")
            return False
        self._expires = now + self.seconds
        request = self.store.stop_request(arn)
        if request is not None and self.on_stop is not None:
            self.on_stop(*request)
        return True

    def renewed(self, now: float, stop: tuple[str | None, str | None] | None = None) -> None:
        """Note a renewal made for this lease by its owner's batch (``renew_leases``), and
        pass on the stop request read with it."""
        self._expires = now + self.seconds
        if stop is not None and self.on_stop is not None:
            self.on_stop(*stop)

    def unrenewed(self, now: float, problem: str) -> None:
        """A batch renewal could not reach the store: the lease is lost once it ran out."""
        if now >= self._expires and self.arn is not None:
            self.lose(
                f"the lease of {self.arn} ran out while the store could not be written: {problem}"
            )

    def lose(self, reason: str) -> None:
        """Note that the lease is lost and tell the runner (``on_lost``), once."""
        if self.lost is not None:
            return
        self.lost = reason
        if self.on_lost is not None:
            self.on_lost(reason)

    def release(self) -> None:
        """Stop renewing and give the lease up (unless it was taken over)."""
        if self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None
        if self.arn is not None:
            if self.lost is None:
                self.store.release_lease(self.arn, self.owner)
            self.arn = None

    def ended(self) -> None:
        """The execution's closing event is committed, and its lease row went with it
        (the store deletes the lease of an execution that is no longer RUNNING): stop
        renewing, with no write to give up a lease that no longer exists."""
        if self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None
        self.arn = None


class HeldLease(Lease):
    """A lease taken in a batch (``Store.claim_leases``) and renewed by a
    :class:`LeaseKeeper` with all the others of its owner, one transaction for all."""

    def __init__(self, keeper: LeaseKeeper, arn: str, generation: int) -> None:
        super().__init__(keeper.store, keeper.owner, keeper.seconds, keeper.clock)
        self.arn, self.generation = arn, generation
        self._expires = self._clock.now() + self.seconds
        self._keeper = keeper

    def hold(self, arn: str) -> None:
        """Already held (taken in the batch); a different ARN is a runner's mistake."""
        if arn != self.arn or self.lost is not None:
            raise LeaseLost(f"the lease of {arn} is not held by this runner")
        # A stop requested while it was parked or queued: abort once it runs.
        request = self.store.stop_request(arn)
        if request is not None and self.on_stop is not None:
            asyncio.get_running_loop().call_soon(self.on_stop, *request)

    def renew(self) -> bool:
        """Renewed by the keeper with the others; True while held."""
        return self.lost is None and self.arn is not None

    def release(self) -> None:
        """Give the lease up (unless it was lost or parked) and leave the keeper."""
        if self.arn is not None:
            self._keeper.forget(self.arn)
        super().release()

    def ended(self) -> None:
        """See :meth:`Lease.ended`; it also leaves the keeper."""
        if self.arn is not None:
            self._keeper.forget(self.arn)
        super().ended()


class LeaseKeeper:
    """Every lease one runner (``asl serve``) holds, renewed together every third of
    their length with ``Store.renew_leases``: one transaction per renewal, whatever
    their number. Run :meth:`keep` as a task while serving."""

    def __init__(
        self, store: Store, owner: str, seconds: float, clock: Clock | None = None
    ) -> None:
        self.store = store
        self.owner = owner
        self.seconds = seconds
        self.clock: Clock = clock or RealClock()
        self._held: dict[str, HeldLease] = {}

    def __len__(self) -> int:
        return len(self._held)

    def __iter__(self) -> Iterator[str]:
        return iter(self._held)

    def take(self, arn: str, generation: int) -> HeldLease:
        """Keep (and renew) a lease just taken by ``Store.claim_leases``."""
        lease = HeldLease(self, arn, generation)
        self._held[arn] = lease
        return lease

    def forget(self, arn: str) -> None:
        """Stop renewing ``arn`` (released, lost or parked)."""
        self._held.pop(arn, None)

    async def keep(self) -> None:
        """Renew every third of the lease length, until cancelled."""
        while True:
            await self.clock.sleep_until(self.clock.now() + self.seconds / 3)
            self.renew()

    def renew(self) -> None:
        """Renew all held leases now; tell the runners of lost ones and pass stop requests."""
        held = {arn: lease.generation for arn, lease in self._held.items()}
        live = {arn: g for arn, g in held.items() if g is not None}
        if not live:
            return
        now = self.clock.now()
        try:
            lost, stops = self.store.renew_leases(self.owner, live, now, self.seconds)
        except StoreError as exc:
            for stale in list(self._held.values()):
                if now >= stale._expires:
                    stale.lose(
                        f"the lease of {stale.arn} ran out while the store could not be "
                        f"written: {exc}"
                    )
            return
        for arn in live:
            lease = self._held.get(arn)
            if lease is None:
                continue
            if arn in lost:
                self.forget(arn)
                lease.lose(f"the execution {arn} was taken over by another process")
                continue
            lease._expires = now + self.seconds
            request = stops.get(arn)
            if request is not None and lease.on_stop is not None:
                lease.on_stop(*request)
