"""``asl serve`` on a store that offers batch claims and renewals (the PostgreSQL store):
the pieces of the serve loop that differ from one process on a SQLite file.

* **Claims.** Each poll takes the leases of as many executions as the server has room
  for (at most :data:`CLAIM_BATCH`) in one transaction (``SELECT ... FOR NO KEY UPDATE
  SKIP LOCKED``): servers polling at once split the RUNNING executions between them
  instead of queueing on the same rows, and an execution whose lease expired (its
  server died) is claimed like a new one.
* **Renewals.** One statement renews every lease the server holds, every third of the
  lease's length, and one query reads the stop requests of them all; a lease found
  taken over is lost (its execution is cancelled without writing, see
  :mod:`runtime.durable.store.lease`).
* **Callbacks.** Each poll settles the task answers other servers received for this
  server's executions (:func:`runtime.durable.answers.deliver_answers`).
"""

from __future__ import annotations

import sys
from typing import Any

from runtime.durable.store.errors import StoreError
from runtime.durable.store.lease import Lease
from runtime.engine.clock import Clock

__all__ = ["CLAIM_BATCH", "batched", "claim", "renew_forever"]

#: Most executions one poll claims. A server resumes what it claims at once, and
#: resuming hundreds keeps its event loop (and so its lease renewals) busy for a while;
#: smaller batches also spread a burst of new executions over the fleet.
CLAIM_BATCH = 50


def batched(store: Any) -> bool:
    """True when ``store`` claims and renews leases in batches."""
    return callable(getattr(store, "claim", None)) and callable(
        getattr(store, "renew_leases", None)
    )


def claim(
    store: Any, owner: str, running: dict[str, Lease], room: int, seconds: float, clock: Clock
) -> list[tuple[str, Lease]]:
    """Claim up to ``room`` executions; their leases, renewed by :func:`renew_forever`."""
    now = clock.now()
    taken = store.claim(owner, now, seconds, min(room, CLAIM_BATCH), skip=list(running))
    leases = []
    for arn, generation in taken.items():
        lease = Lease(store, owner, seconds, background=False)
        lease.adopt(arn, generation, now)
        leases.append((arn, lease))
    return leases


async def renew_forever(
    store: Any, owner: str, running: dict[str, Lease], seconds: float, clock: Clock
) -> None:
    """Renew every lease of ``running`` together, every third of ``seconds``."""
    while True:
        await clock.sleep_until(clock.now() + seconds / 3)
        renew_once(store, owner, running, seconds, clock.now())


def renew_once(
    store: Any, owner: str, running: dict[str, Lease], seconds: float, now: float
) -> None:
    """One batch renewal of the leases of ``running`` (see the module docstring)."""
    held = {
        arn: lease.generation
        for arn, lease in running.items()
        if lease.generation is not None and lease.lost is None and lease.arn == arn
    }
    if not held:
        return
    try:
        renewed = store.renew_leases(owner, held, now, seconds)
        stops = store.stop_requests_for(sorted(renewed))
    except StoreError as exc:
        print(f"asl serve: renewing leases: {exc}", file=sys.stderr)
        for arn in held:
            lease = running.get(arn)
            if lease is not None:
                lease.unrenewed(now, str(exc))
        return
    for arn in held:
        lease = running.get(arn)
        if lease is None or lease.arn != arn:
            continue  # ended meanwhile
        if arn in renewed:
            lease.renewed(now, stops.get(arn))
        else:
            lease.lose(f"the execution {arn} was taken over by another process")
