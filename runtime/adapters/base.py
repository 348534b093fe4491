"""The task adapter interface and the registry that routes a Resource ARN to an adapter.

An adapter is one async method, :meth:`Adapter.invoke`; it returns the task's raw result
(before ResultSelector/ResultPath) or raises :class:`~runtime.engine.errors.TaskFailure` with the
service's error name and cause. Vendor exception types never leave an adapter.

Every route has a *source*, where the answer comes from (:data:`SOURCES`); the trace shows
it per Task. An adapter whose source depends on the call (a local function or the Lambda
service, a local or a remote state machine) says so in ``source_for(call)``, which may also
raise :class:`~runtime.engine.errors.UnservedTask` when nothing serves the call.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from runtime.engine.clock import Clock
from runtime.engine.errors import UnservedTask

if TYPE_CHECKING:
    from asl.model import StateMachine

__all__ = [
    "SOURCES",
    "Adapter",
    "AdapterRegistry",
    "ChildOutcome",
    "ChildRunner",
    "DeferredRoutes",
    "FunctionAdapter",
    "Resource",
    "TaskCall",
    "parse_resource",
]

#: Where a Task's answer may come from, as the trace names it: a MockConfigFile mock, a
#: local Python handler, an AWS service, a state machine run here, an answer to a task
#: token, an activity worker, or an adapter given to the library.
SOURCES = (
    "mock", "local function", "AWS", "local machine", "callback", "activity", "adapter", "HTTP"
)  # fmt: skip

_SERVICE_ARN = re.compile(r"^arn:[^:]+:states:::(?P<service>[^:]+):(?P<action>.+)$")
_AWS_SDK = re.compile(r"^(?P<sdk>[^:]+):(?P<action>.+)$")


@dataclass(frozen=True, slots=True)
class Resource:
    """A Task's Resource, split as AWS splits it in ``TaskScheduled`` events."""

    arn: str
    #: "function" (legacy Lambda ARN), "activity", or the service of an integration.
    kind: str
    #: ``resourceType`` and ``resource`` as AWS writes them in TaskScheduled.
    resource_type: str
    resource: str
    #: "" (request-response), ".sync", ".sync:2" or ".waitForTaskToken".
    pattern: str = ""
    region: str = "us-east-1"

    @property
    def action(self) -> str:
        """The API action without the integration pattern suffix."""
        return (
            self.resource[: len(self.resource) - len(self.pattern)]
            if self.pattern
            else (self.resource)
        )


def parse_resource(arn: str, region: str = "us-east-1") -> Resource:
    """Split a Resource ARN into kind, type and pattern (SPEC.md B.1)."""
    parts = arn.split(":")
    if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
        return Resource(arn, "function", "lambda", arn, "", parts[3] or region)
    if len(parts) >= 7 and parts[2] == "states" and parts[5] == "activity":
        return Resource(arn, "activity", "activity", arn, "", parts[3] or region)
    match = _SERVICE_ARN.match(arn)
    if not match:
        return Resource(arn, "unknown", "unknown", arn, "", region)
    service, action = match["service"], match["action"]
    pattern = ""
    for suffix in (".waitForTaskToken", ".sync:2", ".sync"):
        if action.endswith(suffix):
            pattern = suffix
            break
    if service == "aws-sdk":
        sdk = _AWS_SDK.match(action)
        if sdk:
            return Resource(arn, "aws-sdk", f"aws-sdk:{sdk['sdk']}", sdk["action"], pattern, region)
    return Resource(arn, service, service, action, pattern, region)


@dataclass(slots=True)
class TaskCall:
    """Everything an adapter gets for one attempt of a Task state."""

    resource: Resource
    #: The effective input: Parameters/Arguments applied.
    parameters: Any
    state_name: str
    #: The context object of this attempt (``$$``).
    context: Mapping[str, Any]
    #: Zero-based attempt count of this state execution (retries included).
    attempt: int = 0
    timeout_seconds: float | None = None
    heartbeat_seconds: float | None = None
    credentials: Any = None
    task_token: str | None = None
    #: Called by callback and ``.sync`` adapters once the job was submitted.
    on_submitted: Callable[[Any], None] = field(default=lambda _output: None)
    #: Call to report progress (SendTaskHeartbeat): restarts the HeartbeatSeconds clock.
    heartbeat: Callable[[], None] = field(default=lambda: None)
    #: The execution's clock: adapters wait (e.g. between polls of a job) only through it.
    clock: Clock | None = None
    #: Called by the activity adapter when a worker takes the task (ActivityStarted).
    on_started: Callable[[str], None] = field(default=lambda _worker: None)
    #: Runs a child execution in the engine running this task (nested executions).
    run_child: ChildRunner | None = None


