"""Clocks: the only place in ``runtime/`` that reads or waits on time.

Everything timed in an execution (Wait states, retry delays, task timeouts and heartbeats,
the execution's TimeoutSeconds and the 1-year limit) goes through a :class:`Clock`.

* :class:`RealClock` reads the system clock and sleeps for real.
* :class:`VirtualClock` never sleeps: when every participant (a running execution, Parallel
  branch or Map iteration) is waiting on the clock, it jumps to the earliest deadline.
  This is the idea of trio's ``MockClock(autojump_threshold=0)`` and Temporal's
  time-skipping test server: a 300-day Wait finishes in microseconds, with the timestamps
  AWS would have written.

Participants tell the clock when they start and stop (:meth:`Clock.participant`) and when
they block on something that is not the clock (:meth:`Clock.busy`), e.g. a real service
call, so virtual time never jumps over work in progress.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

__all__ = ["Clock", "Participants", "RealClock", "Timer", "VirtualClock"]


class Timer(Protocol):
    """A scheduled callback; :meth:`cancel` stops it from firing."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """What the runtime needs from time."""

    #: True for clocks that skip idle time.
    virtual: bool

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Return once ``now() >= deadline``. Cancellable."""
        ...

    def call_at(self, deadline: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` (in the event loop) once ``now() >= deadline``."""
        ...

    def participant(self) -> AbstractContextManager[None]:
        """Context manager around the life of one concurrent participant."""
        ...

    def busy(self) -> AbstractContextManager[None]:
        """Context manager around a wait on something other than the clock."""
        ...

    def join(self) -> None:
        """Count one more participant; call before scheduling its task."""
        ...

    def leave(self) -> None:
        """The participant counted by :meth:`join` ended."""
        ...


class RealClock:
    """Wall-clock time; sleeps really sleep."""

    virtual = False

    def now(self) -> float:
        return time.time()

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - time.time()
        if delay > 0:
            await asyncio.sleep(delay)

    def call_at(self, deadline: float, callback: Callable[[], None]) -> Timer:
        loop = asyncio.get_running_loop()
        return loop.call_later(max(0.0, deadline - time.time()), callback)

    @contextmanager
    def participant(self) -> Iterator[None]:
        yield

    def join(self) -> None:
        return None

    def leave(self) -> None:
        return None

    @contextmanager
    def busy(self) -> Iterator[None]:
        yield


class _VirtualTimer:
    __slots__ = ("cancelled", "clock", "deadline")

    def __init__(self, clock: VirtualClock, deadline: float) -> None:
        self.clock = clock
        self.deadline = deadline
        self.cancelled = False

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self.clock._pending -= 1
            self.clock._maybe_advance()


class Participants:
    """Counts what may still act on a clock: participants (an execution's tasks, joined
    before they are scheduled) and busy sections (a call running in a worker thread).
    A subclass sets ``_participants`` and ``_busy`` to 0 and says in :meth:`_left` what
    a participant's end may trigger (time moving on, an execution parking)."""

    _participants: int
    _busy: int

    @contextmanager
    def participant(self) -> Iterator[None]:
        self.join()
        try:
            yield
        finally:
            self.leave()

    def join(self) -> None:
        """Count one more participant (call before its task is scheduled)."""
        self._participants += 1

    def leave(self) -> None:
        """A participant ended."""
        self._participants -= 1
        self._left()

    @contextmanager
    def busy(self) -> Iterator[None]:
        self._busy += 1
        try:
            yield
        finally:
            self._busy -= 1

    def _left(self) -> None:
        raise NotImplementedError


class VirtualClock(Participants):
    """Time that only moves when every participant is waiting on it.

    ``start`` is the initial time in epoch seconds (the real time by default).
    """

    virtual = True

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._heap: list[tuple[float, int, _VirtualTimer, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._participants = 0
        self._busy = 0
        self._sleepers = 0
        self._pending = 0  # live (not cancelled, not fired) timers
        self._scheduled = False

    def now(self) -> float:
        return self._now

    def jump(self, seconds: float) -> None:
        """Move time forward by hand and fire what became due."""
        self._now += seconds
        self._fire_due()

    def call_at(self, deadline: float, callback: Callable[[], None]) -> Timer:
        timer = _VirtualTimer(self, deadline)
        self._push(timer, callback)
        return timer

    def _push(self, timer: _VirtualTimer, callback: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (timer.deadline, next(self._seq), timer, callback))
        self._pending += 1
        if timer.deadline <= self._now:
            self._schedule_check()

    async def sleep_until(self, deadline: float) -> None:
        if deadline <= self._now:
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            # Counted awake from now on, so the clock cannot jump again before we run.
            self._sleepers -= 1
            if not fut.done():
                fut.set_result(None)

        timer = _VirtualTimer(self, deadline)
        self._push(timer, wake)
        self._sleepers += 1
        self._maybe_advance()
        try:
            await fut
        finally:
            if not timer.cancelled:  # left early (cancelled): not woken by the timer
                self._sleepers -= 1
                timer.cancel()

    def _left(self) -> None:
        self._maybe_advance()

    # -- advancing ---------------------------------------------------------------

    def _idle(self) -> bool:
        return self._busy == 0 and self._sleepers >= self._participants

    def _maybe_advance(self) -> None:
        if self._pending and self._idle():
            self._schedule_check()

    def _schedule_check(self) -> None:
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._scheduled = True
        loop.call_soon(self._check)

    def _check(self) -> None:
        self._scheduled = False
        self._drop_cancelled()
        if not self._heap:
            return
        if self._heap[0][0] > self._now:
            if not self._idle():
                return
            self._now = self._heap[0][0]
        self._fire_due()
        # What fired may have made tasks runnable; let them run before looking again.
        self._maybe_advance()

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)

    def _fire_due(self) -> None:
        while self._heap and self._heap[0][0] <= self._now:
            _, _, timer, callback = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            timer.cancelled = True
            self._pending -= 1
            callback()
