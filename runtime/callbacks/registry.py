"""Task tokens waiting for SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat.

A ``.waitForTaskToken`` task or an activity task parks on its token (``$$.Task.Token``)
until someone answers it, from the same event loop (another state, a test), another
thread, or the local HTTP endpoint (:mod:`runtime.server.endpoint`). All ``send_*`` methods are
thread-safe: they validate under a lock and hand the answer to the waiting task's event
loop with ``loop.call_soon_threadsafe``.

API errors are AWS's, by name (API reference, SendTaskSuccess "Errors")::

    ASLError                  (asl.errors)
    └── StepFunctionsApiError an AWS Step Functions API call was refused
        ├── InvalidToken          the token was never issued with this secret: forged or
        │                         mangled ("The provided token is not valid.")
        ├── TaskTimedOut          the token's task is closed: timed out, answered, or
        │                         ended ("expired or ... already been closed")
        ├── TaskDoesNotExist      the token is genuine but its execution is gone (its event
        │                         loop closed, or it is not running in this process)
        ├── InvalidOutput         SendTaskSuccess output is not JSON
        ├── ValidationException   a field breaks its length constraint
        ├── ActivityDoesNotExist  DescribeActivity of an unknown activity
        ├── InvalidArn            an activity ARN that does not parse
        └── InvalidName           CreateActivity with a name AWS would refuse

Virtual time (see :mod:`runtime.engine.clock`). A callback wait waits on the outside world, so:

* with a :class:`~runtime.engine.clock.RealClock` it simply waits;
* with a :class:`~runtime.engine.clock.VirtualClock` and ``external=False`` (the default, for
  tokens answered in-process) the wait counts as *idle*: virtual time may jump to the next
  deadline (HeartbeatSeconds, TimeoutSeconds, a Wait in a sibling branch) only when every
  participant is waiting, i.e. when nothing else in the execution can happen first. A
  sibling branch that answers the token therefore always gets to run before a timeout;
* with ``external=True`` (set by :class:`runtime.server.endpoint.LocalEndpoint` when it starts,
  since tokens then come from other processes) the wait marks the clock *busy*: virtual
  time stands still until the token is answered, as it does over a real AWS call.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import anyio

from asl.errors import ASLError
from runtime.callbacks.tokens import TokenSigner, process_signer
from runtime.engine.clock import Clock
from runtime.engine.errors import TaskFailure
from runtime.engine.events import loads

__all__ = [
    "ActivityDoesNotExist",
    "CallbackRegistry",
    "InvalidArn",
    "InvalidName",
    "InvalidOutput",
    "InvalidToken",
    "Pending",
    "StepFunctionsApiError",
    "TaskDoesNotExist",
    "TaskTimedOut",
    "ValidationException",
    "name_problem",
    "run_in_loop",
    "valid_name",
]

#: API length limits (API reference, SendTaskSuccess/SendTaskFailure request parameters;
#: botocore's ``TaskToken`` shape: 1 to 2048 characters).
MAX_TOKEN = 2048
MAX_OUTPUT_BYTES = 262_144
MAX_ERROR = 256
MAX_CAUSE = 32_768

#: AWS's message for a token it never issued, as a recorded execution shows it
#: (conformance case aws_sdk_task_service.sfn_send_task_outcome_with_no_such_token:
#: "Invalid Token: 'Invalid token' (Service: Sfn, Status Code: 400, ...)").
_INVALID_TOKEN = "Invalid Token: 'Invalid token'"

#: An idle wait sleeps this far ahead; farther than any deadline of an execution (the
#: 1-year execution limit), so the clock only jumps to real deadlines.
_FAR_SECONDS = 400 * 86_400.0


class StepFunctionsApiError(ASLError):
    """Raised when a Step Functions API call is refused; ``code`` is AWS's error code."""

    code = "StepFunctionsApiError"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(f"{self.code}: {message}")


class InvalidToken(StepFunctionsApiError):
    """Raised for a task token this runtime never issued."""

    code = "InvalidToken"


class TaskTimedOut(StepFunctionsApiError):
    """Raised for the token of a task that is already closed (timed out or answered)."""

    code = "TaskTimedOut"


class TaskDoesNotExist(StepFunctionsApiError):
    """Raised for the token of a task whose execution is no longer running."""

    code = "TaskDoesNotExist"


