"""What every operation works on: the store, the serve loop's hooks, callbacks, ARNs.

All operations run in the event loop of the serve loop, so the store's one SQLite
connection is only ever used from that thread.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from asl.errors import ASLError
from asl.model import StateMachine
from runtime.adapters.activity import LONG_POLL_SECONDS, Activities
from runtime.callbacks.registry import CallbackRegistry
from runtime.durable.serve import Nudge
from runtime.durable.store import Store
from runtime.durable.store.machines import StateMachineRecord, StateMachines
from runtime.server.api.errors import (
    ExecutionDoesNotExist,
    InvalidArn,
    StateMachineDoesNotExist,
)

__all__ = ["Backend", "compiled"]


@dataclass(slots=True)
class Backend:
    """The state the operations share; one per server."""

    store: Store
    callbacks: CallbackRegistry
    activities: Activities
    #: The account and region of every ARN this server makes (AWS_ACCOUNT_ID,
    #: AWS_DEFAULT_REGION in Step Functions Local).
    account: str = "123456789012"
    region: str = "us-east-1"
    #: The MockConfigFile that ``<stateMachineArn>#<TestCase>`` picks test cases from.
    mock_config: str | None = None
    #: boto3 endpoints of the tasks (``SERVICE=URL`` or a URL for every service).
    endpoints: tuple[str, ...] = ()
    #: The ``asl.toml`` of local Lambda handlers, if any (absolute path).
    config: str | None = None
    #: The EventBridge connections file of HTTP Tasks (absolute path), or None.
    connections: str | None = None
    #: ``real``, or ``virtual`` for executions whose Waits and retry delays take no time
    #: (Step Functions Local's ``WAIT_TIME_SCALE=0``).
    clock: str = "real"
    #: GetActivityTask's long poll, in real seconds.
    poll_seconds: float = LONG_POLL_SECONDS
    #: Worker processes for Distributed Map children that never wait (RedriveExecution).
    processes: int = 1
    #: Wakes the serve loop when an execution is stored.
    nudge: Nudge = field(default_factory=Nudge)
    #: The leases of the executions the serve loop runs, by ARN.
    running: dict[str, Any] = field(default_factory=dict)
    #: Starts a background task in the server's task group (RedriveExecution); None
    #: when no loop runs executions.
    spawn: Callable[[Callable[[], Coroutine[Any, Any, None]]], Any] | None = None
    #: Called with the ARN of every execution that stops running here (stored ones from
    #: the serve loop, Express ones once they end); None when nobody listens.
    on_end: Callable[[str], None] | None = None

    @property
    def machines(self) -> StateMachines:
        """The stored state machines and tags."""
        return StateMachines(self.store)

    # -- ARNs --------------------------------------------------------------------------

    def machine_arn(self, name: str) -> str:
        """The ARN of the state machine ``name``."""
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"

    def execution_arn(self, machine: str, name: str) -> str:
        """The ARN of execution ``name`` of state machine ``machine``."""
        return f"arn:aws:states:{self.region}:{self.account}:execution:{machine}:{name}"

    def machine(self, arn: str) -> StateMachineRecord:
        """The stored state machine of ``arn``; InvalidArn or StateMachineDoesNotExist."""
        check_arn(arn, "stateMachine")
        record = self.machines.get(arn)
        if record is None:
            raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
        return record

    def execution(self, arn: str) -> Any:
        """The stored execution of ``arn``; InvalidArn or ExecutionDoesNotExist."""
        check_arn(arn, "execution")
        record = self.machines.execution(arn)
        if record is None:
            raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
        return record


def check_arn(arn: str, kind: str) -> list[str]:
    """The parts of ``arn:<partition>:states:<region>:<account>:<kind>:...``.

    InvalidArn as AWS words it: the whole ARN when it does not parse, the resource type
    when it is of another kind.
    """
    parts = arn.split(":")
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "states" or not all(parts[5:]):
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    if parts[5] != kind:
        raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {parts[5]}'")
    return parts


@functools.lru_cache(maxsize=256)
def compiled(definition: str) -> StateMachine | ASLError:
    """A definition compiled once per text, or the error compiling it raised."""
    from runtime.api import load_machine

    try:
        return load_machine(json.loads(definition))
    except ASLError as exc:
        return exc
