"""Task tokens: the registry's API errors, callback tasks and activities end to end."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from runtime import TaskFailure, VirtualClock, run, run_sync
from runtime.adapters import activity, callback
from runtime.adapters.base import AdapterRegistry, FunctionAdapter
from runtime.callbacks.registry import (
    ActivityDoesNotExist,
    CallbackRegistry,
    InvalidArn,
    InvalidName,
    InvalidOutput,
    InvalidToken,
    Pending,
    TaskDoesNotExist,
    TaskTimedOut,
    ValidationException,
)
from runtime.engine.clock import RealClock

CALLBACK_ARN = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
ACTIVITY_ARN = "arn:aws:states:us-east-1:111111111111:activity:resize"


# -- the registry ---------------------------------------------------------------------


def answered(answer: Callable[[CallbackRegistry, str], None]) -> Any:
    """Open a token, answer it with ``answer`` from a sibling task, return what wait gave."""
    registry = CallbackRegistry()
    outcome: dict[str, Any] = {}

    async def waiter(pending: Pending) -> None:
        try:
            outcome["value"] = await pending.wait(RealClock())
        except TaskFailure as exc:
            outcome["error"] = exc

    async def main() -> None:
        with registry.expect("tok") as pending:
            async with anyio.create_task_group() as tg:
                tg.start_soon(waiter, pending)
                await anyio.to_thread.run_sync(answer, registry, "tok")

    anyio.run(main)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_success_returns_the_parsed_output() -> None:
    assert answered(lambda r, t: r.send_task_success(t, '{"a": [1, 2]}')) == {"a": [1, 2]}


def test_failure_raises_the_sent_error_and_cause() -> None:
    with pytest.raises(TaskFailure) as info:
        answered(lambda r, t: r.send_task_failure(t, "My.Error", "it broke"))
    assert (info.value.error, info.value.cause) == ("My.Error", "it broke")


def test_unknown_and_malformed_tokens_are_invalid() -> None:
    registry = CallbackRegistry()
    with pytest.raises(InvalidToken):
        registry.send_task_success("never-issued", "{}")
    with pytest.raises(InvalidToken):
        registry.send_task_heartbeat("")
    with pytest.raises(InvalidToken):  # up to 2048 characters, as botocore allows
        registry.send_task_failure("x" * 2048)
    with pytest.raises(ValidationException):
        registry.send_task_failure("x" * 2049)


def test_a_closed_token_has_timed_out() -> None:
    registry = CallbackRegistry()

    async def main() -> None:
        with registry.expect("tok"):
            registry.send_task_success("tok", "1")
            with pytest.raises(TaskTimedOut):  # answered already
                registry.send_task_success("tok", "2")
        with pytest.raises(TaskTimedOut):
            registry.send_task_heartbeat("tok")

    anyio.run(main)
    assert registry.pending() == []


def test_invalid_output_and_lengths_leave_the_task_open() -> None:
    registry = CallbackRegistry()

    async def main() -> Any:
        with registry.expect("tok") as pending:
            with pytest.raises(InvalidOutput):
                registry.send_task_success("tok", "{not json")
            with pytest.raises(ValidationException):
                registry.send_task_success("tok", '"' + "x" * 262_144 + '"')
            with pytest.raises(ValidationException):
                registry.send_task_failure("tok", "E" * 257)
            with pytest.raises(ValidationException):
                registry.send_task_failure("tok", "E", "c" * 32_769)
            assert registry.pending() == ["tok"]
            registry.send_task_failure("tok", "E" * 256, "c" * 32_768)
            with pytest.raises(TaskFailure):
                await pending.wait()

    anyio.run(main)


def test_a_token_of_a_finished_event_loop_does_not_exist() -> None:
    registry = CallbackRegistry()

    async def main() -> None:
        registry.expect("orphan")  # never closed: its loop ends with the run

    anyio.run(main)
    with pytest.raises(TaskDoesNotExist):
        registry.send_task_success("orphan", "{}")


def test_heartbeats_call_the_task_heartbeat_in_its_loop() -> None:
    registry = CallbackRegistry()
    beats: list[int] = []

    async def main() -> Any:
        with registry.expect("tok", heartbeat=lambda: beats.append(threading.get_ident())):
            loop_thread = threading.get_ident()

            def worker() -> None:
                registry.send_task_heartbeat("tok")
                registry.send_task_heartbeat("tok")
                registry.send_task_success("tok", '"done"')

            await anyio.to_thread.run_sync(worker)
            return loop_thread, await registry._open["tok"].future

    loop_thread, outcome = anyio.run(main)
    assert beats == [loop_thread, loop_thread]
    assert outcome == ("success", "done", None)


# -- callback tasks end to end -------------------------------------------------------


def parallel(waiting: dict[str, Any], *answer_steps: dict[str, Any]) -> dict[str, Any]:
    """Branch 1 waits for its token; branch 2 runs ``answer_steps`` in order."""
    names = [f"S{i}" for i in range(len(answer_steps))]
    states: dict[str, Any] = {}
    for i, (name, step) in enumerate(zip(names, answer_steps, strict=True)):
        nxt = {"Next": names[i + 1]} if i + 1 < len(names) else {"End": True}
        states[name] = {**step, **nxt}
    return {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {"StartAt": "Wait", "States": {"Wait": {**waiting, "End": True}}},
                    {"StartAt": names[0], "States": states},
                ],
            }
        },
    }


def callback_task(**extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": CALLBACK_ARN,
        "Parameters": {"QueueUrl": "q", "MessageBody": {"TaskToken.$": "$$.Task.Token"}},
        **extra,
    }


def wait(seconds: int) -> dict[str, Any]:
    return {"Type": "Wait", "Seconds": seconds}


def call(name: str) -> dict[str, Any]:
    return {"Type": "Task", "Resource": f"arn:aws:states:::lambda:invoke.{name}"}


def setup(**steps: Callable[[CallbackRegistry], None]) -> tuple[CallbackRegistry, AdapterRegistry]:
    """A registry with the generic callback adapter and one function per answer step."""
    callbacks = CallbackRegistry()
    adapters = AdapterRegistry()
    callback.register(adapters, callbacks)
    for name, step in steps.items():

        def fn(_params: Any, step: Callable[[CallbackRegistry], None] = step) -> None:
            step(callbacks)

        adapters.register(rf"\.{name}$", FunctionAdapter(fn))
    return callbacks, adapters


def succeed(callbacks: CallbackRegistry) -> None:
    callbacks.send_task_success(callbacks.pending()[0], '{"ok": true}')


def heartbeat(callbacks: CallbackRegistry) -> None:
    callbacks.send_task_heartbeat(callbacks.pending()[0])


def fail(callbacks: CallbackRegistry) -> None:
    callbacks.send_task_failure(callbacks.pending()[0], "Failure error", "Failure cause")


def test_a_callback_task_is_completed_from_another_branch() -> None:
    callbacks, adapters = setup(succeed=succeed)
    machine = parallel(callback_task(), wait(5), call("succeed"))
    result = run_sync(machine, {}, adapters=adapters)
    assert result.status == "SUCCEEDED"
    assert result.output == [{"ok": True}, None]
    types = [t for t in result.event_types if t.startswith("Task") and "State" not in t]
    assert types[:3] == ["TaskScheduled", "TaskStarted", "TaskSubmitted"]
    assert "TaskSucceeded" in types
    assert callbacks.pending() == []


def test_send_task_failure_fails_the_task_with_a_catchable_error() -> None:
    _, adapters = setup(fail=fail)
    catch = [{"ErrorEquals": ["Failure error"], "ResultPath": "$.err", "Next": "Caught"}]
    waiting = callback_task(Catch=catch)
    machine = parallel(waiting, wait(1), call("fail"))
    branch = machine["States"]["P"]["Branches"][0]
    branch["States"]["Caught"] = {"Type": "Pass", "End": True}
    result = run_sync(machine, {}, adapters=adapters)
    assert result.output[0] == {"err": {"Error": "Failure error", "Cause": "Failure cause"}}
    assert "TaskFailed" in result.event_types


def test_send_task_failure_is_retriable() -> None:
    _, adapters = setup(fail=fail, succeed=succeed)
    retry = [{"ErrorEquals": ["Failure error"], "IntervalSeconds": 2}]
    machine = parallel(callback_task(Retry=retry), wait(1), call("fail"), wait(5), call("succeed"))
    result = run_sync(machine, {}, adapters=adapters)
    assert result.output[0] == {"ok": True}
    assert result.event_types.count("TaskScheduled") == 2 + 2  # two attempts, two answers


def test_a_heartbeat_restarts_the_heartbeat_clock() -> None:
    _, adapters = setup(heartbeat=heartbeat, succeed=succeed)
    waiting = callback_task(HeartbeatSeconds=10)
    steps = (wait(6), call("heartbeat"), wait(6), call("succeed"))
    result = run_sync(parallel(waiting, *steps), {}, adapters=adapters)
    assert result.status == "SUCCEEDED"
    assert result.stop_time - result.start_time == pytest.approx(12)


def test_without_heartbeats_the_task_times_out_before_the_answer() -> None:
    callbacks, adapters = setup(succeed=succeed)
    waiting = callback_task(HeartbeatSeconds=10)
    result = run_sync(parallel(waiting, wait(12), call("succeed")), {}, adapters=adapters)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    timed_out = [e for e in result.history if e.type == "TaskTimedOut"]
    assert timed_out[0].timestamp - result.start_time == pytest.approx(10)
    assert callbacks.pending() == []


def test_an_unanswered_callback_ends_at_the_task_timeout_in_virtual_time() -> None:
    callbacks, adapters = setup()
    state = callback_task(TimeoutSeconds=3600, End=True)
    machine = {"StartAt": "Wait", "States": {"Wait": state}}
    result = run_sync(machine, {}, adapters=adapters)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert result.stop_time - result.start_time == pytest.approx(3600)
    assert callbacks.pending() == []


# -- activities end to end ------------------------------------------------------------


def activity_machine(**extra: Any) -> dict[str, Any]:
    state = {"Type": "Task", "Resource": ACTIVITY_ARN, "End": True, **extra}
    return {"StartAt": "Resize", "States": {"Resize": state}}


def activity_setup(**options: Any) -> tuple[activity.Activities, AdapterRegistry]:
    activities = activity.Activities(CallbackRegistry(**options))
    adapters = AdapterRegistry()
    activity.register(adapters, activities)
    return activities, adapters


async def serve(activities: activity.Activities, answer: Callable[[str, Any], None]) -> None:
    """An in-process worker taking one task of the activity ``resize``."""
    task = await activities.get_task("resize", "w1", timeout=10)
    assert task is not None
    import json

    answer(task.token, json.loads(task.input))


@pytest.mark.parametrize("clock", [RealClock, VirtualClock])
def test_an_activity_is_worked_by_a_worker_function(clock: Callable[[], Any]) -> None:
    activities, adapters = activity_setup()

    def answer(token: str, data: Any) -> None:
        activities.callbacks.send_task_success(token, f'{{"size": {data["n"] * 2}}}')

    async def main() -> Any:
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve, activities, answer)
            await anyio.sleep(0)  # the worker is polling first
            return await run(activity_machine(), {"n": 21}, adapters=adapters, clock=clock())

    result = anyio.run(main)
    assert (result.status, result.output) == ("SUCCEEDED", {"size": 42})
    assert result.event_types[2:5] == ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]


def test_an_activity_failure_fails_the_execution() -> None:
    activities, adapters = activity_setup()

    def answer(token: str, data: Any) -> None:
        activities.callbacks.send_task_failure(token, "Programmatic Error", '{"Value1": 1}')

    async def main() -> Any:
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve, activities, answer)
            return await run(activity_machine(), {}, adapters=adapters, clock=RealClock())

    result = anyio.run(main)
    assert (result.status, result.error, result.cause) == (
        "FAILED",
        "Programmatic Error",
        '{"Value1": 1}',
    )
    assert "ActivityFailed" in result.event_types


def test_a_thread_worker_polls_with_get_activity_task() -> None:
    activities, adapters = activity_setup(external=True)
    seen: list[dict[str, str] | None] = []

    def worker() -> None:
        task = activities.get_activity_task(activities.arn("resize"), "thread", timeout=10)
        seen.append(task)
        assert task is not None
        activities.callbacks.send_task_heartbeat(task["taskToken"])
        activities.callbacks.send_task_success(task["taskToken"], task["input"])

    async def main() -> Any:
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.to_thread.run_sync, worker)
            machine = activity_machine(HeartbeatSeconds=5)
            return await run(machine, {"v": 1}, adapters=adapters, clock=VirtualClock())

    result = anyio.run(main)
    assert (result.status, result.output) == ("SUCCEEDED", {"v": 1})
    assert seen[0] is not None and seen[0]["input"] == '{"v":1}'
    with pytest.raises(TaskTimedOut):  # the task is closed now
        activities.callbacks.send_task_success(seen[0]["taskToken"], "{}")


def test_an_activity_nobody_works_times_out_and_is_withdrawn() -> None:
    activities, adapters = activity_setup()
    result = run_sync(activity_machine(TimeoutSeconds=30), {}, adapters=adapters)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert "ActivityTimedOut" in result.event_types
    assert result.stop_time - result.start_time == pytest.approx(30)
    assert activities.get_activity_task("resize", timeout=0) is None


def test_polling_an_idle_activity_returns_none() -> None:
    activities, _ = activity_setup()

    async def main() -> Any:
        return await activities.get_task("resize", timeout=0.01)

    assert anyio.run(main) is None
    assert activities.get_activity_task(ACTIVITY_ARN, timeout=0.01) is None


def test_activity_management_api() -> None:
    activities, _ = activity_setup()
    created = activities.create("resize")
    assert created["activityArn"] == "arn:aws:states:us-east-1:123456789012:activity:resize"
    assert activities.describe(created["activityArn"])["name"] == "resize"
    assert [a["name"] for a in activities.list()] == ["resize"]
    activities.delete(created["activityArn"])
    with pytest.raises(ActivityDoesNotExist):
        activities.describe(created["activityArn"])
    with pytest.raises(InvalidName):
        activities.create("bad name")
    with pytest.raises(InvalidArn):
        activities.describe("arn:aws:states:us-east-1:1:stateMachine:x")


def test_a_callback_submitted_before_a_crash_waits_for_the_same_token(tmp_path: Any) -> None:
    """The resumed task waits on the token the service was given, not a new one."""
    from runtime import RealClock, run
    from runtime.adapters import Services, build_registry
    from runtime.callbacks.registry import CallbackRegistry
    from runtime.durable.store import Store, StoreRecorder
    from runtime.engine.replay import Replay

    machine = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"MessageBody": {"token.$": "$$.Task.Token"}},
                "TimeoutSeconds": 30,
                "End": True,
            }
        },
    }

    class Crash(Exception):
        """The process "dies" after the message carrying the token was sent."""

    def crash_after_submit(event: Any, frame: Any) -> None:
        if event.type == "TaskSubmitted":
            raise Crash

    with Store.open(tmp_path / "s.db") as store:
        first = StoreRecorder(store)
        with pytest.raises((Crash, BaseExceptionGroup)):
            anyio.run(
                lambda: run(
                    machine, name="ask", clock=RealClock(), observers=[first, crash_after_submit]
                )
            )
        first._lease.release()
        sent = store.recorded(store.get_execution("ask").arn)
        scheduled = next(e for e in sent if e.type == "TaskScheduled")
        token = json.loads(scheduled.details["parameters"])["MessageBody"]["token"]
        callbacks = CallbackRegistry()
        registry = build_registry(Services.create(callbacks=callbacks))
        record = store.get_execution("ask")

        async def resumed() -> Any:
            async with anyio.create_task_group() as group:

                async def answer() -> None:
                    while token not in callbacks.pending():
                        await anyio.sleep(0.01)
                    callbacks.send_task_success(token, '{"answer": 42}')

                group.start_soon(answer)
                return await run(
                    machine,
                    adapters=registry,
                    clock=RealClock(),
                    name="ask",
                    observers=[StoreRecorder(store, resuming=True)],
                    replay=Replay(store.recorded(record.arn)),
                    start_time=record.start_time,
                )

        result = anyio.run(resumed)
    assert (result.status, result.output) == ("SUCCEEDED", {"answer": 42})
    assert [e.type for e in result.history].count("TaskSubmitted") == 1


# -- a deleted activity (issue 19) -------------------------------------------------------
# AWS, recorded (LocalStack's AWS-validated test_activities.py::TestActivities::
# test_activity_task_on_deleted): a task state on a deleted activity fails the execution
# as it is entered, States.Runtime, no ActivityScheduled, the state's prefix on the cause.


def test_a_task_on_a_deleted_activity_fails_the_execution_as_aws_recorded() -> None:
    activities, adapters = activity_setup()
    arn = activities.create("resize")["activityArn"]
    activities.delete(arn)
    machine = {
        "StartAt": "ActivityTask",
        "States": {
            "ActivityTask": {
                "Type": "Task",
                "Resource": arn,
                "End": True,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    result = run_sync(machine, {"Value1": "HelloWorld"}, adapters=adapters)
    assert result.event_types == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
    assert (result.error, result.cause) == (
        "States.Runtime",
        "An error occurred while executing the state 'ActivityTask' (entered at the event "
        f"id #2). The activity {arn} does not exist.",
    )
    activities.create("resize")  # created again: usable again
    result = run_sync(activity_machine(TimeoutSeconds=5), {}, adapters=adapters)
    assert result.error == "States.Timeout" and "ActivityScheduled" in result.event_types


def test_a_task_queued_when_its_activity_is_deleted_is_never_handed_out() -> None:
    activities, adapters = activity_setup()

    async def main() -> Any:
        async with anyio.create_task_group() as tg:

            async def delete_then_poll() -> None:
                await anyio.sleep(0)  # the execution has queued its task
                activities.delete(ACTIVITY_ARN)
                with pytest.raises(ActivityDoesNotExist):
                    await activities.get_task(ACTIVITY_ARN, "w1", timeout=1)
                with pytest.raises(ActivityDoesNotExist):
                    activities.get_activity_task(ACTIVITY_ARN, timeout=0)

            tg.start_soon(delete_then_poll)
            machine = activity_machine(TimeoutSeconds=60)
            return await run(machine, {}, adapters=adapters, clock=VirtualClock())

    result = anyio.run(main)
    # Nobody can fetch it: it ends by its own TimeoutSeconds, as any task nobody takes.
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert "ActivityTimedOut" in result.event_types
