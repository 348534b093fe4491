"""The virtual clock: time jumps only when every participant waits on it."""

from __future__ import annotations

import anyio
import pytest

from runtime.engine.clock import RealClock, VirtualClock


def test_sleep_jumps_to_the_deadline_at_once() -> None:
    clock = VirtualClock(start=1000.0)

    async def main() -> None:
        with clock.participant():
            await clock.sleep_until(1000.0 + 86400 * 300)

    anyio.run(main)
    assert clock.now() == 1000.0 + 86400 * 300


def test_two_participants_wake_in_deadline_order() -> None:
    clock = VirtualClock(start=0.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, until: float) -> None:
        try:
            await clock.sleep_until(until)
            woke.append((name, clock.now()))
        finally:
            clock.leave()

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            for name, until in (("late", 50.0), ("early", 10.0)):
                clock.join()
                tg.start_soon(sleeper, name, until)

    anyio.run(main)
    assert woke == [("early", 10.0), ("late", 50.0)]


def test_time_does_not_jump_while_a_participant_is_busy() -> None:
    clock = VirtualClock(start=0.0)
    seen: list[float] = []

    async def worker() -> None:
        try:
            for _ in range(5):
                await anyio.lowlevel.checkpoint()  # runnable work, not a clock wait
                seen.append(clock.now())
        finally:
            clock.leave()

    async def sleeper() -> None:
        try:
            await clock.sleep_until(100.0)
        finally:
            clock.leave()

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            clock.join()
            clock.join()
            tg.start_soon(sleeper)
            tg.start_soon(worker)

    anyio.run(main)
    assert seen == [0.0] * 5
    assert clock.now() == 100.0


def test_call_at_fires_when_idle_and_cancel_prevents_it() -> None:
    clock = VirtualClock(start=0.0)
    fired: list[str] = []

    async def main() -> None:
        with clock.participant():
            keep = clock.call_at(5.0, lambda: fired.append("keep"))
            drop = clock.call_at(3.0, lambda: fired.append("drop"))
            drop.cancel()
            await clock.sleep_until(10.0)
            keep.cancel()  # already fired: harmless

    anyio.run(main)
    assert fired == ["keep"]


def test_jump_moves_time_and_fires_due_timers() -> None:
    clock = VirtualClock(start=0.0)
    fired: list[float] = []
    clock.call_at(2.0, lambda: fired.append(clock.now()))
    clock.jump(5.0)
    assert clock.now() == 5.0
    assert fired == [5.0]


def test_cancelled_sleeper_is_no_longer_counted() -> None:
    clock = VirtualClock(start=0.0)

    async def main() -> None:
        with clock.participant():
            with anyio.move_on_after(0.01):  # real time is fine here: it is the test's
                await clock.sleep_until(10.0**9)  # never jumps: we hold a 2nd participant

    clock.join()  # an extra, never-sleeping participant keeps virtual time still
    anyio.run(main)
    clock.leave()
    assert clock.now() == 0.0
    assert clock._sleepers == 0


@pytest.mark.parametrize("delay", [0.0, -5.0])
def test_real_clock_past_deadline_returns_at_once(delay: float) -> None:
    clock = RealClock()

    async def main() -> None:
        with anyio.fail_after(1):
            await clock.sleep_until(clock.now() + delay)

    anyio.run(main)
