"""Activities: ``arn:aws:states:REGION:ACCOUNT:activity:NAME`` tasks worked by pollers.

AWS (DG concepts-activities): a Task state on an activity ARN queues a task; a worker
takes it with GetActivityTask (a long poll of up to 60 seconds that returns a
``taskToken`` and the task's ``input`` as JSON text) and answers with SendTaskSuccess,
SendTaskFailure and SendTaskHeartbeat. History: ActivityScheduled, ActivityStarted
(``workerName``) when a worker takes the task, then ActivitySucceeded, ActivityFailed or
ActivityTimedOut. The HeartbeatSeconds clock starts at ActivityStarted.

Locally an activity is known by its name: the region and account of the ARN are not
compared, so a worker started with ``--activity NAME`` serves every ARN ending in
``:activity:NAME``. GetActivityTask on a name never created just polls (the worker may
start before the first execution). All methods of :class:`Activities` are thread-safe.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asl.errors import ASLError
from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.callbacks.registry import (
    ActivityDoesNotExist,
    CallbackRegistry,
    InvalidArn,
    InvalidName,
    Pending,
    StepFunctionsApiError,
    run_in_loop,
    valid_name,
)
from runtime.engine.clock import RealClock
from runtime.engine.errors import TaskFailure
from runtime.engine.events import dumps

__all__ = [
    "ACTIVITY_PATTERN",
    "Activities",
    "ActivityAdapter",
    "ActivityTask",
    "LocalActivity",
    "activity_arn_pattern",
    "activity_name",
    "register",
]

#: Matches every activity ARN (for AdapterRegistry.register).
ACTIVITY_PATTERN = r"^arn:[^:]+:states:[^:]*:[^:]*:activity:[^:]+$"
_ARN = re.compile(r"^arn:[^:]+:states:[^:]*:[^:]*:activity:(?P<name>[^:]+)$")
#: AWS's longest GetActivityTask long poll (API reference, GetActivityTask).
LONG_POLL_SECONDS = 60.0


def activity_name(arn_or_name: str) -> str:
    """The activity name of an activity ARN, or ``arn_or_name`` if it is a plain name."""
    if not arn_or_name.startswith("arn:"):
        return valid_name(arn_or_name)
    match = _ARN.match(arn_or_name)
    if match is None:
        raise InvalidArn(f"Invalid Arn: '{arn_or_name}'")
    return match["name"]


@dataclass(frozen=True, slots=True)
class ActivityTask:
    """One task handed to a worker, as GetActivityTask returns it."""

    token: str
    #: The task's effective input as JSON text.
    input: str

    def to_aws(self) -> dict[str, str]:
        """The GetActivityTask response body."""
        return {"taskToken": self.token, "input": self.input}


@dataclass(frozen=True, slots=True)
class _Queued:
    """A scheduled task: its token, input, and how to tell its execution it started."""

    token: str
    input: str
    loop: asyncio.AbstractEventLoop
    #: Run in ``loop`` with the worker's name when a worker takes the task.
    started: Callable[[str], None]


class _Waiter:
    """A poller parked on an empty queue; ``wake`` is called once it got a task."""

    __slots__ = ("slot", "wake")

    def __init__(self, wake: Callable[[], None]) -> None:
        self.slot: _Queued | None = None
        self.wake = wake


class Activities:
    """The activity task queues of this process, shared by executions and workers."""

    def __init__(
        self, callbacks: CallbackRegistry, *, account: str = "123456789012", region: str = ""
    ) -> None:
        self.callbacks = callbacks
        self.account = account
        self.region = region or "us-east-1"
        self._lock = threading.Lock()
        self._created: dict[str, float] = {}
        #: Activities deleted (and not created again) while this process ran.
        self._deleted: set[str] = set()
        self._queues: dict[str, deque[_Queued]] = {}
        self._waiters: dict[str, deque[_Waiter]] = {}

    # -- CreateActivity / DescribeActivity / DeleteActivity / ListActivities -----------

    def arn(self, name: str) -> str:
        """The ARN this runtime gives the activity ``name``."""
        return f"arn:aws:states:{self.region}:{self.account}:activity:{name}"

    def create(self, name: str) -> dict[str, Any]:
        """CreateActivity: idempotent; returns ``activityArn`` and ``creationDate``."""
        if name.startswith("arn:"):
            raise InvalidName(f"Invalid Name: '{name}'")
        name = activity_name(name)
        with self._lock:
            created = self._created.setdefault(name, RealClock().now())
            self._deleted.discard(name)
        return {"activityArn": self.arn(name), "creationDate": created}

    def describe(self, arn: str) -> dict[str, Any]:
        """DescribeActivity; ActivityDoesNotExist for an activity never created."""
        name = activity_name(arn)
        with self._lock:
            created = self._created.get(name)
        if created is None:
            raise ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")
        return {"activityArn": self.arn(name), "name": name, "creationDate": created}

    def delete(self, arn: str) -> None:
        """DeleteActivity: forget the activity.

        A task state that schedules it afterwards fails the execution with
        ``States.Runtime`` (:meth:`ActivityAdapter.missing`), and GetActivityTask on it is
        ActivityDoesNotExist, so tasks queued before the delete are never handed out:
        they end by their TimeoutSeconds/HeartbeatSeconds like any task no worker takes.
        """
        name = activity_name(arn)
        with self._lock:
            self._created.pop(name, None)
            self._deleted.add(name)

    def deleted(self, name: str) -> bool:
        """True when activity ``name`` was deleted here and not created again."""
        with self._lock:
            return name in self._deleted

    def list(self) -> list[dict[str, Any]]:
        """ListActivities' ``activities``."""
        with self._lock:
            items = sorted(self._created.items())
        return [{"activityArn": self.arn(n), "name": n, "creationDate": c} for n, c in items]

    # -- the execution side ------------------------------------------------------------

    def enqueue(self, name: str, item: _Queued) -> None:
        """Queue a task, or hand it to the first parked poller."""
        with self._lock:
            self._created.setdefault(name, RealClock().now())
        while True:
            with self._lock:
                waiters = self._waiters.get(name)
                waiter = waiters.popleft() if waiters else None
                if waiter is None:
                    self._queues.setdefault(name, deque()).append(item)
                    return
                waiter.slot = item
            try:
                waiter.wake()
                return
            except StepFunctionsApiError:  # that poller's event loop is gone: next one
                continue

    def _requeue(self, name: str, item: _Queued) -> None:
        """Put back a task whose poller went away before taking it."""
        with self._lock:
            self._queues.setdefault(name, deque()).appendleft(item)

    def withdraw(self, name: str, token: str) -> None:
        """Drop a task no worker took (it timed out or its execution ended)."""
        with self._lock:
            queue = self._queues.get(name)
            if queue:
                self._queues[name] = deque(item for item in queue if item.token != token)

    # -- the worker side ---------------------------------------------------------------

    def get_activity_task(
        self, activity_arn: str, worker_name: str = "", timeout: float = LONG_POLL_SECONDS
    ) -> dict[str, str] | None:
        """GetActivityTask, blocking this thread up to ``timeout`` real seconds.

        Returns ``{"taskToken", "input"}`` or None when no task came in time.
        """
        task = self.poll(activity_arn, worker_name, timeout)
        return None if task is None else task.to_aws()

    def poll(
        self, activity: str, worker_name: str = "", timeout: float = LONG_POLL_SECONDS
    ) -> ActivityTask | None:
        """The next task of ``activity`` (ARN or name), waiting up to ``timeout`` seconds."""
        name = activity_name(activity)
        self._check_exists(activity, name)
        while True:
            event = threading.Event()
            waiter = _Waiter(event.set)
            item = self._take_or_park(name, waiter)
            if item is None:
                event.wait(timeout)
                item = self._unpark(name, waiter)
                if item is None:
                    return None
            task = self._start(item, worker_name)
            if task is not None:
                return task

    async def get_task(
        self, activity: str, worker_name: str = "", timeout: float = LONG_POLL_SECONDS
    ) -> ActivityTask | None:
        """:meth:`poll` for code in an event loop (the long poll is on the real clock).

        Cancellation: the poll is withdrawn; a task handed over meanwhile is requeued.
        """
        name = activity_name(activity)
        self._check_exists(activity, name)
        loop = asyncio.get_running_loop()
        while True:
            woken: asyncio.Future[None] = loop.create_future()

            def wake(fut: asyncio.Future[None] = woken) -> None:
                if not fut.done():
                    fut.set_result(None)

            waiter = _Waiter(lambda: run_in_loop(loop, wake))
            item = self._take_or_park(name, waiter)
            if item is None:
                clock = RealClock()
                timer = clock.call_at(clock.now() + timeout, wake)
                try:
                    await woken
                except BaseException:
                    timer.cancel()
                    item = self._unpark(name, waiter)
                    if item is not None:
                        self._requeue(name, item)
                    raise
                timer.cancel()
                item = self._unpark(name, waiter)
                if item is None:
                    return None
            task = self._start(item, worker_name)
            if task is not None:
                return task

    def _check_exists(self, activity: str, name: str) -> None:
        """GetActivityTask on a deleted activity: ActivityDoesNotExist (API reference)."""
        if self.deleted(name):
            arn = activity if activity.startswith("arn:") else self.arn(name)
            raise ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")

    def _take_or_park(self, name: str, waiter: _Waiter) -> _Queued | None:
        with self._lock:
            queue = self._queues.get(name)
            if queue:
                return queue.popleft()
            self._waiters.setdefault(name, deque()).append(waiter)
            return None

    def _unpark(self, name: str, waiter: _Waiter) -> _Queued | None:
        """What ``waiter`` got; it is removed from the parked pollers either way."""
        with self._lock:
            waiters = self._waiters.get(name)
            if waiters and waiter in waiters:
                waiters.remove(waiter)
            return waiter.slot

    def _start(self, item: _Queued, worker_name: str) -> ActivityTask | None:
        """Tell the execution a worker took ``item``; None if its task is already over."""
        if not self.callbacks.is_open(item.token):
            return None
        try:
            run_in_loop(item.loop, lambda: item.started(worker_name))
        except StepFunctionsApiError:
            return None
        return ActivityTask(item.token, item.input)


