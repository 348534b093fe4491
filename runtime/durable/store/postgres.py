"""The store on PostgreSQL, for a fleet of ``asl serve`` processes sharing one database.

``--store postgresql://USER@HOST:PORT/DB`` (or ``ASL_STORE=postgresql://...``; also
``postgres://``) selects it (:func:`runtime.durable.store.sqlite.Store.open` is the one
place that looks at the scheme). The driver is psycopg 3; credentials come from the URL,
``PGPASSWORD`` or ``~/.pgpass`` as libpq reads them. The database must exist; its tables
are made by the same migrations as a SQLite store (:mod:`runtime.durable.store.schema`,
translated statement by statement by :func:`translate_migration`), one transaction each
under an advisory lock, so processes starting together migrate it once.

Concurrency. SQLite serialises every write (``BEGIN IMMEDIATE``) and the store's methods
rely on that. Here:

* the paths every transition takes never wait on each other across executions: an
  event write locks only its execution's ``lease_fences`` row (``FOR SHARE``) and checks
  the writer's generation under that lock, so a takeover (which updates that row) and a
  stale write cannot interleave; taking a lease locks the execution's row and its lease
  row with ``FOR NO KEY UPDATE SKIP LOCKED`` (rows another server is claiming right now
  are skipped, not waited for); leases are renewed per execution or in one statement for
  many (:meth:`PostgresStore.renew_leases`), and parked in one statement;
* every other write (schedules and their firings, state machines, Map Runs, redrives,
  callback answers) takes one transaction-level advisory lock first, which gives them
  the guarantee SQLite gives: read-then-write sequences (a schedule firing checking that
  its time was not fired yet) see no concurrent writer. A schedule's firing is therefore
  made once across the fleet, as on one host.

Statements shared with the SQLite store are translated once each (:func:`translate`):
``?`` placeholders, ``INSERT OR IGNORE``/``REPLACE`` as ``ON CONFLICT``, the two-argument
``MAX`` as ``GREATEST``, ``LIKE`` (which ignores case in SQLite) as ``ILIKE``; a
statement the translator does not know how to carry over is an error naming it, never a
silent mistranslation.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, cast

from runtime.durable.store.batches import NOBODY, LeaseBatches, StopRequests
from runtime.durable.store.errors import ExecutionAlreadyExists, SchemaTooNew, StoreError
from runtime.durable.store.records import CLOSING_STATUS, ExecutionInfo
from runtime.durable.store.schema import LATEST_VERSION, MIGRATIONS, split_statements
from runtime.durable.store.sqlite import Store, _stale, dumps, register_backend
from runtime.engine.events import HistoryEvent, export_details

__all__ = [
    "SCHEMES",
    "PostgresStore",
    "is_postgres_url",
    "redact",
    "translate",
    "translate_migration",
]

#: URL schemes that select this backend.
SCHEMES = ("postgresql://", "postgres://")

#: Advisory lock keys (any two 64-bit numbers no other user of the database picks).
_WRITE_LOCK = 0x61736C5F7772  # "asl_wr"
_MIGRATE_LOCK = 0x61736C5F6D67  # "asl_mg"

#: The conflict target of each table a shared statement replaces rows of.
_KEYS = {
    "leases": "execution_arn",
    "stop_requests": "execution_arn",
    "schedule_firings": "schedule_name, scheduled_time",
    "state_machines": "arn",
    "state_machine_aliases": "arn",
    "tags": "resource_arn, key",
    "token_secret": "id",
    "activities": "arn",
}

_INSERT_EVENT = (
    "INSERT INTO events (execution_arn, id, previous_event_id, type, timestamp, details) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
#: Nothing is inserted unless the writer's lease generation is current; the fence row is
#: share-locked until the statement commits.
_INSERT_FENCED_EVENT = (
    "WITH fence AS (SELECT 1 FROM lease_fences WHERE execution_arn = %s AND generation = %s "
    "FOR SHARE) INSERT INTO events (execution_arn, id, previous_event_id, type, timestamp, "
    "details) SELECT %s, %s, %s, %s, %s, %s FROM fence"
)
#: An event insert, then the execution's outcome when the insert was made.
_FINISHING = (
    "WITH written AS ({insert} RETURNING 1) UPDATE executions SET status = %s, output = %s, "
    "error = %s, cause = %s, stop_time = %s WHERE arn = %s AND EXISTS (SELECT 1 FROM written)"
)

#: Columns PostgreSQL needs beside a migration's, by the version the migration reaches:
#: ``map_runs`` are listed in insertion order, which SQLite reads from its ``rowid``.
_EXTRA = {9: ("ALTER TABLE map_runs ADD COLUMN seq BIGSERIAL",)}

#: Migrations PostgreSQL runs in its own statements, by the version they start from:
#: the due-time migration (11 -> 12) keeps a lease row beside every RUNNING execution
#: with SQLite triggers, which PostgreSQL writes as one PL/pgSQL trigger function. Same
#: indexes, same rows, same behaviour (see ``_DUE_TIMES`` in the schema module).
_OWN: dict[int, tuple[str, ...]] = {
    11: (
        "CREATE INDEX leases_by_expiry ON leases (expires_at)",
        "CREATE INDEX leases_by_owner ON leases (owner)",
        """CREATE FUNCTION asl_executions_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'RUNNING' THEN
            INSERT INTO leases (execution_arn, owner, expires_at)
            VALUES (NEW.arn, '', NEW.start_time) ON CONFLICT (execution_arn) DO NOTHING;
        END IF;
    ELSIF NEW.status = 'RUNNING' AND OLD.status <> 'RUNNING' THEN
        INSERT INTO leases (execution_arn, owner, expires_at)
        VALUES (NEW.arn, '', 0) ON CONFLICT (execution_arn) DO NOTHING;
    ELSIF NEW.status <> 'RUNNING' THEN
        DELETE FROM leases WHERE execution_arn = NEW.arn;
    END IF;
    RETURN NULL;
