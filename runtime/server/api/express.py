"""StartSyncExecution: run an EXPRESS state machine to its end and answer with the result.

AWS (DG "Standard vs. Express workflows"): an Express execution lasts at most five
minutes and keeps no execution history; StartSyncExecution answers once it ends, with
``status`` SUCCEEDED, FAILED or TIMED_OUT. Here the execution runs in the server's event
loop, outside the store (there is no history to keep, and nothing to resume: a
synchronous caller waits for it), with the routing of an API execution (a ``#TestCase``
picks MockConfigFile mocks). The five minutes are the definition's ``TimeoutSeconds``
capped at 300, so the engine times it out as it does any execution.

botocore sends StartSyncExecution to the ``sync-`` host prefix of the endpoint; against a
local endpoint, create the client with ``Config(inject_host_prefix=False)`` (or set
``AWS_DISABLE_HOST_PREFIX_INJECTION=true``).
"""

from __future__ import annotations

import functools
import json
import math
import uuid
from typing import Any

from asl.model import StateMachine
from runtime.engine.clock import Clock, RealClock, VirtualClock
from runtime.engine.events import dumps
from runtime.server.api.backend import Backend
from runtime.server.api.errors import StateMachineTypeNotSupported
from runtime.server.api.executions import check_test_case, launch_options, read_input
from runtime.server.api.protocol import one_of, optional, required, valid_name

__all__ = ["EXPRESS_SECONDS", "OPERATIONS"]

#: The longest an Express execution runs.
EXPRESS_SECONDS = 300


@functools.lru_cache(maxsize=64)
def _express(definition: str) -> StateMachine:
    """The definition with its ``TimeoutSeconds`` capped at Express's five minutes."""
    from runtime.api import load_machine

    document = json.loads(definition)
    limit = document.get("TimeoutSeconds")
    if not isinstance(limit, int) or limit > EXPRESS_SECONDS:
        document["TimeoutSeconds"] = EXPRESS_SECONDS
    return load_machine(document)


async def start_sync_execution(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """StartSyncExecution (EXPRESS state machines only)."""
    from runtime.api import run
    from runtime.durable.launch import mocks_from, services_from

    target, _, test_case = required(body, "stateMachineArn").partition("#")
    machine = b.machine(target)
    if machine.type != "EXPRESS":
        raise StateMachineTypeNotSupported(
            "This operation is not supported by this type of state machine"
        )
    name = valid_name(optional(body, "name") or str(uuid.uuid4()))
    text, payload = read_input(body)
    metadata_only = one_of(body, "includedData", ("ALL_DATA", "METADATA_ONLY")) == "METADATA_ONLY"
    options = launch_options(b, test_case or None)
    if test_case:
        check_test_case(b, options, machine.name)
    clock: Clock = VirtualClock(start=RealClock().now()) if b.clock == "virtual" else RealClock()
    result = await run(
        _express(machine.definition),
        payload,
        clock=clock,
        services=services_from(options, callbacks=b.callbacks, activities=b.activities),
        mocks=mocks_from(options, machine.name),
        name=name,
        state_machine_name=machine.name,
        account=b.account,
        region=b.region,
    )
    out: dict[str, Any] = {
        "executionArn": (
            f"arn:aws:states:{b.region}:{b.account}:express:{machine.name}:{name}:{uuid.uuid4()}"
        ),
        "stateMachineArn": machine.arn,
        "name": name,
        "startDate": result.start_time,
        "stopDate": result.stop_time,
        "status": result.status,
        "billingDetails": _billing(result.stop_time - result.start_time),
    }
    if not metadata_only:
        out["input"] = text
        out["inputDetails"] = {"included": True}
        if result.status == "SUCCEEDED":
            out["output"] = dumps(result.output)
            out["outputDetails"] = {"included": True}
    if result.error is not None:
        out["error"] = result.error
    if result.cause is not None:
        out["cause"] = result.cause
    return out


def _billing(seconds: float) -> dict[str, int]:
    """What AWS bills an Express execution: its duration rounded up to 100 ms (at least
    100 ms); memory is reported at its 64 MB minimum, as nothing here measures it."""
    milliseconds = max(100, math.ceil(seconds * 10) * 100)
    return {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": milliseconds}


OPERATIONS = {"StartSyncExecution": start_sync_execution}
