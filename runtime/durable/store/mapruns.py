"""The store's Map Run tables: each Distributed Map run, and its child executions.

A Map Run is stored when it starts (RUNNING) and again when it ends, with its children
then: one row per child execution (its ARN's name, status, dates, how many items it held,
its input, its output or error and cause), in one transaction. ``asl executions --map-run``,
the API's DescribeMapRun/ListMapRuns/ListExecutions(mapRunArn) and the report read them;
a redrive reads the children back to re-run only the ones that did not succeed. The
shapes themselves are :class:`runtime.distributed.runs.MapRunRecord`'s.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from runtime.engine.events import dumps

__all__ = ["MapRunRow", "MapRunTables"]

#: A stored Map Run: (its JSON document, the parent execution's ARN).
MapRunRow = tuple[str, str]

_CHILD_COLUMNS = (
    "idx, name, status, start_time, stop_time, size, redrive_count, input, output, error, cause"
)


class MapRunTables:
    """The Map Run methods of :class:`runtime.durable.store.Store` (a mixin)."""

    __slots__ = ()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def save_map_run(self, record: Any, children: Iterable[Any] | None = None) -> None:
        """Store ``record`` (a MapRunRecord) and, when given, replace its children
        (ChildRecords) by ``children``."""
        row = (record.arn, record.execution_arn, record.start, record.status, record.to_json())
        with self._write() as conn:
            conn.execute(
                "INSERT INTO map_runs (arn, execution_arn, start_time, status, document) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (arn) DO UPDATE SET "
                "status = excluded.status, document = excluded.document",
                row,
            )
            if children is None:
                return
            conn.execute("DELETE FROM map_run_children WHERE map_run_arn = ?", (record.arn,))
            conn.executemany(
                f"INSERT INTO map_run_children (map_run_arn, {_CHILD_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        record.arn,
                        c.index,
                        c.name,
                        c.status,
                        c.start,
                        c.stop,
                        c.size,
                        c.redrive_count,
                        dumps(c.input),
                        None if c.status != "SUCCEEDED" else dumps(c.output),
                        c.error,
                        c.cause,
                    )
                    for c in children
                ),
            )

    def update_map_run(self, arn: str, document: str) -> None:
        """Replace a stored Map Run's document (UpdateMapRun)."""
        with self._write() as conn:
            conn.execute("UPDATE map_runs SET document = ? WHERE arn = ?", (document, arn))

    def map_run(self, arn: str) -> str | None:
        """The stored Map Run's JSON document, or None."""
        rows = self._read("SELECT document FROM map_runs WHERE arn = ?", (arn,))
        return str(rows[0][0]) if rows else None

    def map_runs(self, execution_arn: str) -> list[str]:
        """The JSON documents of an execution's Map Runs, in the order they started."""
        rows = self._read(
            "SELECT document FROM map_runs WHERE execution_arn = ? ORDER BY start_time, rowid",
            (execution_arn,),
        )
        return [str(row[0]) for row in rows]

    def map_run_children(
        self, arn: str, status: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """A Map Run's children by index: ``index``, ``name``, ``status``, ``start``,
        ``stop``, ``size``, ``redrive_count``, ``input``, ``output``, ``error``, ``cause``."""
        sql = f"SELECT {_CHILD_COLUMNS} FROM map_run_children WHERE map_run_arn = ?"
        params: list[Any] = [arn]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        sql += " ORDER BY idx"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self._read(sql, params)
        return [
            {
                "index": idx,
                "name": name,
                "status": st,
                "start": start,
                "stop": stop,
                "size": size,
                "redrive_count": redrives,
                "input": json.loads(data),
                "output": None if output is None else json.loads(output),
                "error": error,
                "cause": cause,
            }
            for idx, name, st, start, stop, size, redrives, data, output, error, cause in rows
        ]