END
$$""",
        "CREATE TRIGGER executions_due AFTER INSERT OR UPDATE OF status ON executions "
        "FOR EACH ROW EXECUTE FUNCTION asl_executions_due()",
        "DELETE FROM leases WHERE execution_arn IN "
        "(SELECT arn FROM executions WHERE status <> 'RUNNING')",
        "INSERT INTO leases (execution_arn, owner, expires_at) SELECT arn, '', start_time "
        "FROM executions WHERE status = 'RUNNING' ON CONFLICT (execution_arn) DO NOTHING",
    ),
}

_SQLITE_ONLY = re.compile(
    r"\b(AUTOINCREMENT|PRAGMA|GLOB|IFNULL|julianday|strftime|group_concat|sqlite_\w+|"
    r"CREATE\s+TRIGGER|WITHOUT\s+ROWID|INSERT\s+OR|REPLACE\s+INTO)\b",
    re.IGNORECASE,
)


def is_postgres_url(location: str) -> bool:
    """True when ``location`` names a PostgreSQL database rather than a store file."""
    return location.startswith(SCHEMES)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"^(\w+://[^:/@]*):[^@/]*@", r"\1:***@", url)


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """A statement of the SQLite store in PostgreSQL's dialect, with psycopg's ``%s``.

    Raises :class:`StoreError` for SQLite-only syntax it does not translate.
    """
    text = sql.replace("%", "%%")
    upsert = re.match(
        r"\s*(?:INSERT\s+OR\s+(REPLACE|IGNORE)|REPLACE)\s+INTO\s+(\w+)\s*\(([^)]*)\)(.*)$",
        text,
        re.IGNORECASE | re.DOTALL,
    )
    if upsert is not None:
        mode, table, columns, rest = upsert.groups()
        if table not in _KEYS:
            raise StoreError(f"the PostgreSQL store cannot translate (table {table}): {sql}")
        head = f"INSERT INTO {table} ({columns}){rest}"
        keys = _KEYS[table]
        if mode is not None and mode.upper() == "IGNORE":
            text = f"{head} ON CONFLICT ({keys}) DO NOTHING"
        else:
            key_set = {k.strip() for k in keys.split(",")}
            updates = [c.strip() for c in columns.split(",") if c.strip() not in key_set]
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
            text = f"{head} ON CONFLICT ({keys}) DO UPDATE SET {sets}"
    # SQLite's scalar MAX(a, b) (two arguments) is GREATEST; the aggregate keeps MAX.
    text = re.sub(r"\bMAX\(([^(),]+),([^(),]+)\)", r"GREATEST(\1,\2)", text, flags=re.I)
    text = re.sub(r"\bMIN\(([^(),]+),([^(),]+)\)", r"LEAST(\1,\2)", text, flags=re.I)
    text = re.sub(r"\browid\b", "seq", text)
    # SQLite's LIKE ignores ASCII case (a name prefix in `asl history` does too).
    text = re.sub(r"\bLIKE\b", "ILIKE", text)
    if _SQLITE_ONLY.search(text):
        raise StoreError(f"the PostgreSQL store cannot translate: {sql}")
    return text.replace("?", "%s")


def translate_migration(version: int) -> list[str]:
    """The statements of ``MIGRATIONS[version]`` in PostgreSQL's dialect (plus the
    columns of :data:`_EXTRA`): SQLite's ``REAL`` is a 64-bit float (``DOUBLE
    PRECISION``), its ``INTEGER`` 64 bits (``BIGINT``), ``BLOB`` is ``BYTEA``, and text
    compares byte by byte (``COLLATE "C"``) as SQLite's does, whatever the database's
    locale: listings order and page the same on both backends.

    A migration PostgreSQL has its own statements for (:data:`_OWN`) runs those."""
    if version in _OWN:
        return [*_OWN[version], *_EXTRA.get(version + 1, ())]
    statements = []
    for statement in split_statements(MIGRATIONS[version]):
        text = re.sub(r"\)\s*WITHOUT\s+ROWID", ")", statement, flags=re.I)
        text = re.sub(r"\bREAL\b", "DOUBLE PRECISION", text)
        text = re.sub(r"\bINTEGER\b", "BIGINT", text)
        text = re.sub(r"\bBLOB\b", "BYTEA", text)
        text = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', text)
        code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
        if _SQLITE_ONLY.search(code):
            raise StoreError(
                f"schema migration {version} -> {version + 1} has SQLite-only syntax the "
                f"PostgreSQL store does not translate: {statement.splitlines()[0]}"
            )
        statements.append(text)
    statements.extend(_EXTRA.get(version + 1, ()))
    return statements


class _Conflict(sqlite3.IntegrityError):
    """A PostgreSQL integrity error (a unique key, a foreign key) as the store's shared
    code recognises one: the cause of the :class:`StoreError` a write raises."""


class _Connection:
    """psycopg's connection with the calls the shared store code makes of sqlite3's:
    ``execute`` (translated), ``executemany``, ``close``."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(translate(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        cursor = self.raw.cursor()
        cursor.executemany(translate(sql), list(rows))
        return cursor

    def close(self) -> None:
        self.raw.close()


