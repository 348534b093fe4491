"""Express executions: StartSyncExecution, and StartExecution of an EXPRESS state machine.

AWS (DG "Standard vs. Express workflows"): an Express execution lasts at most five
minutes and keeps no execution history. StartSyncExecution answers once it ends, with
``status`` SUCCEEDED, FAILED or TIMED_OUT; StartExecution of an EXPRESS state machine
(an asynchronous Express execution) answers at once with an ``express`` ARN, and then
nothing can be asked about it: AWS answers DescribeExecution, GetExecutionHistory and
StopExecution of that ARN with ``InvalidArn`` ("Resource type not valid in this
context: express") and ListExecutions of the machine with
``StateMachineTypeNotSupported`` (both as recorded against AWS); StartExecution is not
idempotent for Express (API reference, StartExecution). Here both kinds run in the
server's event loop, outside the store (no history to keep, nothing to resume: a server
stopped meanwhile loses an asynchronous one, as the caller was never promised more),
with the routing of an API execution (a ``#TestCase`` picks MockConfigFile mocks). The
five minutes are the definition's ``TimeoutSeconds`` capped at 300, so the engine times
it out as it does any execution.

botocore sends StartSyncExecution (and TestState) to the ``sync-`` host prefix of the
endpoint, also for ``127.0.0.1`` and ``localhost`` (``sync-127.0.0.1`` resolves nowhere):
set ``AWS_DISABLE_HOST_PREFIX_INJECTION=true`` (or ``disable_host_prefix_injection =
true`` in the profile, or ``Config(inject_host_prefix=False)``) for a local endpoint.
"""

from __future__ import annotations

import functools
import json
import math
import sys
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asl.model import StateMachine
from runtime.engine.clock import Clock, RealClock, VirtualClock
from runtime.engine.events import dumps
from runtime.server.api.backend import Backend
from runtime.server.api.errors import StateMachineTypeNotSupported, ValidationException
from runtime.server.api.executions import (
    check_test_case,
    launch_options,
    read_input,
    start_stored,
)
from runtime.server.api.protocol import one_of, optional, required, valid_name
from runtime.server.api.versions import resolve

if TYPE_CHECKING:
    from runtime.api import ExecutionResult

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


@dataclass(frozen=True, slots=True)
class _ExpressRun:
    """One Express execution, checked and ready to run."""

    backend: Backend
    machine_name: str
    definition: StateMachine
    options: dict[str, Any]
    name: str
    #: ``arn:aws:states:<region>:<account>:express:<machine>:<name>:<uuid>``.
    arn: str

    async def __call__(self, payload: Any) -> ExecutionResult:
        from runtime.api import run
        from runtime.durable.launch import mocks_from, services_from

        b = self.backend
        now = RealClock().now()
        clock: Clock = VirtualClock(start=now) if b.clock == "virtual" else RealClock()
        return await run(
            self.definition,
            payload,
            clock=clock,
            services=services_from(self.options, callbacks=b.callbacks, activities=b.activities),
            mocks=mocks_from(self.options, self.machine_name),
            name=self.name,
            state_machine_name=self.machine_name,
            account=b.account,
            region=b.region,
            context={"Execution": {"Id": self.arn}},
        )


def _prepare(b: Backend, machine: str, definition: str, name: str, test_case: str) -> _ExpressRun:
    """Check the request (a ``#TestCase`` the MockConfigFile lacks is refused before
    anything runs) and return the Express execution to run."""
    options = launch_options(b, test_case or None)
    if test_case:
        check_test_case(b, options, machine)
    arn = f"arn:aws:states:{b.region}:{b.account}:express:{machine}:{name}:{uuid.uuid4()}"
    return _ExpressRun(b, machine, _express(definition), options, name, arn)


async def start_execution(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """StartExecution: an EXPRESS state machine's execution starts here and is answered
    at once; a STANDARD one is stored (:func:`runtime.server.api.executions.start_stored`)."""
    qualified, _, test_case = required(body, "stateMachineArn").partition("#")
    target = resolve(b, qualified)
    name = valid_name(optional(body, "name") or str(uuid.uuid4()))
    _, payload = read_input(body)
    if target.machine.type != "EXPRESS":
        return start_stored(b, target, name, payload, test_case)
    execution = _prepare(b, target.machine.name, target.definition, name, test_case)
    if b.spawn is None:  # pragma: no cover - run_api always sets it
        raise ValidationException("This server runs no executions")
    start = RealClock().now()

    async def background() -> None:
        try:
            await execution(payload)
        except Exception as exc:  # nobody waits for it: say it where the server logs
            print(f"asl serve: {execution.arn}: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            if b.on_end is not None:
                b.on_end(execution.arn)

    b.spawn(background)
    return {"executionArn": execution.arn, "startDate": start}


async def start_sync_execution(b: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """StartSyncExecution (EXPRESS state machines only)."""
    target, _, test_case = required(body, "stateMachineArn").partition("#")
    machine = b.machine(target)
    if machine.type != "EXPRESS":
        raise StateMachineTypeNotSupported(
            "This operation is not supported by this type of state machine"
        )
    name = valid_name(optional(body, "name") or str(uuid.uuid4()))
    text, payload = read_input(body)
    metadata_only = one_of(body, "includedData", ("ALL_DATA", "METADATA_ONLY")) == "METADATA_ONLY"
    execution = _prepare(b, machine.name, machine.definition, name, test_case)
    result = await execution(payload)
    out: dict[str, Any] = {
        "executionArn": execution.arn,
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


OPERATIONS = {"StartExecution": start_execution, "StartSyncExecution": start_sync_execution}
