"""The store's schedule tables: schedules, and the firings each one made.

The store keeps schedules as documents and knows nothing of their expressions:
:mod:`runtime.schedules` decides when a schedule fires and calls :meth:`fire_schedule`,
which does everything a firing writes (its execution, its firing row, how far the
schedule has fired, the schedule's deletion after its last firing) in one transaction.
The firing row's primary key and the execution's ARN are unique, so a firing that
another process (or an earlier life of this one) made is refused instead of doubled.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from runtime.durable.store.records import ExecutionInfo
from runtime.engine.events import dumps

__all__ = ["FiringRecord", "ScheduleRow", "ScheduleTables", "StartedExecution"]


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    """A stored schedule: its ``GetSchedule`` document and how far it has fired."""

    spec_json: str
    #: Every firing time up to this one (epoch seconds) is done (fired or skipped).
    handled_until: int


@dataclass(frozen=True, slots=True)
class FiringRecord:
    """One firing of a schedule, with the status of the execution it started."""

    schedule_name: str
    #: Epoch seconds.
    scheduled_time: int
    #: STARTED, RETRYING or DEAD_LETTERED.
    status: str
    execution_arn: str | None
    attempts: int
    next_attempt_at: float | None
    fired_at: float
    error: str | None
    #: The started execution's status (RUNNING, SUCCEEDED...), if it is still stored.
    execution_status: str | None


@dataclass(frozen=True, slots=True)
class StartedExecution:
    """The execution a firing starts."""

    info: ExecutionInfo
    input: Any
    start_time: float


_FIRING_COLUMNS = (
    "f.schedule_name, f.scheduled_time, f.status, f.execution_arn, f.attempts, "
    "f.next_attempt_at, f.fired_at, f.error, e.status"
)


class ScheduleTables:
    """The schedule methods of :class:`runtime.durable.store.Store` (a mixin)."""

    __slots__ = ()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def create_schedule(self, name: str, state: str, spec: Any, handled_until: int) -> bool:
        """Store a new schedule; False when the name is taken."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM schedules WHERE name = ?", (name,)).fetchone():
                return False
            conn.execute(
                "INSERT INTO schedules (name, state, spec, handled_until) VALUES (?, ?, ?, ?)",
                (name, state, dumps(spec), handled_until),
            )
            return True

    def update_schedule(self, name: str, state: str, spec: Any, handled_until: int) -> bool:
        """Replace a schedule's document; firing times up to ``handled_until`` are not fired
        (those of the old one, or a paused stretch). False when there is no such schedule."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE schedules SET state = ?, spec = ?, "
                "handled_until = MAX(handled_until, ?) WHERE name = ?",
                (state, dumps(spec), handled_until, name),
            )
            return cursor.rowcount == 1

    def delete_schedule(self, name: str) -> bool:
        """Delete a schedule (its firings and executions stay); False if there was none."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM schedule_firings WHERE schedule_name = ? AND status = 'RETRYING'",
                (name,),
            )
            return conn.execute("DELETE FROM schedules WHERE name = ?", (name,)).rowcount == 1

    def get_schedule(self, name: str) -> ScheduleRow | None:
        """The schedule named ``name``, or None."""
        rows = self._read("SELECT spec, handled_until FROM schedules WHERE name = ?", (name,))
        return ScheduleRow(str(rows[0][0]), int(rows[0][1])) if rows else None

    def list_schedules(self, state: str | None = None) -> list[ScheduleRow]:
        """Every schedule (or those in ``state``), by name."""
        where, params = (" WHERE state = ?", [state]) if state else ("", [])
        rows = self._read(f"SELECT spec, handled_until FROM schedules{where} ORDER BY name", params)
        return [ScheduleRow(str(spec), int(until)) for spec, until in rows]

    def skip_firings(self, name: str, until: int) -> None:
        """Mark every firing time up to ``until`` done without firing it (missed runs)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE schedules SET handled_until = MAX(handled_until, ?) WHERE name = ?",
                (until, name),
            )

    def fire_schedule(
        self,
        name: str,
        scheduled: int,
        *,
        attempt: int,
        now: float,
        started: StartedExecution | None = None,
        error: str | None = None,
        next_attempt_at: float | None = None,
        delete_schedule: bool = False,
    ) -> bool:
        """Record attempt ``attempt`` of the firing at ``scheduled``, in one transaction:
        the execution it started (``started``), or its failure (``error``: RETRYING until
        ``next_attempt_at``, else DEAD_LETTERED). False, writing nothing, when this attempt
        was already made (by another process, or before a restart) or the schedule is gone.
        """
        try:
            with self._write() as conn:
                if not self._claim(conn, name, scheduled, attempt):
                    return False
                arn = None
                if started is not None:
                    arn = started.info.arn
                    _insert_execution(conn, started)
                status = (
                    "STARTED" if started else "RETRYING" if next_attempt_at else "DEAD_LETTERED"
                )
                conn.execute(
                    "INSERT OR REPLACE INTO schedule_firings (schedule_name, scheduled_time, "
                    "status, execution_arn, attempts, next_attempt_at, fired_at, error) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, scheduled, status, arn, attempt, next_attempt_at, now, error),
                )
                conn.execute(
                    "UPDATE schedules SET handled_until = MAX(handled_until, ?) WHERE name = ?",
                    (scheduled, name),
                )
                if delete_schedule and status != "RETRYING":
                    conn.execute("DELETE FROM schedules WHERE name = ?", (name,))
                return True
        except Exception as exc:
            if isinstance(exc.__cause__, sqlite3.IntegrityError):
                return False  # the execution exists: another process started this firing
            raise

    def _claim(self, conn: sqlite3.Connection, name: str, scheduled: int, attempt: int) -> bool:
        """Whether attempt ``attempt`` of this firing is still to be made."""
        row = conn.execute("SELECT handled_until FROM schedules WHERE name = ?", (name,)).fetchone()
        if row is None:
            return False
        firing = conn.execute(
            "SELECT status, attempts FROM schedule_firings "
            "WHERE schedule_name = ? AND scheduled_time = ?",
            (name, scheduled),
        ).fetchone()
        if attempt == 1:
            return firing is None and scheduled > int(row[0])
        return firing is not None and firing[0] == "RETRYING" and firing[1] == attempt - 1

    def due_retries(self, now: float) -> list[tuple[str, int, int]]:
        """Firings waiting for another attempt whose time has come: (schedule name,
        scheduled time, attempts made), oldest first."""
        rows = self._read(
            "SELECT schedule_name, scheduled_time, attempts FROM schedule_firings "
            "WHERE status = 'RETRYING' AND next_attempt_at <= ? ORDER BY next_attempt_at",
            (now,),
        )
        return [(str(n), int(t), int(a)) for n, t, a in rows]

    def schedule_firings(self, name: str, limit: int | None = None) -> list[FiringRecord]:
        """The firings of a schedule, newest first."""
        sql = (
            f"SELECT {_FIRING_COLUMNS} FROM schedule_firings f LEFT JOIN executions e "
            "ON e.arn = f.execution_arn WHERE f.schedule_name = ? ORDER BY f.scheduled_time DESC"
        )
        params: list[Any] = [name]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [FiringRecord(*row) for row in self._read(sql, params)]


def _insert_execution(conn: sqlite3.Connection, started: StartedExecution) -> None:
    info = started.info
    conn.execute(
        "INSERT INTO executions (arn, name, state_machine_name, state_machine_arn, definition, "
        "input, status, start_time, redrive_count, options) "
        "VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', ?, 0, ?)",
        (
            info.arn,
            info.name,
            info.state_machine_name,
            info.state_machine_arn,
            dumps(info.definition),
            dumps(started.input),
            started.start_time,
            dumps(info.options),
        ),
    )