class PostgresStore(Store):
    """A store in a PostgreSQL database; one connection, used from one thread.

    Open it with :meth:`Store.open` and a ``postgresql://`` URL. :attr:`path` is the URL
    without its password."""

    __slots__ = ("_url",)

    _conn: Any

    #: ``asl serve`` renews this store's leases from a thread with a connection of its
    #: own (:mod:`runtime.durable.fleet`).
    renews_from_a_thread = True

    def __init__(self, raw: Any, url: str) -> None:
        super().__init__(cast(Any, _Connection(raw)), redact(url))
        self._url = url

    @classmethod
    def connect(cls, url: str, *, create: bool = True) -> PostgresStore:
        """Connect to the database at ``url`` and migrate it (see the module docstring)."""
        raw = _connect(url)
        try:
            version = _migrate(raw, redact(url), create)
        except BaseException:
            raw.close()
            raise
        if version == 0:
            raw.close()
            raise StoreError(f"no store at {redact(url)} (asl serve or asl exec creates it)")
        return cls(raw, url)

    @property
    def url(self) -> str:
        """The database's URL, with its password (for a second connection)."""
        return self._url

    def _ensure(self) -> Any:
        """The live connection, connecting again once if the server dropped it."""
        raw = self._conn.raw
        if raw.closed or raw.broken:
            raw = _connect(self._url)
            self._conn.raw = raw
        return raw

    @contextmanager
    def _transaction(self, serialised: bool) -> Iterator[Any]:
        import psycopg

        try:
            raw = self._ensure()
            with raw.transaction():
                if serialised:
                    raw.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
                yield self._conn
        except psycopg.Error as exc:
            cause: BaseException = exc
            if isinstance(exc, psycopg.IntegrityError):
                cause = _Conflict(str(exc))
            raise StoreError(f"cannot write to the store {self.path}: {exc}") from cause

    def _one(self, sql: str, params: Sequence[Any]) -> Any:
        """Run one statement in its own transaction (autocommit: one round trip)."""
        import psycopg

        try:
            return self._ensure().execute(sql, params)
        except psycopg.Error as exc:
            cause: BaseException = exc
            if isinstance(exc, psycopg.IntegrityError):
                cause = _Conflict(str(exc))
            raise StoreError(f"cannot write to the store {self.path}: {exc}") from cause

    def _write(self) -> Any:
        """A transaction serialised with every other one that uses it (see the module
        docstring): the shared store code's read-then-write steps stay race-free."""
        return self._transaction(serialised=True)

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        import psycopg

        try:
            raw = self._ensure()
            return cast(list[tuple[Any, ...]], raw.execute(translate(sql), params).fetchall())
        except psycopg.Error as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc}") from exc

    # -- the paths of every transition: row locks, no store-wide lock -------------------

    def begin_execution(self, info: ExecutionInfo, input: Any, start_time: float) -> None:
        """Store a new RUNNING execution. Raises :class:`ExecutionAlreadyExists`."""
        row = self._execution_row(info, input, start_time)
        inserted = self._one(
            "INSERT INTO executions (arn, name, state_machine_name, state_machine_arn, "
            "definition, input, status, start_time, redrive_count, options) "
            "VALUES (%s, %s, %s, %s, %s, %s, 'RUNNING', %s, %s, %s) "
            "ON CONFLICT (arn) DO NOTHING",
            row,
        ).rowcount
        if inserted != 1:
            raise ExecutionAlreadyExists(f"Execution Already Exists: '{info.arn}'")

    def record(self, execution_arn: str, event: HistoryEvent, fence: int | None = None) -> None:
        """Commit one history event (see :meth:`Store.record`) in one statement, so one
        round trip: the fence is checked under a share lock of the execution's fence row
        (a takeover, which updates that row, waits for it), and a closing event sets the
        execution's outcome in the same statement."""

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
        params: tuple[Any, ...]
        if fence is None:
            sql, params = _INSERT_EVENT, row
        else:
            sql, params = _INSERT_FENCED_EVENT, (execution_arn, fence, *row)
        if status is not None:
            details = event.details or {}
            output = dumps(details["output"]) if "output" in details else None
            outcome = (status, output, details.get("error"), details.get("cause"))
            sql = _FINISHING.format(insert=sql)
            params = (*params, *outcome, event.timestamp, execution_arn)
        written = self._one(sql, params).rowcount
        if written != 1 and fence is not None:
            raise _stale(execution_arn, fence)

    def acquire_lease(
        self,
        execution_arn: str,
        owner: str,
        now: float,
        seconds: float,
        replace: str | None = None,
    ) -> int | None:
        """Take the lease of a RUNNING execution (see :meth:`Store.acquire_lease`): free
        when nobody runs it (owner :data:`NOBODY`), when it expired, or when its holder is
        ``owner`` or ``replace``. The execution's and its lease's rows are claimed ``FOR
        NO KEY UPDATE SKIP LOCKED``: while another server claims it, this one gets None at
        once instead of waiting."""
        with self._transaction(serialised=False) as conn:
            raw = conn.raw
            held = raw.execute(
                "SELECT l.owner, l.expires_at FROM executions e JOIN leases l "
                "ON l.execution_arn = e.arn WHERE e.arn = %s AND e.status = 'RUNNING' "
                "FOR NO KEY UPDATE OF e, l SKIP LOCKED",
                (execution_arn,),
            ).fetchone()
            if held is None:
                return None  # not RUNNING, or being claimed by another server right now
            if held[0] not in (owner, replace, NOBODY) and held[1] > now:
                return None
            return _take(raw, [execution_arn], owner, now + seconds)[execution_arn]

    def claim_leases(
        self,
        owner: str,
        now: float,
        seconds: float,
        limit: int,
        replace: Collection[str] = (),
    ) -> list[tuple[str, int]]:
        """See :meth:`LeaseBatches.claim_leases`: one transaction, a range read of the
        lease rows due by ``now`` (``leases_by_expiry``), longest due first, plus the live
        leases of the ``replace`` owners. The rows are taken ``FOR NO KEY UPDATE SKIP
        LOCKED``, so servers claiming at once split the work instead of queueing on the
        same rows."""
        if limit <= 0:
            return []
        with self._transaction(serialised=False) as conn:
            raw = conn.raw
            rows = raw.execute(
                "SELECT l.execution_arn FROM leases l JOIN executions e "
                "ON e.arn = l.execution_arn WHERE l.expires_at <= %s AND l.owner <> %s "
                "AND e.status = 'RUNNING' ORDER BY l.expires_at LIMIT %s "
                "FOR NO KEY UPDATE OF l, e SKIP LOCKED",
                (now, owner, limit),
            ).fetchall()
            arns = [str(row[0]) for row in rows]
            dead = [h for h in replace if h not in (owner, NOBODY)]
            if dead and len(arns) < limit:
                more = raw.execute(
                    "SELECT l.execution_arn FROM leases l JOIN executions e "
                    "ON e.arn = l.execution_arn WHERE l.owner = ANY(%s) AND l.expires_at > %s "
                    "AND e.status = 'RUNNING' LIMIT %s FOR NO KEY UPDATE OF l, e SKIP LOCKED",
                    (dead, now, limit - len(arns)),
                ).fetchall()
                arns.extend(str(row[0]) for row in more)
            if not arns:
                return []
            taken = _take(raw, arns, owner, now + seconds)
            return [(arn, taken[arn]) for arn in arns]

    def renew_lease(
        self, execution_arn: str, owner: str, generation: int, now: float, seconds: float
    ) -> bool:
        """Extend a lease this owner holds at ``generation``; False when taken over."""
        return bool(self._renew(owner, {execution_arn: generation}, now + seconds))

    def renew_leases(
        self, owner: str, held: Mapping[str, int], now: float, seconds: float
    ) -> tuple[set[str], StopRequests]:
        """See :meth:`LeaseBatches.renew_leases`: one statement extends every lease of
        ``held`` this owner still holds at that generation, one query reads the stop
        requests of those renewed."""
        if not held:
            return set(), {}
        renewed = self._renew(owner, held, now + seconds)
        return set(held) - renewed, self.stop_requests_for(sorted(renewed))

    def _renew(self, owner: str, held: Mapping[str, int], expires_at: float) -> set[str]:
        arns = list(held)
        rows = self._one(
            "UPDATE leases l SET expires_at = %s FROM unnest(%s::text[], %s::bigint[]) "
            "AS h(arn, generation), lease_fences f WHERE l.execution_arn = h.arn AND "
            "f.execution_arn = h.arn AND f.generation = h.generation AND l.owner = %s "
            "RETURNING l.execution_arn",
            (expires_at, arns, [held[a] for a in arns], owner),
        ).fetchall()
        return {str(row[0]) for row in rows}

    def stop_requests_for(self, execution_arns: Sequence[str]) -> StopRequests:
        """The pending stop requests (error, cause) of these executions, by ARN."""
        if not execution_arns:
            return {}
        rows = self._read(
            "SELECT execution_arn, error, cause FROM stop_requests WHERE execution_arn = ANY(?)",
            (list(execution_arns),),
        )
        return {str(arn): (error, cause) for arn, error, cause in rows}

    def release_lease(self, execution_arn: str, owner: str) -> None:
        """Give up a lease (the execution ended, or its runner stops): a RUNNING execution
        is due again at once (an ended one has no lease row left)."""
        self._one(
            "UPDATE leases SET owner = %s, expires_at = 0 WHERE execution_arn = %s AND owner = %s",
            (NOBODY, execution_arn, owner),
        )

    def park_lease(self, execution_arn: str, owner: str, generation: int, wake_at: float) -> bool:
        """See :meth:`LeaseBatches.park_lease`: the row goes to nobody, due at ``wake_at``
        (one statement, checked against the lease's generation)."""
        parked = self._one(
            "UPDATE leases l SET owner = %s, expires_at = %s FROM lease_fences f "
            "WHERE l.execution_arn = %s AND l.owner = %s AND f.execution_arn = l.execution_arn "
            "AND f.generation = %s",
            (NOBODY, wake_at, execution_arn, owner, generation),
        ).rowcount
        return bool(parked == 1)

    def change_marker(self) -> object | None:
        """Unknown on PostgreSQL (other servers write at any time): serve reads on every
        poll."""
        return None

    def record_many(self, items: Sequence[tuple[str, HistoryEvent, int | None]]) -> set[str]:
        """See :meth:`LeaseBatches.record_many`: one :meth:`record` (one round trip, no
        store-wide lock) per event, in order."""
        return LeaseBatches.record_many(self, items)


