"""The embedded execution store: SQLite through the standard library, in WAL mode.

Where it lives (first match wins): ``--store PATH``, the ``ASL_STORE`` environment
variable, ``$XDG_STATE_HOME/asl-runtime/store.db``, ``~/.local/state/asl-runtime/store.db``.

Durability: every history event is committed on its own as it is written, in WAL mode
with ``synchronous=NORMAL``. A commit then appends to the write-ahead log without an
fsync (the log is synced at checkpoints), which costs about 20 µs an event (30,000
events in 0.7 s on a laptop-class disk) instead of one fsync each under ``FULL``. A
committed event survives the process being killed at any instant (SIGKILL, a crash, an
OOM kill); only a power loss or an OS crash can drop the last commits, and never
corrupts the file. This is the trade-off the SQLite documentation recommends for WAL.

Concurrency: several processes may share one store. Writes take the lock up front
(``BEGIN IMMEDIATE``) and every connection waits up to :data:`BUSY_TIMEOUT_MS` for a
lock instead of failing at once; WAL lets readers (``asl history``) run during writes.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from runtime.callbacks.tokens import TokenSigner, new_secret
from runtime.durable.store.answers import AnswerTables
from runtime.durable.store.batches import NOBODY, LeaseBatches, StopRequests
from runtime.durable.store.errors import (
    AmbiguousExecution,
    ExecutionAlreadyExists,
    ExecutionNotFound,
    LeaseLost,
    StoreError,
)
from runtime.durable.store.mapruns import MapRunTables
from runtime.durable.store.records import (
    CLOSING_STATUS,
    ExecutionInfo,
    ExecutionRecord,
    ExecutionSummary,
)
from runtime.durable.store.schedules import ScheduleTables
from runtime.durable.store.schema import migrate
from runtime.engine.events import HistoryEvent, details_key, export_details, iso_timestamp
from runtime.engine.events import dumps as _dumps
from runtime.engine.replay import RecordedEvent

__all__ = ["BUSY_TIMEOUT_MS", "ENV_VAR", "Store", "default_store_path", "resolve_store_path"]

#: The environment variable naming the store file.
ENV_VAR = "ASL_STORE"
#: How long a connection waits for another process's lock before failing.
BUSY_TIMEOUT_MS = 10_000

_SUMMARY_COLUMNS = (
    "arn, name, state_machine_name, state_machine_arn, status, start_time, stop_time, "
    "redrive_count, error, cause"
)
_RECORD_COLUMNS = f"{_SUMMARY_COLUMNS}, definition, input, output"
_INSERT_EVENT = (
    "INSERT INTO events (execution_arn, id, previous_event_id, type, timestamp, details) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
#: The insert of a fenced write: nothing is inserted unless the lease is still at the
#: writer's generation (one statement, checked in the write's transaction).
_INSERT_FENCED_EVENT = (
    "INSERT INTO events (execution_arn, id, previous_event_id, type, timestamp, details) "
    "SELECT ?, ?, ?, ?, ?, ? WHERE "
    "(SELECT generation FROM lease_fences WHERE execution_arn = ?) = ?"
)
_FINISH = (
    "UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, stop_time = ? "
    "WHERE arn = ?"
)


def default_store_path(env: Mapping[str, str] | None = None) -> Path | str:
    """The store file used when no ``--store`` is given (see the module docstring); a
    database URL (``postgresql://...``) is kept as text."""
    env = os.environ if env is None else env
    if env.get(ENV_VAR):
        return _location(env[ENV_VAR])
    state_home = env.get("XDG_STATE_HOME")
    base = Path(state_home) if state_home else Path.home() / ".local" / "state"
    return base / "asl-runtime" / "store.db"


def resolve_store_path(
    option: str | None, no_store: bool = False, env: Mapping[str, str] | None = None
) -> Path | str | None:
    """The store for a command: ``--store`` wins, then the default; None with ``--no-store``.
    A file is a :class:`Path`, a database URL (``postgresql://...``) its text."""
    if no_store:
        return None
    return _location(option) if option else default_store_path(env)


def _location(text: str) -> Path | str:
    return text if "://" in text else Path(text).expanduser()


#: Store backends other than SQLite, by URL scheme (``postgresql://``): the function
#: opening a store at such a URL (``create`` as in :meth:`Store.open`). A backend module
#: registers itself with :func:`register_backend`; the package imports each one.
_BACKENDS: dict[str, Callable[[str, bool], Store]] = {}


def register_backend(schemes: Sequence[str], opener: Callable[[str, bool], Store]) -> None:
    """Let :meth:`Store.open` open URLs starting with one of ``schemes`` with ``opener``."""
    for scheme in schemes:
        _BACKENDS[scheme] = opener


def dumps(value: Any) -> str:
    """JSON text for a column. A lone surrogate (``"\\ud800"`` in a definition or input is
    valid JSON) has no UTF-8 form: such text is kept with ASCII escapes, which read back
    to the same value."""
    text = _dumps(value)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"))
    return text


class Store(ScheduleTables, MapRunTables, AnswerTables, LeaseBatches):
    """An open store; one connection, used from one thread. Close it (or use ``with``).

    The schedule methods come from :class:`ScheduleTables`, the Map Run ones from
    :class:`MapRunTables`, the task answers' from :class:`AnswerTables`; the batch methods
    of ``asl serve`` are declared by :class:`LeaseBatches` and overridden here with one
    transaction per batch."""

    __slots__ = ("_conn", "_signer", "path")

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._conn = conn
        self._signer: TokenSigner | None = None
        #: The file this store reads and writes (``:memory:`` for an in-memory store).
        self.path = path

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = True) -> Store:
        """Open (and create, unless ``create`` is false) the store at ``path``; migrate it.

        ``path`` may be a database URL instead of a file: ``postgresql://...`` opens the
        PostgreSQL backend (:mod:`runtime.durable.store.postgres`).

        Raises :class:`StoreError` when the file cannot be opened or is not a store, and
        :class:`runtime.durable.store.errors.SchemaTooNew` when a newer asl-runtime wrote it.
        """
        where = os.fspath(path)
        if "://" in where:
            scheme = where.partition("://")[0] + "://"
            if scheme not in _BACKENDS:
                known = ", ".join(sorted(_BACKENDS)) or "none"
                raise StoreError(f"no store backend for {scheme}... URLs (known: {known})")
            return _BACKENDS[scheme](where, create)
        if where != ":memory:":
            if not create and not Path(where).is_file():
                raise StoreError(f"no store at {where}")
            _create_private(Path(where))
        try:
            conn = sqlite3.connect(where, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {where}: {exc}") from exc
        try:
            _configure(conn)
            migrate(conn, location=where)
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"cannot open the store {where}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return cls(conn, where)

    def close(self) -> None:
        """Close the connection; committed data is already on disk."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the lock is taken at BEGIN so it cannot deadlock later."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to the store {self.path}: {exc}") from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            # SQLite rolls back by itself on some errors (SQLITE_FULL: a full disk); a
            # second ROLLBACK would hide the real error behind "no transaction is active".
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot write to the store {self.path}: {exc}") from exc
            raise

    def token_signer(self) -> TokenSigner:
        """The signer of this store's task tokens; its secret is made on first use.

        Two processes asking at once agree: the first insert wins, the other reads it.
        """
        if self._signer is None:
            conn = self._conn
            with self._write():
                conn.execute(
                    "INSERT OR IGNORE INTO token_secret (id, secret) VALUES (1, ?)",
                    (new_secret(),),
                )
            row = conn.execute("SELECT secret FROM token_secret WHERE id = 1").fetchone()
            self._signer = TokenSigner(bytes(row[0]))
        return self._signer

    # -- writing ---------------------------------------------------------------------

    @staticmethod
    def _execution_row(info: ExecutionInfo, input: Any, start_time: float) -> tuple[Any, ...]:
        """A new execution's values, in the order of both backends' INSERT."""
        return (
            info.arn,
            info.name,
            info.state_machine_name,
            info.state_machine_arn,
            dumps(info.definition),
            dumps(input),
            start_time,
            info.redrive_count,
            dumps(info.options),
        )

    def begin_execution(self, info: ExecutionInfo, input: Any, start_time: float) -> None:
        """Store a new RUNNING execution. Raises :class:`ExecutionAlreadyExists`."""
        row = self._execution_row(info, input, start_time)
        try:
            with self._write() as conn:
                conn.execute(
                    "INSERT INTO executions (arn, name, state_machine_name, "
                    "state_machine_arn, definition, input, status, start_time, redrive_count,"
                    " options) VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', ?, ?, ?)",
                    row,
                )
        except StoreError as exc:
            if isinstance(exc.__cause__, sqlite3.IntegrityError):
                raise ExecutionAlreadyExists(f"Execution Already Exists: '{info.arn}'") from None
            raise

    def record(self, execution_arn: str, event: HistoryEvent, fence: int | None = None) -> None:
        """Commit one history event; a closing event also sets the execution's outcome.

        ``fence`` is the generation of the writer's lease (see :meth:`acquire_lease`): the
        write is refused with :class:`LeaseLost` when another process has taken the lease
        since, checked in the same transaction as the insert.
        """
        row = _event_row(execution_arn, event)
        with self._write() as conn:
            if not _insert(conn, row, fence):
                raise _stale(execution_arn, fence)

    def finish_execution(
        self,
        execution_arn: str,
        status: str,
        stop_time: float,
        *,
        output: Any = None,
        error: str | None = None,
        cause: str | None = None,
    ) -> None:
        """Set an execution's outcome without an event (recording the closing event does it)."""
        text = None if output is None and status != "SUCCEEDED" else dumps(output)
        with self._write() as conn:
            conn.execute(_FINISH, (status, text, error, cause, stop_time, execution_arn))

    # -- reading ---------------------------------------------------------------------

    # -- leases (who runs a RUNNING execution) -----------------------------------------

    def acquire_lease(
        self,
        execution_arn: str,
        owner: str,
        now: float,
        seconds: float,
        replace: str | None = None,
    ) -> int | None:
        """Take the lease of a RUNNING execution unless another owner holds a live one
        (``replace`` names an owner known to be dead, whose lease may be taken).

        Returns the lease's generation, the fencing token its holder passes to
        :meth:`record` (one more than the previous holder's), or None when the lease is
        not free. Atomic across processes: two callers never both get it."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT owner, expires_at FROM leases WHERE execution_arn = ?", (execution_arn,)
            ).fetchone()
            if row is not None and row[0] not in (owner, replace, NOBODY) and row[1] > now:
                return None
            running = conn.execute(
                "SELECT 1 FROM executions WHERE arn = ? AND status = 'RUNNING'", (execution_arn,)
            ).fetchone()
            if running is None:
                return None
            conn.execute(
                "INSERT INTO lease_fences (execution_arn, generation) VALUES (?, 1) "
                "ON CONFLICT (execution_arn) DO UPDATE SET generation = generation + 1",
                (execution_arn,),
            )
            taken = conn.execute(
                "SELECT generation FROM lease_fences WHERE execution_arn = ?", (execution_arn,)
            ).fetchone()
            conn.execute(
                "INSERT OR REPLACE INTO leases (execution_arn, owner, expires_at) VALUES (?, ?, ?)",
                (execution_arn, owner, now + seconds),
            )
            return int(taken[0])

    def renew_lease(
        self, execution_arn: str, owner: str, generation: int, now: float, seconds: float
    ) -> bool:
        """Extend a lease this owner holds at ``generation``; False when it was taken over
        (its holder must then stop running the execution)."""
        with self._write() as conn:
            renewed = conn.execute(
                "UPDATE leases SET expires_at = ? WHERE execution_arn = ? AND owner = ? AND "
                "(SELECT generation FROM lease_fences WHERE execution_arn = ?) = ?",
                (now + seconds, execution_arn, owner, execution_arn, generation),
            ).rowcount
            return renewed == 1

    def lease_owner(self, execution_arn: str, now: float) -> str | None:
        """Who holds a live lease on the execution, if anyone."""
        rows = self._read(
            "SELECT owner FROM leases WHERE execution_arn = ? AND expires_at > ? AND owner != ?",
            (execution_arn, now, NOBODY),
        )
        return str(rows[0][0]) if rows else None

    def begin_redrive(self, execution_arn: str) -> int:
        """Mark a FAILED, ABORTED or TIMED_OUT execution RUNNING again for a redrive;
        return its new redrive count."""
        with self._write() as conn:
            conn.execute(
                "UPDATE executions SET status = 'RUNNING', output = NULL, error = NULL, "
                "cause = NULL, stop_time = NULL, redrive_count = redrive_count + 1 "
                "WHERE arn = ? AND status IN ('FAILED', 'ABORTED', 'TIMED_OUT')",
                (execution_arn,),
            )
            row = conn.execute(
                "SELECT status, redrive_count FROM executions WHERE arn = ?", (execution_arn,)
            ).fetchone()
            conn.execute("DELETE FROM stop_requests WHERE execution_arn = ?", (execution_arn,))
        if row is None or row[0] != "RUNNING":
            raise StoreError(f"the execution {execution_arn} cannot be redriven")
        return int(row[1])

    def request_stop(
        self, execution_arn: str, error: str | None, cause: str | None, now: float
    ) -> None:
        """Ask whoever runs the execution to abort it (see ``stop_request``)."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO stop_requests (execution_arn, error, cause, "
                "requested_at) VALUES (?, ?, ?, ?)",
                (execution_arn, error, cause, now),
            )

    def stop_request(self, execution_arn: str) -> tuple[str | None, str | None] | None:
        """The (error, cause) of a pending stop request, if any."""
        rows = self._read(
            "SELECT error, cause FROM stop_requests WHERE execution_arn = ?", (execution_arn,)
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def release_lease(self, execution_arn: str, owner: str) -> None:
        """Give up a lease (the execution ended, or its runner stops): a RUNNING execution
        is due again at once (an ended one has no lease row left)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE leases SET owner = ?, expires_at = 0 WHERE execution_arn = ? AND owner = ?",
                (NOBODY, execution_arn, owner),
            )

    def claimable(self, now: float, limit: int = 100) -> list[tuple[str, str | None]]:
        """RUNNING executions, oldest first, with the owner of their live lease (or None)."""
        rows = self._read(
            "SELECT e.arn, CASE WHEN l.expires_at > ? AND l.owner != '' THEN l.owner END "
            "FROM executions e "
            "LEFT JOIN leases l ON l.execution_arn = e.arn WHERE e.status = 'RUNNING' "
            "ORDER BY e.start_time LIMIT ?",
            (now, limit),
        )
        return [(str(arn), None if owner is None else str(owner)) for arn, owner in rows]

    # -- batches (asl serve; see runtime.durable.store.batches) -------------------------

    def claim_leases(
        self,
        owner: str,
        now: float,
        seconds: float,
        limit: int,
        replace: Collection[str] = (),
    ) -> list[tuple[str, int]]:
        """See :meth:`LeaseBatches.claim_leases`: one transaction, a range read of the
        lease rows due by ``now`` (plus those of the ``replace`` owners)."""
        if limit <= 0:
            return []
        if not replace and not self._read(
            "SELECT 1 FROM leases WHERE expires_at <= ? AND owner != ? LIMIT 1", (now, owner)
        ):
            return []  # nothing due: no write transaction (an idle poll stays a read)
        with self._write() as conn:
            rows = conn.execute(
                "SELECT execution_arn FROM leases WHERE expires_at <= ? AND owner != ? "
                "ORDER BY expires_at LIMIT ?",
                (now, owner, limit),
            ).fetchall()
            arns = [str(row[0]) for row in rows]
            for dead in replace:
                if len(arns) >= limit or dead in (owner, NOBODY):
                    continue
                more = conn.execute(
                    "SELECT execution_arn FROM leases WHERE owner = ? AND expires_at > ? LIMIT ?",
                    (dead, now, limit - len(arns)),
                ).fetchall()
                arns.extend(str(row[0]) for row in more)
            if not arns:
                return []
            conn.executemany(
                "INSERT INTO lease_fences (execution_arn, generation) VALUES (?, 1) "
                "ON CONFLICT (execution_arn) DO UPDATE SET generation = generation + 1",
                [(arn,) for arn in arns],
            )
            conn.executemany(
                "UPDATE leases SET owner = ?, expires_at = ? WHERE execution_arn = ?",
                [(owner, now + seconds, arn) for arn in arns],
            )
            taken: list[tuple[str, int]] = []
            for start in range(0, len(arns), 500):
                chunk = arns[start : start + 500]
                marks = ",".join("?" * len(chunk))
                taken.extend(
                    (str(arn), int(generation))
                    for arn, generation in conn.execute(
                        "SELECT execution_arn, generation FROM lease_fences "
                        f"WHERE execution_arn IN ({marks})",
                        chunk,
                    )
                )
            return taken

    def renew_leases(
        self, owner: str, held: Mapping[str, int], now: float, seconds: float
    ) -> tuple[set[str], StopRequests]:
        """See :meth:`LeaseBatches.renew_leases`: one UPDATE of every row ``owner`` holds;
        the rows are read back (with their generations) only when some are missing."""
        if not held:
            return set(), {}
        with self._write() as conn:
            renewed = conn.execute(
                "UPDATE leases SET expires_at = ? WHERE owner = ?", (now + seconds, owner)
            ).rowcount
            lost: set[str] = set()
            if renewed != len(held):
                mine = dict(
                    conn.execute(
                        "SELECT l.execution_arn, f.generation FROM leases l JOIN lease_fences f "
                        "ON f.execution_arn = l.execution_arn WHERE l.owner = ?",
                        (owner,),
                    ).fetchall()
                )
                lost = {arn for arn, generation in held.items() if mine.get(arn) != generation}
            stops = {
                str(arn): (error, cause)
                for arn, error, cause in conn.execute(
                    "SELECT s.execution_arn, s.error, s.cause FROM stop_requests s "
                    "JOIN leases l ON l.execution_arn = s.execution_arn WHERE l.owner = ?",
                    (owner,),
                )
                if arn in held and arn not in lost
            }
        return lost, stops

    def lease_holders(self, now: float) -> list[str]:
        """See :meth:`LeaseBatches.lease_holders`: a skip scan of the owner index, one
        probe per distinct owner."""
        rows = self._read(
            "WITH RECURSIVE o(owner) AS (SELECT min(owner) FROM leases WHERE owner > ? "
            "UNION ALL SELECT (SELECT min(owner) FROM leases WHERE owner > o.owner) FROM o "
            "WHERE o.owner IS NOT NULL) SELECT owner FROM o WHERE owner IS NOT NULL",
            (NOBODY,),
        )
        return [str(row[0]) for row in rows]

    def park_lease(self, execution_arn: str, owner: str, generation: int, wake_at: float) -> bool:
        """See :meth:`LeaseBatches.park_lease`: the row goes to nobody, due at ``wake_at``."""
        with self._write() as conn:
            parked = conn.execute(
                "UPDATE leases SET owner = ?, expires_at = ? WHERE execution_arn = ? AND "
                "owner = ? AND (SELECT generation FROM lease_fences WHERE execution_arn = ?) = ?",
                (NOBODY, wake_at, execution_arn, owner, execution_arn, generation),
            ).rowcount
        return parked == 1

    def parked_until(self, execution_arn: str, now: float) -> float | None:
        """See :meth:`LeaseBatches.parked_until`."""
        rows = self._read(
            "SELECT expires_at FROM leases WHERE execution_arn = ? AND owner = ? "
            "AND expires_at > ?",
            (execution_arn, NOBODY, now),
        )
        return float(rows[0][0]) if rows else None

    def change_marker(self) -> object | None:
        """See :meth:`LeaseBatches.change_marker`: ``PRAGMA data_version``."""
        rows = self._read("PRAGMA data_version", ())
        return int(rows[0][0]) if rows else None

    def next_wake(self, now: float) -> float | None:
        """See :meth:`LeaseBatches.next_wake`: the smallest ``expires_at`` after ``now``."""
        rows = self._read("SELECT min(expires_at) FROM leases WHERE expires_at > ?", (now,))
        return None if not rows or rows[0][0] is None else float(rows[0][0])

    def record_many(self, items: Sequence[tuple[str, HistoryEvent, int | None]]) -> set[str]:
        """See :meth:`LeaseBatches.record_many`: one transaction for the whole batch."""
        refused: set[str] = set()
        if not items:
            return refused
        # Encoded before the write lock is taken: the other processes of
        # ``asl serve --workers N`` wait for the commit only, not for the JSON.
        rows = [(_event_row(arn, event), fence) for arn, event, fence in items]
        with self._write() as conn:
            for row, fence in rows:
                execution_arn = row[0][0]
                if execution_arn in refused:
                    continue
                if not _insert(conn, row, fence):
                    refused.add(execution_arn)
        return refused

    def list_executions(
        self,
        state_machine: str | None = None,
        status: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = 100,
    ) -> list[ExecutionSummary]:
        """Executions, newest first; ``state_machine`` is a name or an ARN; times filter
        the start time (``since`` inclusive, ``until`` exclusive); ``limit`` None is all."""
        where, params = _filters(state_machine, status, since, until)
        sql = f"SELECT {_SUMMARY_COLUMNS} FROM executions{where} ORDER BY start_time DESC, arn"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [ExecutionSummary(*row) for row in self._read(sql, params)]

    def get_execution(self, ref: str) -> ExecutionRecord:
        """The execution whose ARN or name is ``ref``, or whose name or ARN starts with it.

        Raises :class:`ExecutionNotFound` or :class:`AmbiguousExecution`.
        """
        select = f"SELECT {_RECORD_COLUMNS} FROM executions WHERE "
        pattern = _like_prefix(ref)
        for where, params in (
            ("arn = ?", (ref,)),
            ("name = ?", (ref,)),
            ("name LIKE ? ESCAPE '\\' OR arn LIKE ? ESCAPE '\\'", (pattern, pattern)),
        ):
            rows = self._read(f"{select}{where} ORDER BY start_time DESC LIMIT 6", params)
            if len(rows) == 1:
                return ExecutionRecord(*rows[0])
            if rows:
                names = ", ".join(str(row[0]) for row in rows[:5])
                more = ", ..." if len(rows) > 5 else ""
                raise AmbiguousExecution(f"'{ref}' matches several executions: {names}{more}")
        raise ExecutionNotFound(f"no execution matches '{ref}' in {self.path}")

    def launch_options(self, execution_arn: str) -> dict[str, Any]:
        """How the execution was started (see ``ExecutionInfo.options``); {} if unknown."""
        rows = self._read("SELECT options FROM executions WHERE arn = ?", (execution_arn,))
        text = rows[0][0] if rows else None
        value = json.loads(text) if text else {}
        return value if isinstance(value, dict) else {}

    def recorded(self, execution_arn: str) -> list[RecordedEvent]:
        """The execution's events with exact timestamps, for resuming it."""
        rows = self._read(
            "SELECT id, previous_event_id, type, timestamp, details FROM events "
            "WHERE execution_arn = ? ORDER BY id",
            (execution_arn,),
        )
        return [
            RecordedEvent(int(i), int(prev), str(kind), float(ts), json.loads(d) if d else {})
            for i, prev, kind, ts, d in rows
        ]

    def history(self, execution_arn: str, reverse: bool = False) -> list[dict[str, Any]]:
        """The execution's events as ``GetExecutionHistory`` returns its ``events``."""
        order = "DESC" if reverse else "ASC"
        rows = self._read(
            "SELECT id, previous_event_id, type, timestamp, details FROM events "
            f"WHERE execution_arn = ? ORDER BY id {order}",
            (execution_arn,),
        )
        return [_event_item(*row) for row in rows]

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc}") from exc


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


