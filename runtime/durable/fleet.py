"""``asl serve`` on a store that offers batch claims and renewals (the PostgreSQL store):
the pieces of the serve loop that differ from one process on a SQLite file.

* **Claims.** Each poll takes the leases of as many executions as the server has room
  for (``Store.claim_leases``, at most ``runtime.durable.serve.CLAIM_BATCH``) in one
  transaction (``SELECT ... FOR UPDATE SKIP LOCKED`` of the due lease rows): servers
  polling at once split the RUNNING executions between them instead of queueing on the
  same rows, and an execution whose lease expired (its server died) is claimed like a
  new one.
* **Renewals.** One statement renews every lease the server holds, every third of the
  lease's length, from a thread of its own (a busy serve loop cannot delay it), and one
  query reads the stop requests of them all; a lease found taken over is lost (its
  execution is cancelled without writing, see :mod:`runtime.durable.store.lease`).
* **Callbacks.** Each poll settles the task answers other servers received for this
  server's executions (:func:`runtime.durable.answers.deliver_answers`).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

import anyio

from runtime.durable.store.errors import StoreError
from runtime.durable.store.lease import Lease
from runtime.engine.clock import Clock

__all__ = ["renew_forever", "renews_from_a_thread"]


def renews_from_a_thread(store: Any) -> bool:
    """True when ``store``'s leases are renewed from a thread with a connection of its
    own (:func:`renew_forever`), not by the serve loop's ``LeaseKeeper``."""
    return bool(getattr(store, "renews_from_a_thread", False))


async def renew_forever(
    store: Any, owner: str, running: dict[str, Lease], seconds: float, clock: Clock
) -> None:
    """Renew every lease of ``running`` together, every third of ``seconds``, from a
    thread with a connection of its own: a serve loop busy resuming a batch of executions
    (or a slow statement) does not delay the renewals past the leases' end. What a
    renewal finds (renewed, taken over, a stop request) is handed to the loop."""
    loop = asyncio.get_running_loop()
    stopping = threading.Event()

    def renewer() -> None:
        own = None
        try:
            while not stopping.wait(seconds / 3):
                if own is None:
                    try:
                        own = type(store).open(store.url)
                    except StoreError as exc:
                        print(f"asl serve: renewing leases: {exc}", file=sys.stderr)
                        continue
                now = clock.now()
                held = _held(running)
                outcome = renew_leases(own, owner, held, seconds, now)
                loop.call_soon_threadsafe(apply_renewal, running, held, outcome, now)
        except RuntimeError:
            return  # the loop closed: serve has ended
        finally:
            if own is not None:
                own.close()

    thread = threading.Thread(target=renewer, name="asl-serve-leases", daemon=True)
    thread.start()
    try:
        await anyio.sleep_forever()
    finally:
        stopping.set()


#: What one batch renewal found: (renewed ARNs, stop requests by ARN), or the error text.
Renewal = tuple[set[str], dict[str, tuple[Any, Any]]] | str


def _held(running: dict[str, Lease]) -> dict[str, int]:
    return {
        arn: lease.generation
        for arn, lease in list(running.items())
        if lease.generation is not None and lease.lost is None and lease.arn == arn
    }


def renew_leases(
    store: Any, owner: str, held: dict[str, int], seconds: float, now: float
) -> Renewal:
    """Renew ``held`` (ARN: generation) in one statement and read their stop requests;
    (renewed ARNs, stop requests) or the error text."""
    if not held:
        return set(), {}
    try:
        lost, stops = store.renew_leases(owner, held, now, seconds)
        return set(held) - lost, stops
    except StoreError as exc:
        print(f"asl serve: renewing leases: {exc}", file=sys.stderr)
        return str(exc)


def apply_renewal(
    running: dict[str, Lease], held: dict[str, int], outcome: Renewal, now: float
) -> None:
    """Tell each lease of ``held`` what the renewal found (in the serve loop's thread)."""
    for arn, generation in held.items():
        lease = running.get(arn)
        if lease is None or lease.arn != arn or lease.generation != generation:
            continue  # ended (or taken again) meanwhile
        if isinstance(outcome, str):
            lease.unrenewed(now, outcome)
        elif arn in outcome[0]:
            lease.renewed(now, outcome[1].get(arn))
        else:
            lease.lose(f"the execution {arn} was taken over by another process")


def renew_once(
    store: Any, owner: str, running: dict[str, Lease], seconds: float, now: float
) -> None:
    """One batch renewal of the leases of ``running``, in the caller's thread."""
    held = _held(running)
    apply_renewal(running, held, renew_leases(store, owner, held, seconds, now), now)