class InvalidOutput(StepFunctionsApiError):
    """Raised when SendTaskSuccess output is not JSON text."""

    code = "InvalidOutput"


class ValidationException(StepFunctionsApiError):
    """Raised when a request field breaks its length constraint."""

    code = "ValidationException"


class ActivityDoesNotExist(StepFunctionsApiError):
    """Raised when an activity ARN names no known activity."""

    code = "ActivityDoesNotExist"


class InvalidArn(StepFunctionsApiError):
    """Raised when an activity ARN does not parse."""

    code = "InvalidArn"


class InvalidName(StepFunctionsApiError):
    """Raised when an activity name has characters AWS refuses."""

    code = "InvalidName"


#: What a state machine, execution or activity name must not contain (botocore's
#: ``Name`` shape documentation, StartExecution/CreateStateMachine/CreateActivity
#: "name"): white space, brackets ``< > { } [ ]``, wildcards ``? *``, the characters
#: ``" # % \ ^ | ~ ` $ & , ; : /``, control characters U+0000-001F and U+007F-009F,
#: U+FFFE-FFFF and surrogates U+D800-DFFF. Length: 1 to 80 characters.
_BAD_NAME = re.compile(r'[\s<>{}\[\]?*"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]')
MAX_NAME = 80


def name_problem(name: str) -> str | None:
    """Why AWS would refuse ``name`` as a state machine, execution or activity name."""
    if not name:
        return "a name needs 1 to 80 characters"
    if len(name) > MAX_NAME:
        return f"{len(name)} characters, AWS allows at most {MAX_NAME}"
    bad = _BAD_NAME.search(name)
    if bad is not None:
        return f"{bad.group()!r} is not allowed in a name"
    return None


def valid_name(name: str) -> str:
    """``name`` if AWS accepts it as a state machine, execution or activity name, else
    InvalidName with AWS's message (``Invalid Name: '<name>'``)."""
    if name_problem(name) is not None:
        raise InvalidName(f"Invalid Name: '{name}'")
    return name


def _too_long(field_name: str, limit: int) -> ValidationException:
    # AWS's wording for length constraints; sensitive fields show no value.
    return ValidationException(
        f"1 validation error detected: Value at '{field_name}' failed to satisfy "
        f"constraint: Member must have length less than or equal to {limit}"
    )


def _noop() -> None:
    return None


@dataclass(slots=True)
class _Entry:
    """One open token: the waiting task's loop, its answer future and heartbeat."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[tuple[str, Any, Any]]
    heartbeat: Callable[[], None]
    answered: bool = False
    #: Entered ``clock.busy()`` contexts, left when the token closes.
    holds: list[AbstractContextManager[None]] = field(default_factory=list)
    #: Run in the loop at the moment the answer is set (see :func:`_idle_wait`).
    on_settle: Callable[[], None] | None = None


class Pending:
    """An open token; use as a context manager around submit-then-:meth:`wait`."""

    __slots__ = ("_entry", "_registry", "token")

    def __init__(self, registry: CallbackRegistry, token: str, entry: _Entry) -> None:
        self._registry = registry
        self._entry = entry
        self.token = token

    def __enter__(self) -> Pending:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the token: later answers get TaskTimedOut. Idempotent."""
        self._release_holds()
        self._registry._close(self.token, self._entry)

    @property
    def is_open(self) -> bool:
        """True until the token closes."""
        return self._registry._open.get(self.token) is self._entry

    def hold(self, clock: Clock | None) -> None:
        """Mark ``clock`` busy until the token closes (a worker has the task).

        Call in the event loop of the wait.
        """
        if clock is not None and clock.virtual and self.is_open and not self._entry.holds:
            busy = clock.busy()
            busy.__enter__()
            self._entry.holds.append(busy)

    def _release_holds(self) -> None:
        while self._entry.holds:
            self._entry.holds.pop().__exit__(None, None, None)

    async def wait(self, clock: Clock | None = None) -> Any:
        """The output sent with SendTaskSuccess; raises TaskFailure for SendTaskFailure.

        Cancellation (task timeout, heartbeat timeout, execution stopped) closes nothing
        by itself: close the Pending (the context manager does).
        """
        future = self._entry.future
        if not future.done():
            if clock is None or not clock.virtual:
                await future
            elif self._registry.external:
                with clock.busy():
                    await future
            else:
                await _idle_wait(self._entry, clock)
        kind, first, second = future.result()
        if kind == "failure":
            raise TaskFailure(first, second)
        return first


