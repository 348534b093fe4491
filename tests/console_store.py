"""Stores for the console's tests: many executions, real failed runs, hostile text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runtime import TaskFailure, VirtualClock, run_sync
from runtime.durable.store import ExecutionInfo, Store, StoreRecorder

PREFIX = "arn:aws:states:us-east-1:123456789012"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:"
#: Start times of the bulk rows: 2026-01-01T00:00:00Z onwards.
EPOCH = 1_767_225_600.0

ORDERS: dict[str, Any] = {
    "StartAt": "Validate",
    "States": {
        "Validate": {"Type": "Pass", "Next": "Charge card"},
        "Charge card": {"Type": "Task", "Resource": LAMBDA + "charge", "Next": "Ship"},
        "Ship": {"Type": "Pass", "End": True},
    },
}

BULK_STATUSES = ("SUCCEEDED", "SUCCEEDED", "FAILED", "RUNNING", "ABORTED", "TIMED_OUT")


def info(machine: str, name: str, definition: dict[str, Any]) -> ExecutionInfo:
    """The identity of execution ``name`` of ``machine``."""
    return ExecutionInfo(
        f"{PREFIX}:execution:{machine}:{name}",
        name,
        f"{PREFIX}:stateMachine:{machine}",
        machine,
        definition,
    )


def record_run(
    store: Store,
    machine: str,
    name: str,
    definition: dict[str, Any],
    payload: Any,
    functions: dict[str, Any],
    start: float,
) -> Any:
    """Run ``definition`` on a virtual clock starting at ``start``, recorded in ``store``."""
    return run_sync(
        definition,
        payload,
        name=name,
        state_machine_name=machine,
        functions=functions,
        clock=VirtualClock(start),
        observers=[StoreRecorder(store, info(machine, name, definition))],
    )


def _decline(payload: Any) -> Any:
    raise TaskFailure("Card.Declined", f"card {payload.get('card')} was declined by the bank")


def fill(path: Path, count: int) -> list[str]:
    """A store with ``count`` bulk executions of three machines (statuses in turn, some
    sharing a start time) and, newest of all, three real runs of ``Orders`` whose card is
    declined. Returns the ARNs of the real runs, newest first."""
    with Store.open(path) as store:
        machines = ("Orders", "Nightly", "Reports")
        for i in range(count):
            machine = machines[i % 3]
            row = info(machine, f"bulk-{i:06d}", ORDERS)
            start = EPOCH + (i // 2)  # two executions per second: ties for the cursor
            store.begin_execution(row, {"i": i}, start)
            status = BULK_STATUSES[i % len(BULK_STATUSES)]
            if status != "RUNNING":
                failed = status != "SUCCEEDED"
                store.finish_execution(
                    row.arn,
                    status,
                    start + 3,
                    output=None if failed else {"i": i},
                    error=f"Bulk.{status}" if failed else None,
                    cause="bulk row" if failed else None,
                )
        arns = []
        for k in range(3):
            start = EPOCH + count + 10 * k
            run = record_run(
                store,
                "Orders",
                f"order-{k}",
                ORDERS,
                {"card": f"4000-{k}"},
                {"charge": _decline},
                start,
            )
            arns.append(run.arn)
    return arns[::-1]


#: Hostile text: markup that would run if it reached the page unescaped.
IMG = "<img src=x onerror=alert(1)>"
SCRIPT_END = "</script><script>alert(2)</script>"

HOSTILE: dict[str, Any] = {
    "StartAt": IMG,
    "States": {
        IMG: {"Type": "Pass", "Next": SCRIPT_END},
        SCRIPT_END: {"Type": "Task", "Resource": LAMBDA + "evil", "End": True},
    },
}


def _evil(payload: Any) -> Any:
    raise TaskFailure(IMG, f"{SCRIPT_END} and {IMG} and <svg onload=alert(3)>")


def hostile(path: Path) -> str:
    """A store with one failed execution whose names, input and cause are markup."""
    with Store.open(path) as store:
        run = record_run(
            store,
            "Evil",
            "evil-run",
            HOSTILE,
            {"html": SCRIPT_END, IMG: "<b>x</b>"},
            {"evil": _evil},
            EPOCH,
        )
        # Execution and machine names AWS (and run()) refuse can still be in a store written
        # by an older version or by hand: one such row, for the lists.
        stored = info('Evil"><img src=x onerror=alert(4)>', IMG, HOSTILE)
        store.begin_execution(stored, {"html": SCRIPT_END}, EPOCH + 1)
    return str(run.arn)