#: An event as the store writes it: its ``events`` row, and for a closing event the
#: execution's outcome (status, output, error, cause, stop time, ARN).
_EventRow = tuple[tuple[Any, ...], tuple[Any, ...] | None]


def _event_row(execution_arn: str, event: HistoryEvent) -> _EventRow:
    """Encode ``event`` for :func:`_insert` (no store access)."""
    exported = None if event.details is None else export_details(event.details)
    row = (
        execution_arn,
        event.id,
        event.previous_event_id,
        event.type,
        event.timestamp,
        None if exported is None else dumps(exported),
    )
    status = CLOSING_STATUS.get(event.type)
    if status is None:
        return row, None
    details = event.details or {}
    output = dumps(details["output"]) if "output" in details else None
    outcome = (status, output, details.get("error"), details.get("cause"))
    return row, (*outcome, event.timestamp, execution_arn)


def _insert(conn: sqlite3.Connection, encoded: _EventRow, fence: int | None) -> bool:
    """Insert one event (see :func:`_event_row`) in the caller's transaction (a closing
    event also sets the execution's outcome); False, inserting nothing, when ``fence`` is
    stale."""
    row, finish = encoded
    if fence is None:
        conn.execute(_INSERT_EVENT, row)
    elif conn.execute(_INSERT_FENCED_EVENT, (*row, row[0], fence)).rowcount != 1:
        return False
    if finish is not None:
        conn.execute(_FINISH, finish)
    return True


