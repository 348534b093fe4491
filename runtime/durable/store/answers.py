"""The store's task answers: callbacks received by a process that does not run the
execution they answer, kept until the process that does takes them.

Several ``asl serve`` processes share a store; a worker's SendTaskSuccess reaches
whichever one it is sent to. That one checks the token's signature (the store's secret),
writes the answer here (:meth:`AnswerTables.post_task_answer`), and answers the worker;
the process holding the execution's lease reads the answers of its executions on each
poll (:meth:`AnswerTables.task_answers`) and settles its waiting tasks
(:mod:`runtime.durable.answers`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

__all__ = ["AnswerTables", "TaskAnswer"]


@dataclass(frozen=True, slots=True)
class TaskAnswer:
    """One stored answer to a task token."""

    token: str
    #: success, failure or heartbeat.
    kind: str
    execution_arn: str
    #: success: the output as JSON text.
    output: str | None
    error: str | None
    cause: str | None


class AnswerTables:
    """The task answer methods of :class:`runtime.durable.store.Store` (a mixin)."""

    __slots__ = ()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def post_task_answer(self, answer: TaskAnswer, now: float) -> str:
        """Keep ``answer`` for the execution's runner. Returns ``posted``; ``not-running``
        when the execution is not RUNNING (or not stored); ``answered`` when a success or
        failure of that token is already waiting. A heartbeat replaces an earlier one."""
        row = (
            answer.token,
            answer.kind,
            answer.execution_arn,
            answer.output,
            answer.error,
            answer.cause,
            now,
        )
        with self._write() as conn:
            running = conn.execute(
                "SELECT 1 FROM executions WHERE arn = ? AND status = 'RUNNING'",
                (answer.execution_arn,),
            ).fetchone()
            if running is None:
                return "not-running"
            # Answers nobody will take any more: their execution ended (a token closed
            # before its answer was delivered, e.g. by a timeout).
            conn.execute(
                "DELETE FROM task_answers WHERE execution_arn IN (SELECT t.execution_arn "
                "FROM task_answers t JOIN executions e ON e.arn = t.execution_arn "
                "WHERE e.status <> 'RUNNING')"
            )
            if answer.kind == "heartbeat":
                conn.execute(
                    "DELETE FROM task_answers WHERE token = ? AND kind = 'heartbeat'",
                    (answer.token,),
                )
            elif conn.execute(
                "SELECT 1 FROM task_answers WHERE token = ? AND kind IN ('success', 'failure')",
                (answer.token,),
            ).fetchone():
                return "answered"
            conn.execute(
                "INSERT INTO task_answers (token, kind, execution_arn, output, error, cause, "
                "sent_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return "posted"

    def task_answers(self, execution_arns: Iterable[str]) -> list[TaskAnswer]:
        """The answers waiting for these executions, heartbeats first, oldest first."""
        arns = list(execution_arns)
        found: list[TaskAnswer] = []
        if not arns or not self._read("SELECT 1 FROM task_answers LIMIT 1", ()):
            return found  # the usual case, one cheap query per poll
        for start in range(0, len(arns), 500):  # SQLite's limit on parameters
            chunk = arns[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self._read(
                "SELECT token, kind, execution_arn, output, error, cause FROM task_answers "
                f"WHERE execution_arn IN ({marks}) "
                "ORDER BY kind = 'heartbeat' DESC, sent_at",
                chunk,
            )
            found.extend(TaskAnswer(*row) for row in rows)
        return found

    def drop_task_answers(self, answers: Iterable[TaskAnswer]) -> None:
        """Forget answers once delivered (or found stale)."""
        keys = [(a.token, a.kind) for a in answers]
        if keys:
            with self._write() as conn:
                conn.executemany("DELETE FROM task_answers WHERE token = ? AND kind = ?", keys)