async def _idle_wait(entry: _Entry, clock: Clock) -> None:
    """Wait for the answer while counting as asleep on ``clock`` (see module docstring).

    The answer marks the clock busy at the very moment it is set: the wake-up of this
    task is only scheduled then, and virtual time must not jump in between.
    """
    future = entry.future
    woken: list[AbstractContextManager[None]] = []

    def settle() -> None:
        busy = clock.busy()
        busy.__enter__()
        woken.append(busy)

    entry.on_settle = settle
    try:
        with anyio.CancelScope() as scope:
            future.add_done_callback(lambda _f: scope.cancel())
            await clock.sleep_until(clock.now() + _FAR_SECONDS)
        if not future.done():
            # No deadline was nearer: nothing in-process can answer; hold time still.
            with clock.busy():
                await future
    finally:
        entry.on_settle = None
        for busy in woken:
            busy.__exit__(None, None, None)


class CallbackRegistry:
    """Open task tokens of every execution of this process, and their answers.

    ``external``: tokens are answered from outside the event loop (see the module
    docstring). ``remember``: how many closed tokens to remember for TaskTimedOut.
    ``signer``: the secret the executions answering here sign their tokens with (a
    store's, :meth:`runtime.durable.store.Store.token_signer`; default: this process's);
    it tells a forged token (InvalidToken) from one whose execution is gone.
    """

    def __init__(
        self,
        *,
        external: bool = False,
        remember: int = 100_000,
        signer: TokenSigner | None = None,
    ) -> None:
        self.external = external
        self.signer = signer if signer is not None else process_signer()
        self._remember = remember
        self._lock = threading.Lock()
        self._open: dict[str, _Entry] = {}
        self._closed: OrderedDict[str, None] = OrderedDict()
        #: Where an answer goes when its token was issued with :attr:`signer` but does not
        #: wait here: ``relay(token, (kind, value, cause))`` (kind success, failure or
        #: heartbeat), e.g. into a store shared with the process that runs the execution
        #: (:class:`runtime.durable.answers.StoreRelay`). It raises this module's API
        #: errors. None: such tokens are TaskDoesNotExist.
        self.relay: Callable[[str, tuple[str, Any, Any]], None] | None = None

    # -- the waiting side (event loop) ----------------------------------------------

    def expect(self, token: str, *, heartbeat: Callable[[], None] = _noop) -> Pending:
        """Open ``token`` before the request carrying it is sent; call in the event loop.

        ``heartbeat`` is called (in the loop) for each SendTaskHeartbeat; pass
        ``lambda: call.heartbeat()`` so that it restarts the task's HeartbeatSeconds clock.
        """
        loop = asyncio.get_running_loop()
        entry = _Entry(loop, loop.create_future(), heartbeat)
        with self._lock:
            self._open[token] = entry
            self._closed.pop(token, None)
        return Pending(self, token, entry)

    async def wait(
        self, token: str, *, clock: Clock | None = None, heartbeat: Callable[[], None] = _noop
    ) -> Any:
        """Open ``token``, wait for its answer, close it. See :meth:`Pending.wait`."""
        with self.expect(token, heartbeat=heartbeat) as pending:
            return await pending.wait(clock)

    def pending(self) -> list[str]:
        """The open tokens not yet answered, oldest first."""
        with self._lock:
            return [token for token, entry in self._open.items() if not entry.answered]

    def is_open(self, token: str) -> bool:
        """True while ``token``'s task waits and no answer was accepted for it."""
        with self._lock:
            entry = self._open.get(token)
            return entry is not None and not entry.answered

    def _close(self, token: str, entry: _Entry) -> None:
        with self._lock:
            if self._open.get(token) is entry:
                del self._open[token]
                self._closed[token] = None
                while len(self._closed) > self._remember:
                    self._closed.popitem(last=False)
        if not entry.future.done():
            entry.future.cancel()

    # -- the answering side (any thread) -------------------------------------------

    def send_task_success(self, token: str, output: str) -> None:
        """Complete the task with ``output`` (JSON text). Thread-safe."""
        self._check_token(token)
        if len(output.encode("utf-8")) > MAX_OUTPUT_BYTES:
            raise _too_long("output", MAX_OUTPUT_BYTES)
        try:
            value = loads(output)
        except (ValueError, TypeError) as exc:
            raise InvalidOutput("Invalid Output: 'The output is not valid JSON.'") from exc
        self._answer(token, ("success", value, None))

    def send_task_failure(
        self, token: str, error: str | None = None, cause: str | None = None
    ) -> None:
        """Fail the task with ``error``/``cause``; Retry and Catch see them. Thread-safe."""
        self._check_token(token)
        if error is not None and len(error) > MAX_ERROR:
            raise _too_long("error", MAX_ERROR)
        if cause is not None and len(cause) > MAX_CAUSE:
            raise _too_long("cause", MAX_CAUSE)
        # AWS allows no error name; the task then fails with an empty one.
        self._answer(token, ("failure", error or "", cause))

    def send_task_heartbeat(self, token: str) -> None:
        """Restart the task's HeartbeatSeconds clock. Thread-safe."""
        self._check_token(token)
        if self._relayed(token, ("heartbeat", None, None)):
            return
        with self._lock:
            entry = self._live(token)
        run_in_loop(entry.loop, entry.heartbeat)

    def deliver(self, token: str, outcome: tuple[str, Any, Any]) -> bool:
        """Settle a relayed answer (see :attr:`relay`) if ``token`` waits here. True when
        it was delivered or can never be (the task closed here); False while the token is
        not open here yet (its execution is being resumed): try again later."""
        with self._lock:
            entry = self._open.get(token)
            if entry is None:
                return token in self._closed
            if entry.answered:
                return True
            if outcome[0] != "heartbeat":
                entry.answered = True
        if outcome[0] == "heartbeat":
            run_in_loop(entry.loop, entry.heartbeat)
        else:
            self._settle(entry, outcome)
        return True

    def _relayed(self, token: str, outcome: tuple[str, Any, Any]) -> bool:
        """Hand the answer to :attr:`relay` when its token is genuine but not known here."""
        relay = self.relay
        if relay is None:
            return False
        with self._lock:
            known = token in self._open or token in self._closed
        if known or not self.signer.issued(token):
            return False
        relay(token, outcome)
        return True

    def _check_token(self, token: str) -> None:
        if not isinstance(token, str) or not token:
            raise InvalidToken(_INVALID_TOKEN)
        if len(token) > MAX_TOKEN:
            raise _too_long("taskToken", MAX_TOKEN)

    def _live(self, token: str) -> _Entry:
        """The open, unanswered entry of ``token``; call under the lock.

        A token that is not open: TaskTimedOut when its task closed here, TaskDoesNotExist
        when it carries this registry's signature (issued, but its execution does not run
        here any more), else InvalidToken (forged, mangled, or from another secret).
        """
        entry = self._open.get(token)
        if entry is not None and not entry.answered:
            return entry
        if entry is not None or token in self._closed:
            raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
        if self.signer.issued(token):
            raise TaskDoesNotExist("Task does not exist anymore")
        raise InvalidToken(_INVALID_TOKEN)

    def _answer(self, token: str, outcome: tuple[str, Any, Any]) -> None:
        if self._relayed(token, outcome):
            return
        with self._lock:
            entry = self._live(token)
            entry.answered = True
        self._settle(entry, outcome)

    def _settle(self, entry: _Entry, outcome: tuple[str, Any, Any]) -> None:
        def settle() -> None:
            if not entry.future.done():
                entry.future.set_result(outcome)
                if entry.on_settle is not None:
                    entry.on_settle()

        run_in_loop(entry.loop, settle)


def run_in_loop(loop: asyncio.AbstractEventLoop, fn: Callable[[], None]) -> None:
    """Run ``fn`` in ``loop``: now if we are in it, else soon; TaskDoesNotExist if gone."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        fn()
        return
    try:
        loop.call_soon_threadsafe(fn)
    except RuntimeError as exc:  # the loop is closed: the execution ended
        raise TaskDoesNotExist("Task does not exist anymore") from exc