def _stale(execution_arn: str, fence: int | None) -> LeaseLost:
    return LeaseLost(
        f"the execution {execution_arn} was taken over by another process (lease "
        f"generation {fence} is stale): this process stops running it and writes nothing"
    )


def _filters(
    state_machine: str | None, status: str | None, since: float | None, until: float | None
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if state_machine is not None:
        column = "state_machine_arn" if state_machine.startswith("arn:") else "state_machine_name"
        clauses.append(f"{column} = ?")
        params.append(state_machine)
    if status is not None:
        clauses.append("status = ?")
        params.append(status)
    if since is not None:
        clauses.append("start_time >= ?")
        params.append(since)
    if until is not None:
        clauses.append("start_time < ?")
        params.append(until)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _event_item(
    id: int, prev: int, type: str, timestamp: float, details: str | None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "timestamp": iso_timestamp(timestamp),
        "type": type,
        "id": id,
        "previousEventId": prev,
    }
    if details is not None:
        item[details_key(type)] = json.loads(details)
    return item


def _create_private(path: Path) -> None:
    """Create the store file readable by its owner only (it holds execution inputs and
    outputs); SQLite gives its -wal and -shm files the same mode. New folders are the
    owner's only too. An existing file keeps the mode its owner chose."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
    except OSError as exc:
        raise StoreError(f"cannot open the store {path}: {exc.strerror or exc}") from exc
