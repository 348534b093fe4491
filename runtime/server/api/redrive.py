"""RedriveExecution: run a FAILED, ABORTED or TIMED_OUT execution again from its
unsuccessful states (:func:`runtime.durable.resume.redrive`), in the server's loop.

AWS (API reference, RedriveExecution): only executions that stopped within the last 14
days, and that did not succeed, can be redriven; the history goes on with
``ExecutionRedriven``. The answer comes once the execution is RUNNING again.
"""

from __future__ import annotations

import sys
from typing import Any

from runtime.engine.clock import RealClock
from runtime.server.api.backend import Backend
from runtime.server.api.errors import ExecutionNotRedrivable
from runtime.server.api.protocol import required

__all__ = ["OPERATIONS"]

#: RedriveExecution's window, in seconds (14 days).
REDRIVE_SECONDS = 14 * 86_400


async def redrive_execution(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """RedriveExecution; ExecutionNotRedrivable with AWS's reason otherwise."""
    from runtime.durable.resume import redrive

    record = b.execution(required(body, "executionArn"))
    clock = RealClock()
    if record.status not in ("FAILED", "ABORTED", "TIMED_OUT"):
        raise ExecutionNotRedrivable(f"Execution is {record.status} and cannot be redriven")
    stopped = record.stop_time if record.stop_time is not None else record.start_time
    if clock.now() - stopped > REDRIVE_SECONDS:
        raise ExecutionNotRedrivable("Execution redrivable period exceeded")
    if b.spawn is None:
        raise ExecutionNotRedrivable("This server runs no executions")

    async def run() -> None:
        try:
            await redrive(
                b.store,
                record.arn,
                callbacks=b.callbacks,
                activities=b.activities,
                processes=b.processes,
            )
        except Exception as exc:  # keep serving; say what happened, as the serve loop does
            print(f"asl serve: redrive {record.arn}: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            if b.on_end is not None:
                b.on_end(record.arn)

    b.spawn(run)
    deadline = clock.now() + 10.0
    while clock.now() < deadline:  # the redrive marks it RUNNING as soon as it starts
        current = b.machines.execution(record.arn)
        if current is not None and current.redrive_count > record.redrive_count:
            break
        await clock.sleep_until(clock.now() + 0.005)
    return {"redriveDate": clock.now()}


OPERATIONS = {"RedriveExecution": redrive_execution}
