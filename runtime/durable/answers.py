"""Callbacks across the processes that share a store.

A worker sends SendTaskSuccess (or Failure, Heartbeat) to one ``asl serve`` of a fleet;
the execution may be run by another. The receiving process's
:class:`runtime.callbacks.registry.CallbackRegistry` hands an answer whose token it does
not hold to a :class:`StoreRelay`, which checks that the token's execution is RUNNING
and keeps the answer in the store (``task_answers``); the process holding the
execution's lease picks it up on its next poll (:func:`deliver_answers`) and settles the
waiting task, exactly as if the worker had called it.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from runtime.callbacks.registry import TaskDoesNotExist, TaskTimedOut
from runtime.durable.store.answers import TaskAnswer
from runtime.durable.store.sqlite import Store
from runtime.engine.clock import RealClock
from runtime.engine.events import dumps, loads

__all__ = ["StoreRelay", "deliver_answers"]


class StoreRelay:
    """``CallbackRegistry.relay`` through a store: thread-safe (the endpoint answers from
    its own threads), with a connection of its own opened on first use."""

    def __init__(self, location: str | os.PathLike[str]) -> None:
        self._location = location
        self._lock = threading.Lock()
        self._store: Store | None = None

    def __call__(self, token: str, outcome: tuple[str, Any, Any]) -> None:
        kind, value, cause = outcome
        with self._lock:
            if self._store is None:
                self._store = Store.open(self._location)
            store = self._store
            identity = store.token_signer().identity(token)
            if identity is None:  # the registry checked it with another secret
                raise TaskDoesNotExist("Task does not exist anymore")
            arn = identity.rsplit("#", 2)[0]
            answer = TaskAnswer(
                token,
                kind,
                arn,
                dumps(value) if kind == "success" else None,
                value if kind == "failure" else None,
                cause if kind == "failure" else None,
            )
            posted = store.post_task_answer(answer, RealClock().now())
        if posted == "not-running":
            raise TaskDoesNotExist("Task does not exist anymore")
        if posted == "answered":
            raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")

    def close(self) -> None:
        """Close the relay's connection."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def deliver_answers(store: Store, callbacks: Any, execution_arns: list[str]) -> int:
    """Settle the stored answers of these executions (run here) whose tokens wait here;
    forget those delivered. Returns how many were delivered."""
    if not execution_arns or callbacks is None:
        return 0
    answers = store.task_answers(execution_arns)
    done = []
    for answer in answers:
        if answer.kind == "success":
            outcome: tuple[str, Any, Any] = ("success", loads(answer.output or "null"), None)
        elif answer.kind == "failure":
            outcome = ("failure", answer.error or "", answer.cause)
        else:
            outcome = ("heartbeat", None, None)
        if callbacks.deliver(answer.token, outcome):
            done.append(answer)
    store.drop_task_answers(done)
    return len(done)
