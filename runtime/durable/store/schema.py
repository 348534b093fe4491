"""The store's schema: a version number and the forward migrations that reach it.

``MIGRATIONS[n]`` takes a store from version ``n`` to ``n + 1``; version 0 is an empty
file. Each migration runs inside one ``BEGIN IMMEDIATE`` transaction together with the
update of ``schema_version``, so a crash leaves the store at the old version or the new
one, never half-way, and two processes opening a fresh store at once do not both apply
it (the second one waits for the write lock, then sees the new version).

Versions never change once released: a later feature adds a migration.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from runtime.durable.store.errors import SchemaTooNew

__all__ = ["LATEST_VERSION", "MIGRATIONS", "current_version", "migrate", "split_statements"]

_V1_TABLES = """
-- One row per execution; the history in ``events`` is the source of truth and the
-- status columns mirror its closing event.
CREATE TABLE executions (
    arn                TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    state_machine_name TEXT NOT NULL,
    state_machine_arn  TEXT NOT NULL,
    definition         TEXT NOT NULL,          -- JSON document
    input              TEXT NOT NULL,          -- JSON document
    status             TEXT NOT NULL CHECK (status IN
        ('RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE')),
    output             TEXT,                   -- JSON document, SUCCEEDED only
    error              TEXT,
    cause              TEXT,
    start_time         REAL NOT NULL,          -- seconds since the Unix epoch
    stop_time          REAL,
    redrive_count      INTEGER NOT NULL DEFAULT 0
);
-- One row per history event, numbered as AWS numbers them (id, previousEventId).
CREATE TABLE events (
    execution_arn     TEXT NOT NULL REFERENCES executions (arn) ON DELETE CASCADE,
    id                INTEGER NOT NULL,
    previous_event_id INTEGER NOT NULL,
    type              TEXT NOT NULL,
    timestamp         REAL NOT NULL,           -- seconds since the Unix epoch
    details           TEXT,                    -- JSON: the <type>EventDetails member, as
                                               -- GetExecutionHistory exports it
    PRIMARY KEY (execution_arn, id)
) WITHOUT ROWID;
"""

_V2_AUDIT_INDEXES = """
-- What `asl executions` filters on; newest first.
CREATE INDEX executions_by_start ON executions (start_time);
CREATE INDEX executions_by_machine ON executions (state_machine_name, start_time);
CREATE INDEX executions_by_status ON executions (status, start_time);
CREATE INDEX executions_by_name ON executions (name);
"""

_V3_LAUNCH_OPTIONS = """
-- How the execution was started (clock, mocks, local functions...), as JSON, so that
-- `asl resume` continues it with the same task routing.
ALTER TABLE executions ADD COLUMN options TEXT;
"""

_V4_LEASES = """
-- Which process runs a RUNNING execution, until when. A process renews its leases while
-- it runs them; once a lease expires (the process died), `asl serve` may take over.
CREATE TABLE leases (
    execution_arn TEXT PRIMARY KEY REFERENCES executions (arn) ON DELETE CASCADE,
    owner         TEXT NOT NULL,
    expires_at    REAL NOT NULL            -- seconds since the Unix epoch
);
"""

_V5_STOP_REQUESTS = """
-- `asl stop` on an execution another process runs: the runner reads the request when it
-- renews its lease and aborts the execution with this error and cause.
CREATE TABLE stop_requests (
    execution_arn TEXT PRIMARY KEY REFERENCES executions (arn) ON DELETE CASCADE,
    error         TEXT,
    cause         TEXT,
    requested_at  REAL NOT NULL
);
"""

_V6_STATE_MACHINES = """
-- State machines created through the Step Functions API (`asl serve --api`), with the
-- definition exactly as the client sent it. Executions copy their definition, so
-- updating or deleting a state machine never changes an execution's history.
CREATE TABLE state_machines (
    arn           TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    type          TEXT NOT NULL CHECK (type IN ('STANDARD', 'EXPRESS')),
    definition    TEXT NOT NULL,           -- JSON text, as sent
    role_arn      TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    logging       TEXT,                    -- JSON: loggingConfiguration
    tracing       TEXT,                    -- JSON: tracingConfiguration
    revision_id   TEXT NOT NULL,
    creation_date REAL NOT NULL,           -- seconds since the Unix epoch
    update_date   REAL NOT NULL
);
-- Published versions of a state machine (PublishStateMachineVersion, publish=true):
-- immutable copies, numbered from 1 and never reused.
CREATE TABLE state_machine_versions (
    machine_arn   TEXT NOT NULL,
    version       INTEGER NOT NULL,
    definition    TEXT NOT NULL,
    role_arn      TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    revision_id   TEXT NOT NULL,
    creation_date REAL NOT NULL,
    PRIMARY KEY (machine_arn, version)
) WITHOUT ROWID;
-- Aliases: a name routing executions to one or two versions by weight.
CREATE TABLE state_machine_aliases (
    arn           TEXT PRIMARY KEY,
    machine_arn   TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    routing       TEXT NOT NULL,           -- JSON: routingConfiguration
    creation_date REAL NOT NULL,
    update_date   REAL NOT NULL
);
-- Activities created through the API (CreateActivity); their task queues live in the
-- server's memory, and executions re-queue their tasks when they resume.
CREATE TABLE activities (
    arn           TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    creation_date REAL NOT NULL
);
-- Tags of API resources (state machines, activities), by ARN.
CREATE TABLE tags (
    resource_arn TEXT NOT NULL,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (resource_arn, key)
) WITHOUT ROWID;
"""

_V7_SCHEDULES = """
-- EventBridge Scheduler's schedules: the GetSchedule document, and how far it has fired.
-- Self-contained (it neither reads nor changes the tables of version 6).
CREATE TABLE IF NOT EXISTS schedules (
    name          TEXT PRIMARY KEY,
    state         TEXT NOT NULL CHECK (state IN ('ENABLED', 'DISABLED')),
    spec          TEXT NOT NULL,           -- JSON: the GetSchedule document
    handled_until INTEGER NOT NULL         -- every firing time <= this (epoch s) is done
);
-- One row per firing that started (or tried to start) its target. The primary key is
-- what keeps two serve processes, or a restarted one, from firing a time twice.
CREATE TABLE IF NOT EXISTS schedule_firings (
    schedule_name   TEXT NOT NULL,
    scheduled_time  INTEGER NOT NULL,      -- epoch seconds
    status          TEXT NOT NULL CHECK (status IN ('STARTED', 'RETRYING', 'DEAD_LETTERED')),
    execution_arn   TEXT,                  -- STARTED: the execution it started
    attempts        INTEGER NOT NULL,
    next_attempt_at REAL,                  -- RETRYING: when to try again
    fired_at        REAL NOT NULL,         -- when the last attempt was made
    error           TEXT,                  -- RETRYING, DEAD_LETTERED: why it failed
    PRIMARY KEY (schedule_name, scheduled_time)
);
CREATE INDEX IF NOT EXISTS schedule_firings_retrying
    ON schedule_firings (next_attempt_at) WHERE status = 'RETRYING';