class ChildOutcome(Protocol):
    """How a child execution ended, as a :data:`ChildRunner` reports it."""

    @property
    def status(self) -> str: ...
    @property
    def output(self) -> Any: ...
    @property
    def error(self) -> str | None: ...
    @property
    def cause(self) -> str | None: ...
    @property
    def stop_time(self) -> float: ...


class ChildRunner(Protocol):
    """What the engine offers adapters that start executions of their own: run
    ``machine`` to its end on ``clock``, routing its tasks through ``adapters``."""

    async def __call__(
        self,
        machine: StateMachine,
        input: Any,
        *,
        clock: Clock,
        adapters: AdapterRegistry,
        name: str,
        state_machine_name: str,
    ) -> ChildOutcome: ...


class Adapter(Protocol):
    """Runs Task states for the resources it is registered for."""

    async def invoke(self, call: TaskCall) -> Any:
        """Return the raw task result; raise TaskFailure on a service failure.

        Cancellation: the runtime cancels the call when the task times out, when a
        sibling branch fails or when the execution stops; adapters stop their work
        (best effort) and re-raise.
        """
        ...


def own_copy(value: Any) -> Any:
    """A deep copy of a JSON value that nothing else holds.

    A compiled machine hands out its constants (a Pass ``Result``, the fixed parts of a
    template, a mock's answer) by reference, and states share unchanged data; that is safe
    inside the engine, which never edits a value in place, but whatever leaves it for code
    that may (an execution's output, a Python function's input) is copied first.
    """
    if value is None or type(value) in (str, int, float, bool):
        return value
    try:
        return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError):  # not plain JSON (a Python function's own result)
        return copy.deepcopy(value)


@dataclass(frozen=True, slots=True)
class FunctionAdapter:
    """Wraps a plain (sync or async) Python function ``fn(parameters) -> result``."""

    fn: Callable[[Any], Any] | Callable[[Any], Awaitable[Any]]

    async def invoke(self, call: TaskCall) -> Any:
        # The function gets its own copy, as a Lambda function gets its event as JSON: a
        # handler that edits its event in place must not edit the definition's constants.
        result = self.fn(own_copy(call.parameters))
        if isinstance(result, Awaitable):
            result = await result
        return result


#: One route of a registry: the ARN pattern, its adapter and its source.
_Route = tuple[re.Pattern[str], Adapter, str]


class DeferredRoutes:
    """Routes a registry adds only when an ARN first needs them (see
    :meth:`AdapterRegistry.register_later`): ``load(registry)`` registers them, and runs
    once, on the first ARN that matches ``prefix``, so an adapter module is imported only
    by executions that have a Task for it."""

    def __init__(
        self,
        prefix: str,
        load: Callable[[AdapterRegistry], Any],
        owner: AdapterRegistry,
        label: str,
    ) -> None:
        self.prefix = re.compile(prefix)
        self._load = load
        self._owner = owner
        self._label = label
        self._routes: list[_Route] | None = None
        self._value: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        """Add the routes (the first time only); returns what ``load`` returned."""
        self.routes()
        return self._value

    def routes(self) -> list[_Route]:
        """The routes ``load`` registered, most recent first (as a registry tries them)."""
        routes = self._routes
        if routes is not None:
            return routes
        with self._lock:
            if self._routes is None:
                self._routes, self._value = self._owner._capture(self._load, self._label)
            return self._routes


