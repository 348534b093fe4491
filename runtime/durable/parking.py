"""Parking: ``asl serve`` lets go of an execution that has nothing to do for a while.

An execution whose every branch sleeps in a Wait state or a retry delay holds nothing
but memory until the earliest deadline. :class:`ParkingClock` (the real clock, counting
the execution's participants as :class:`runtime.engine.clock.VirtualClock` does) notices
that moment and calls ``on_idle(wake_at)``; the serve loop then commits what is pending,
parks the execution's lease in the store until ``wake_at`` (``Store.park_lease``) and
cancels it, writing nothing. At ``wake_at`` any ``asl serve`` claims it again and resumes
it from its history: the Waits keep their recorded deadlines. A parked execution costs a
store row, not a task, so one process can hold as many as the store does.

Only the execution's own sleeps park (``Execution.sleep_until`` calls
:meth:`ParkingClock.sleep_parkable` with the execution's ARN); a sleep of anything else
(a ``.sync`` job's polling, a nested child execution, a callback) keeps it in memory, as
does any participant that is not asleep or a clock marked busy.
"""

from __future__ import annotations

from collections.abc import Callable

from runtime.engine.clock import Participants, RealClock, Timer

__all__ = ["ParkingClock"]


class _Timer:
    __slots__ = ("clock", "key", "timer")

    def __init__(self, clock: ParkingClock, key: object, timer: Timer) -> None:
        self.clock, self.key, self.timer = clock, key, timer

    def cancel(self) -> None:
        self.timer.cancel()
        self.clock._timers.pop(self.key, None)


class ParkingClock(Participants, RealClock):
    """The real clock of one execution (``arn``), calling ``on_idle(wake_at)`` once every
    participant sleeps in the execution's own sleeps and nothing is due within
    ``threshold`` seconds (``wake_at``: the earliest sleep or timer deadline)."""

    def __init__(self, arn: str, threshold: float, on_idle: Callable[[float], None]) -> None:
        self.arn = arn
        self.threshold = threshold
        self.on_idle = on_idle
        self._participants = 0
        self._busy = 0
        self._sleeping: dict[object, float] = {}
        self._timers: dict[object, float] = {}
        self._checking = False

    async def sleep_parkable(self, deadline: float, arn: str) -> None:
        """A sleep of execution ``arn`` that may park it (Wait states, retry delays)."""
        if arn != self.arn:
            await self.sleep_until(deadline)
            return
        if deadline <= self.now():
            return
        key = object()
        self._sleeping[key] = deadline
        self._check_soon()
        try:
            await self.sleep_until(deadline)
        finally:
            del self._sleeping[key]

    def call_at(self, deadline: float, callback: Callable[[], None]) -> Timer:
        key = object()

        def fire() -> None:
            self._timers.pop(key, None)
            callback()

        timer = super().call_at(deadline, fire)
        self._timers[key] = deadline
        return _Timer(self, key, timer)

    def _left(self) -> None:
        self._check_soon()

    def _check_soon(self) -> None:
        if self._checking or not self._sleeping:
            return
        self._checking = True
        super().call_at(0.0, self._check)  # soon: once the current step is done

    def _check(self) -> None:
        self._checking = False
        sleeping = self._sleeping
        if self._busy or self._participants <= 0 or len(sleeping) < self._participants:
            return
        wake = min(sleeping.values())
        if self._timers:
            wake = min(wake, min(self._timers.values()))
        if wake - self.now() >= self.threshold:
            self.on_idle(wake)
