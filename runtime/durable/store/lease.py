"""Leases: which process runs a RUNNING execution of the store, and for how long.

A process running an execution (``asl exec``, ``asl resume``, ``asl serve``) holds its
lease and renews it from a background task every third of its length; if the process
dies, the lease expires and ``asl serve`` may take the execution over. Taking a lease is
atomic across processes (one ``BEGIN IMMEDIATE`` transaction), so two runners never run
the same execution at once. Lease time is real time, whatever clock the execution uses.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from runtime.durable.store.errors import StoreError
from runtime.engine.clock import RealClock

if TYPE_CHECKING:
    from runtime.durable.store.sqlite import Store

__all__ = ["DEFAULT_LEASE_SECONDS", "Lease", "LeaseLost", "dead_here", "new_owner"]

#: How long a lease lasts without renewal (``ASL_LEASE_SECONDS`` overrides it). A stop
#: request is noticed when the lease is renewed, every third of it.
DEFAULT_LEASE_SECONDS = float(os.environ.get("ASL_LEASE_SECONDS", "") or 30.0)


class LeaseLost(StoreError):
    """Raised when another process holds the execution's lease."""


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
    return False


class Lease:
    """This process's lease on one execution, renewed in the background while held."""

    def __init__(
        self, store: Store, owner: str | None = None, seconds: float = DEFAULT_LEASE_SECONDS
    ) -> None:
        self.store = store
        self.owner = owner or new_owner()
        self.seconds = seconds
        self.arn: str | None = None
        self._clock = RealClock()
        self._renewer: asyncio.Task[None] | None = None
        #: Called with (error, cause) when ``asl stop`` asks to abort the execution.
        self.on_stop: Callable[[str | None, str | None], None] | None = None

    def hold(self, arn: str) -> None:
        """Take the lease of ``arn`` and keep renewing it. Raises :class:`LeaseLost`.

        A live lease held by a process of this host that no longer exists is taken over
        at once (its runner was killed); other live leases are respected until they expire.
        """
        if self.arn == arn and self._renewer is not None:
            return  # held and renewed already
        now = self._clock.now()
        holder = self.store.lease_owner(arn, now)
        dead = holder if holder is not None and dead_here(holder) else None
        if not self.store.acquire_lease(arn, self.owner, now, self.seconds, replace=dead):
            raise LeaseLost(
                f"the execution {arn} is being run by {holder} (its lease expires within "
                f"{self.seconds:g} s of that process stopping)"
            )
        self.arn = arn
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._renewer = loop.create_task(self._renew(arn))

    async def _renew(self, arn: str) -> None:
        while True:
            await self._clock.sleep_until(self._clock.now() + self.seconds / 3)
            self.store.acquire_lease(arn, self.owner, self._clock.now(), self.seconds)
            request = self.store.stop_request(arn)
            if request is not None and self.on_stop is not None:
                self.on_stop(*request)

    def release(self) -> None:
        """Stop renewing and give the lease up."""
        if self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None
        if self.arn is not None:
            self.store.release_lease(self.arn, self.owner)
            self.arn = None