@dataclass(frozen=True, slots=True)
class ActivityAdapter:
    """Runs activity Task states: queue the task, wait for a worker's answer."""

    activities: Activities

    def missing(self, call: TaskCall) -> str | None:
        """Why the task cannot be scheduled: its activity was deleted, else None.

        AWS fails the execution with ``States.Runtime`` as the task state is entered, with
        no ActivityScheduled event: "The activity <arn> does not exist." behind the state
        prefix (LocalStack's AWS-validated recording
        ``test_activities.py::TestActivities::test_activity_task_on_deleted``).
        """
        if self.activities.deleted(activity_name(call.resource.arn)):
            return f"The activity {call.resource.arn} does not exist."
        return None

    async def invoke(self, call: TaskCall) -> Any:
        """The SendTaskSuccess output; TaskFailure for SendTaskFailure.

        Cancellation (TimeoutSeconds, HeartbeatSeconds, execution stopped) withdraws the
        task if no worker took it and closes the token.
        """
        token = call.task_token
        if token is None:
            raise TaskFailure("States.Runtime", "The activity task has no task token.")
        name = activity_name(call.resource.arn)
        registry = self.activities.callbacks
        with registry.expect(token, heartbeat=lambda: call.heartbeat()) as pending:
            started = _started_hook(call, pending)
            item = _Queued(token, dumps(call.parameters), asyncio.get_running_loop(), started)
            self.activities.enqueue(name, item)
            try:
                return await pending.wait(call.clock)
            finally:
                self.activities.withdraw(name, token)