"""

_TOKEN_SECRET = """
-- The secret this store's executions sign their task tokens with
-- (runtime.callbacks.tokens): one row, written once with 32 random bytes by the first
-- process that needs it (Store.token_signer), so tokens survive restarts and cannot be
-- computed by anyone who cannot read this file.
CREATE TABLE IF NOT EXISTS token_secret (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL CHECK (length(secret) >= 16)
);
"""

_MAP_RUNS = """
-- Distributed Map runs (DescribeMapRun's document, kept up to date as the run goes) and
-- their child executions, one row each, written when the run ends.
CREATE TABLE IF NOT EXISTS map_runs (
    arn           TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL REFERENCES executions (arn) ON DELETE CASCADE,
    start_time    REAL NOT NULL,           -- seconds since the Unix epoch
    status        TEXT NOT NULL CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED')),
    document      TEXT NOT NULL            -- JSON: DescribeMapRun's answer
);
CREATE INDEX IF NOT EXISTS map_runs_by_execution ON map_runs (execution_arn, start_time);
CREATE TABLE IF NOT EXISTS map_run_children (
    map_run_arn   TEXT NOT NULL REFERENCES map_runs (arn) ON DELETE CASCADE,
    idx           INTEGER NOT NULL,        -- the child's place among the run's children
    name          TEXT NOT NULL,           -- the child execution's name
    status        TEXT NOT NULL,
    start_time    REAL NOT NULL,
    stop_time     REAL,
    size          INTEGER NOT NULL,        -- items it held (an ItemBatcher's batch)
    redrive_count INTEGER NOT NULL,
    input         TEXT NOT NULL,           -- JSON documents
    output        TEXT,
    error         TEXT,
    cause         TEXT,
    PRIMARY KEY (map_run_arn, idx)
) WITHOUT ROWID;
"""

_LEASE_FENCING = """
-- The fencing token of each execution's lease: incremented each time a process takes the
-- lease (a renewal keeps it). Every event write checks it in its own transaction, so a
-- runner whose lease was taken over (it was paused past its lease) cannot write again.
-- Its own small table: lease rows are deleted on release, and reading a column of the
-- executions row would walk past its definition and input on every event.
CREATE TABLE lease_fences (
    execution_arn TEXT PRIMARY KEY REFERENCES executions (arn) ON DELETE CASCADE,
    generation    INTEGER NOT NULL
) WITHOUT ROWID;
"""

_TASK_ANSWERS = """
-- Answers to task tokens (SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat) received
-- by a process that does not run the token's execution: the process holding the
-- execution's lease takes them from here and settles its waiting task
-- (runtime.durable.answers). One row per token and kind; a second success or failure
-- of the same token is refused by the key.
CREATE TABLE task_answers (
    token         TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('success', 'failure', 'heartbeat')),
    execution_arn TEXT NOT NULL REFERENCES executions (arn) ON DELETE CASCADE,
    output        TEXT,                    -- success: the output, JSON text
    error         TEXT,                    -- failure: error and cause
    cause         TEXT,
    sent_at       REAL NOT NULL,           -- seconds since the Unix epoch
    PRIMARY KEY (token, kind)
);
CREATE INDEX task_answers_by_execution ON task_answers (execution_arn);
"""

_DUE_TIMES = """
-- Every RUNNING execution has a lease row; owner '' means nobody runs it, and its
-- expires_at is then when it is due (its start time, a parked Wait's deadline, 0 once a
-- runner let it go). Finding due work and the next wake-up are range reads of
-- leases_by_expiry, however many executions are parked; a renewal is one UPDATE by owner.
-- The triggers keep the rows in step with the status, whoever writes the executions.
CREATE INDEX leases_by_expiry ON leases (expires_at);
CREATE INDEX leases_by_owner ON leases (owner);
CREATE TRIGGER executions_due_when_stored AFTER INSERT ON executions
WHEN NEW.status = 'RUNNING'
BEGIN
    INSERT OR IGNORE INTO leases (execution_arn, owner, expires_at)
    VALUES (NEW.arn, '', NEW.start_time);
END;
CREATE TRIGGER executions_due_when_redriven AFTER UPDATE OF status ON executions
WHEN NEW.status = 'RUNNING' AND OLD.status != 'RUNNING'
BEGIN
    INSERT OR IGNORE INTO leases (execution_arn, owner, expires_at) VALUES (NEW.arn, '', 0);
END;
CREATE TRIGGER executions_done_leave_their_lease AFTER UPDATE OF status ON executions
WHEN NEW.status != 'RUNNING'
BEGIN
    DELETE FROM leases WHERE execution_arn = NEW.arn;
END;
DELETE FROM leases WHERE execution_arn IN (SELECT arn FROM executions WHERE status != 'RUNNING');
INSERT OR IGNORE INTO leases (execution_arn, owner, expires_at)
    SELECT arn, '', start_time FROM executions WHERE status = 'RUNNING';
"""

#: SQL scripts; ``MIGRATIONS[n]`` migrates version ``n`` to ``n + 1``.
MIGRATIONS: tuple[str, ...] = (
    _V1_TABLES,
    _V2_AUDIT_INDEXES,
    _V3_LAUNCH_OPTIONS,
    _V4_LEASES,
    _V5_STOP_REQUESTS,
    _V6_STATE_MACHINES,
    _V7_SCHEDULES,
    _TOKEN_SECRET,
    _MAP_RUNS,
    _LEASE_FENCING,
    _TASK_ANSWERS,
    _DUE_TIMES,
)

#: The version this code writes and reads.
LATEST_VERSION = len(MIGRATIONS)


def split_statements(script: str) -> Iterator[str]:
    """The statements of ``script``, one by one.

    ``Connection.executescript`` would be simpler but it commits any open transaction
    first, which would split a migration from its version update.
    ``sqlite3.complete_statement`` keeps a ``;`` inside a string or a trigger body from
    ending a statement early.
    """
    pending = ""
    for chunk in script.split(";"):
        pending += chunk + ";"
        if sqlite3.complete_statement(pending):
            if _has_code(pending):
                yield pending.strip()
            pending = ""
    if _has_code(pending.removesuffix(";")):
        yield pending.strip()


def _has_code(text: str) -> bool:
    return any(line.split("--", 1)[0].strip(" ;\t") for line in text.splitlines())


def current_version(conn: sqlite3.Connection) -> int:
    """The schema version of the open store; 0 for an empty file."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return 0 if row is None else int(row[0])


def migrate(
    conn: sqlite3.Connection, target: int = LATEST_VERSION, *, location: str = "store"
) -> int:
    """Apply the pending migrations up to ``target``, one transaction each; return the version.

    ``conn`` must be in autocommit mode (``isolation_level=None``): transactions are
    explicit here. Raises :class:`SchemaTooNew` when the store is ahead of this code.
    """
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = current_version(conn)
            if version > LATEST_VERSION:
                raise SchemaTooNew(
                    f"{location} has schema version {version}; this asl-runtime reads up to "
                    f"version {LATEST_VERSION} (upgrade asl-runtime)"
                )
            if version >= target:
                conn.execute("COMMIT")
                return version
            _apply(conn, version)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _apply(conn: sqlite3.Connection, version: int) -> None:
    """Run migration ``version`` → ``version + 1`` in the caller's transaction."""
    if version == 0:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        conn.execute(
            "INSERT INTO schema_version (version) SELECT 0 WHERE NOT EXISTS "
            "(SELECT 1 FROM schema_version)"
        )
    for statement in split_statements(MIGRATIONS[version]):
        conn.execute(statement)
    conn.execute("UPDATE schema_version SET version = ?", (version + 1,))