class AdapterRegistry:
    """Routes a Resource to the first adapter whose pattern matches its ARN.

    Patterns are regular expressions matched against the full ARN, tried in the order
    they were added (most recent first). A per-state override (by state name) wins
    over every pattern. Each route carries its source (:data:`SOURCES`); sources in
    :attr:`refused` are never used (a mocked run refuses AWS unless it is allowed).
    Routes may be registered later, on first need (:meth:`register_later`); they take
    the place in that order where they were promised.
    """

    def __init__(self) -> None:
        self._patterns: list[_Route | DeferredRoutes] = []
        self._states: dict[str, tuple[Adapter, str]] = {}
        self._label = "adapter"
        #: Where :meth:`register` puts routes while deferred ones are being loaded.
        self._captured: list[_Route] | None = None
        #: Sources a Task may not use, with the reason the error gives.
        self.refused: dict[str, str] = {}
        #: Said when nothing serves a state (e.g. which test case had no mock for it).
        self.unserved_note = ""

    def copy(self) -> AdapterRegistry:
        """A registry with the same routes; changes to the copy leave this one alone."""
        other = AdapterRegistry()
        other._patterns = list(self._patterns)
        other._states = dict(self._states)
        other.refused = dict(self.refused)
        other.unserved_note = self.unserved_note
        return other

    @contextlib.contextmanager
    def labelled(self, source: str) -> Iterator[None]:
        """Routes registered inside the block have ``source`` unless they name one."""
        previous, self._label = self._label, source
        try:
            yield
        finally:
            self._label = previous

    def register(self, pattern: str, adapter: Adapter, source: str | None = None) -> None:
        """Use ``adapter`` for resources whose ARN matches ``pattern`` (a regex)."""
        route = (re.compile(pattern), adapter, source or self._label)
        (self._patterns if self._captured is None else self._captured).insert(0, route)

    def register_later(self, prefix: str, load: Callable[[AdapterRegistry], Any]) -> DeferredRoutes:
        """Promise the routes ``load(self)`` registers, loading them when an ARN matching
        ``prefix`` (a regex that every ARN of those routes matches) is first routed.

        Until then nothing of them is imported or built; once loaded they are tried in
        the place this call took, as if ``load`` had run now (with the current label).
        Copies of this registry share them, loaded once.
        """
        deferred = DeferredRoutes(prefix, load, self, self._label)
        self._patterns.insert(0, deferred)
        return deferred

    def _capture(
        self, load: Callable[[AdapterRegistry], Any], label: str
    ) -> tuple[list[_Route], Any]:
        """Run ``load(self)`` with its registrations collected aside (DeferredRoutes)."""
        saved = self._captured, self._label
        self._captured, self._label = [], label
        try:
            value = load(self)
            return self._captured, value
        finally:
            self._captured, self._label = saved

    def register_state(self, state_name: str, adapter: Adapter, source: str = "mock") -> None:
        """Use ``adapter`` for the Task state named ``state_name``."""
        self._states[state_name] = (adapter, source)

    def resolve(self, state_name: str, resource: Resource) -> Adapter:
        """The adapter for this state; raises UnservedTask naming the state if none."""
        return self.route(state_name, resource)[0]

    def route(
        self, state_name: str, resource: Resource, call: TaskCall | None = None
    ) -> tuple[Adapter, str]:
        """The adapter for this state and its source (asked of the adapter for ``call``).

        Raises :class:`UnservedTask` naming the state when nothing serves it, or only a
        refused source does.
        """
        found = self._states.get(state_name)
        if found is None:
            found = self._match(resource.arn)
            if found is None:
                raise UnservedTask(self._unserved(state_name, resource))
        adapter, source = found
        if call is not None:
            source_for = getattr(adapter, "source_for", None)
            if source_for is not None:
                source = source_for(call) or source
        if self.refused and source in self.refused:
            raise UnservedTask(
                f"The state '{state_name}' would call {source} for '{resource.arn}': "
                f"{self.refused[source]}"
            )
        return adapter, source

    def _match(self, arn: str) -> tuple[Adapter, str] | None:
        for route in self._patterns:
            if isinstance(route, DeferredRoutes):
                if route.prefix.search(arn):
                    for pattern, candidate, source in route.routes():
                        if pattern.search(arn):
                            return candidate, source
                continue
            pattern, candidate, source = route
            if pattern.search(arn):
                return candidate, source
        return None

    def _unserved(self, state_name: str, resource: Resource) -> str:
        if self.unserved_note:
            return (
                f"Nothing serves the resource '{resource.arn}' of the state '{state_name}': "
                f"{self.unserved_note}"
            )
        return (
            f"No adapter is configured for the resource '{resource.arn}' of the state "
            f"'{state_name}'. Give it a mock (--mock-config), a local function (--lambda), or "
            "an adapter registered for this ARN. Supported with AWS enabled: Lambda, "
            "SageMaker, SNS, Batch, EMR, SQS sendMessage, DynamoDB items, EventBridge putEvents, "
            "states:startExecution, aws-sdk:*, activities and .waitForTaskToken callbacks."
        )