def _started_hook(call: TaskCall, pending: Pending) -> Callable[[str], None]:
    """What runs in the execution's loop when a worker takes the task."""

    def started(worker_name: str) -> None:
        if not pending.is_open:
            return
        # Proposed TaskCall.on_started(worker_name): writes ActivityStarted then. Until
        # the runtime has it, task.py writes ActivityStarted when the task is scheduled.
        on_started = getattr(call, "on_started", None)
        if callable(on_started):
            try:
                on_started(worker_name)
            except ASLError as exc:  # e.g. the lease was lost: the execution is stopping
                print(
                    f"asl: activity task of {call.state_name}: not started: {exc}", file=sys.stderr
                )
                return
        call.heartbeat()  # the HeartbeatSeconds clock starts when a worker has the task
        pending.hold(call.clock)  # work in progress outside: virtual time must not skip it

    return started


def register(registry: AdapterRegistry, activities: Activities) -> None:
    """Route every activity ARN to the queues of ``activities``."""
    registry.register(ACTIVITY_PATTERN, ActivityAdapter(activities))


def activity_arn_pattern(name: str) -> str:
    """The pattern of every ARN of the activity ``name`` (any region and account)."""
    return rf"^arn:[^:]+:states:[^:]*:[^:]*:activity:{re.escape(name)}$"


class LocalActivity:
    """Works one activity in this process: ``work(input) -> output`` (sync or async).

    What a worker would do, without the queue: the task is taken at once (ActivityStarted,
    worker name ``worker_name``), its input is the JSON the worker would receive, and the
    return value is the output SendTaskSuccess would carry (it must be JSON).
    :class:`runtime.TaskFailure` fails the task with its error and cause, as
    SendTaskFailure does; any other exception fails it with the exception's class name
    and message. A plain function runs in a thread while the clock is held, so virtual
    time does not move while it works; TimeoutSeconds and HeartbeatSeconds still apply.
    """

    def __init__(self, work: Callable[[Any], Any], worker_name: str = "asl-runtime") -> None:
        self.work = work
        self.worker_name = worker_name

    async def invoke(self, call: TaskCall) -> Any:
        import inspect

        import anyio

        from runtime.engine.events import loads

        call.on_started(self.worker_name)
        call.heartbeat()  # the HeartbeatSeconds clock starts when a worker has the task
        task_input = loads(dumps(call.parameters))
        try:
            if inspect.iscoroutinefunction(self.work):
                result = await self.work(task_input)
            elif call.clock is not None:
                with call.clock.busy():
                    result = await anyio.to_thread.run_sync(
                        self.work, task_input, abandon_on_cancel=True
                    )
            else:
                result = await anyio.to_thread.run_sync(
                    self.work, task_input, abandon_on_cancel=True
                )
        except TaskFailure:
            raise
        except Exception as exc:
            raise TaskFailure(type(exc).__name__, str(exc)) from exc
        try:
            return loads(dumps(result))
        except (TypeError, ValueError) as exc:
            raise TaskFailure(
                "States.Runtime",
                f"The activity worker for {activity_name(call.resource.arn)} returned an "
                f"output that is not JSON: {exc}",
            ) from exc