def _take(raw: Any, arns: list[str], owner: str, expires_at: float) -> dict[str, int]:
    """Move the fence of each execution on and give ``owner`` its lease (the caller
    holds the executions' rows locked)."""
    rows = raw.execute(
        "INSERT INTO lease_fences (execution_arn, generation) SELECT arn, 1 FROM "
        "unnest(%s::text[]) AS t(arn) ON CONFLICT (execution_arn) DO UPDATE SET "
        "generation = lease_fences.generation + 1 RETURNING execution_arn, generation",
        (arns,),
    ).fetchall()
    raw.execute(
        "INSERT INTO leases (execution_arn, owner, expires_at) SELECT arn, %s, %s FROM "
        "unnest(%s::text[]) AS t(arn) ON CONFLICT (execution_arn) DO UPDATE SET "
        "owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at",
        (owner, expires_at, arns),
    )
    return {str(arn): int(generation) for arn, generation in rows}


def _connect(url: str) -> Any:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        raise StoreError(
            f"the store {redact(url)} is a PostgreSQL database: install psycopg "
            "(pip install 'psycopg[binary]')"
        ) from None
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"cannot open the store {redact(url)}: {message}") from exc


def _migrate(raw: Any, location: str, create: bool) -> int:
    """Apply the pending migrations, one transaction each; return the version reached
    (0 when ``create`` is false and the database holds no store)."""
    import psycopg

    try:
        while True:
            with raw.transaction():
                raw.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
                version = _version(raw)
                if version > LATEST_VERSION:
                    raise SchemaTooNew(
                        f"{location} has schema version {version}; this asl-runtime reads "
                        f"up to version {LATEST_VERSION} (upgrade asl-runtime)"
                    )
                if version >= LATEST_VERSION or (version == 0 and not create):
                    return version
                if version == 0:
                    raw.execute("CREATE TABLE schema_version (version BIGINT NOT NULL)")
                    raw.execute("INSERT INTO schema_version (version) VALUES (0)")
                for statement in translate_migration(version):
                    raw.execute(statement)
                raw.execute("UPDATE schema_version SET version = %s", (version + 1,))
    except psycopg.Error as exc:
        raise StoreError(f"cannot open the store {location}: {exc}") from exc


def _version(raw: Any) -> int:
    exists = raw.execute("SELECT to_regclass('schema_version')").fetchone()[0]
    if exists is None:
        return 0
    row = raw.execute("SELECT version FROM schema_version").fetchone()
    return 0 if row is None else int(row[0])


def _open(url: str, create: bool) -> Store:
    return PostgresStore.connect(url, create=create)


register_backend(SCHEMES, _open)
