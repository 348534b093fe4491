"""State machines and tags in the store: what the Step Functions API creates and lists.

An execution keeps its own copy of the definition (``executions.definition``), so a
state machine can be updated or deleted while its executions run or are audited.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runtime.durable.store.errors import StoreError
from runtime.durable.store.records import ExecutionRecord
from runtime.durable.store.sqlite import Store

__all__ = [
    "AliasRecord",
    "StateMachineExists",
    "StateMachineRecord",
    "StateMachines",
    "VersionRecord",
    "Versions",
]

_COLUMNS = (
    "arn, name, type, definition, role_arn, description, logging, tracing, revision_id, "
    "creation_date, update_date"
)
_EXECUTION_COLUMNS = (
    "arn, name, state_machine_name, state_machine_arn, status, start_time, stop_time, "
    "redrive_count, error, cause, definition, input, output"
)


class StateMachineExists(StoreError):
    """Raised when a state machine is created under an ARN the store already holds."""


@dataclass(frozen=True, slots=True)
class StateMachineRecord:
    """One stored state machine, as CreateStateMachine/UpdateStateMachine left it."""

    #: ``arn:aws:states:<region>:<account>:stateMachine:<name>``.
    arn: str
    name: str
    #: ``STANDARD`` or ``EXPRESS``.
    type: str
    #: The definition as JSON text, exactly as the client sent it.
    definition: str
    role_arn: str
    description: str
    #: ``loggingConfiguration`` and ``tracingConfiguration`` as sent (None: not given).
    logging: Mapping[str, Any] | None
    tracing: Mapping[str, Any] | None
    #: Changes on every update (DescribeStateMachine's ``revisionId``).
    revision_id: str
    #: Epoch seconds.
    creation_date: float
    update_date: float

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> StateMachineRecord:
        """A record from a ``SELECT`` of the table's columns in order."""
        values = list(row)
        for index in (6, 7):
            values[index] = json.loads(values[index]) if values[index] else None
        return cls(*values)


class StateMachines:
    """The state machines and tags of one open :class:`Store` (same thread as the store)."""

    __slots__ = ("store",)

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- state machines --------------------------------------------------------------

    def create(self, record: StateMachineRecord) -> None:
        """Store a new state machine. Raises :class:`StateMachineExists`."""
        try:
            with self.store._write() as conn:
                conn.execute(
                    f"INSERT INTO state_machines ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                    "?, ?, ?)",
                    _row(record),
                )
        except StoreError as exc:
            if isinstance(exc.__cause__, sqlite3.IntegrityError):
                raise StateMachineExists(record.arn) from None
            raise

    def replace(self, record: StateMachineRecord) -> None:
        """Overwrite a stored state machine (UpdateStateMachine)."""
        with self.store._write() as conn:
            conn.execute(
                f"REPLACE INTO state_machines ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?)",
                _row(record),
            )

    def get(self, arn: str) -> StateMachineRecord | None:
        """The state machine with this ARN, or None."""
        rows = self.store._read(f"SELECT {_COLUMNS} FROM state_machines WHERE arn = ?", (arn,))
        return StateMachineRecord.from_row(rows[0]) if rows else None

    def delete(self, arn: str) -> None:
        """Forget a state machine and its tags (its executions stay)."""
        with self.store._write() as conn:
            conn.execute("DELETE FROM state_machines WHERE arn = ?", (arn,))
            conn.execute("DELETE FROM tags WHERE resource_arn = ?", (arn,))

    def all(self) -> list[StateMachineRecord]:
        """Every state machine, oldest first (ties by ARN)."""
        rows = self.store._read(
            f"SELECT {_COLUMNS} FROM state_machines ORDER BY creation_date, arn", ()
        )
        return [StateMachineRecord.from_row(row) for row in rows]

    # -- executions by exact ARN -------------------------------------------------------

    def execution(self, arn: str) -> ExecutionRecord | None:
        """The execution with exactly this ARN (``Store.get_execution`` also takes
        names and prefixes, which an API must not)."""
        rows = self.store._read(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE arn = ?", (arn,)
        )
        return ExecutionRecord(*rows[0]) if rows else None

    # -- activities --------------------------------------------------------------------

    def create_activity(self, arn: str, name: str, now: float) -> float:
        """Store an activity unless it exists; return its creation date."""
        with self.store._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO activities (arn, name, creation_date) VALUES (?, ?, ?)",
                (arn, name, now),
            )
            row = conn.execute(
                "SELECT creation_date FROM activities WHERE arn = ?", (arn,)
            ).fetchone()
        return float(row[0])

    def activity(self, arn: str) -> tuple[str, float] | None:
        """(name, creation date) of a stored activity, or None."""
        rows = self.store._read("SELECT name, creation_date FROM activities WHERE arn = ?", (arn,))
        return (str(rows[0][0]), float(rows[0][1])) if rows else None

    def activities(self) -> list[tuple[str, str, float]]:
        """(ARN, name, creation date) of every activity, by name."""
        rows = self.store._read("SELECT arn, name, creation_date FROM activities ORDER BY name", ())
        return [(str(arn), str(name), float(date)) for arn, name, date in rows]

    def delete_activity(self, arn: str) -> None:
        """Forget an activity and its tags."""
        with self.store._write() as conn:
            conn.execute("DELETE FROM activities WHERE arn = ?", (arn,))
            conn.execute("DELETE FROM tags WHERE resource_arn = ?", (arn,))

    # -- tags --------------------------------------------------------------------------

    def tags(self, arn: str) -> dict[str, str]:
        """The tags of a resource, by key."""
        rows = self.store._read(
            "SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY key", (arn,)
        )
        return {str(key): str(value) for key, value in rows}

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags of a resource."""
        with self.store._write() as conn:
            conn.executemany(
                "REPLACE INTO tags (resource_arn, key, value) VALUES (?, ?, ?)",
                [(arn, key, value) for key, value in tags.items()],
            )

    def untag(self, arn: str, keys: list[str]) -> None:
        """Remove tags of a resource by key (unknown keys are ignored, as on AWS)."""
        with self.store._write() as conn:
            conn.executemany(
                "DELETE FROM tags WHERE resource_arn = ? AND key = ?", [(arn, k) for k in keys]
            )


def _row(record: StateMachineRecord) -> tuple[Any, ...]:
    return (
        record.arn,
        record.name,
        record.type,
        record.definition,
        record.role_arn,
        record.description,
        None if record.logging is None else json.dumps(record.logging),
        None if record.tracing is None else json.dumps(record.tracing),
        record.revision_id,
        record.creation_date,
        record.update_date,
    )


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One published version of a state machine."""

    machine_arn: str
    #: 1, 2, ...: the ARN is ``<machine_arn>:<version>``.
    version: int
    definition: str
    role_arn: str
    description: str
    #: The revision of the state machine this version was published from.
    revision_id: str
    creation_date: float

    @property
    def arn(self) -> str:
        """``arn:aws:states:<region>:<account>:stateMachine:<name>:<version>``."""
        return f"{self.machine_arn}:{self.version}"


@dataclass(frozen=True, slots=True)
class AliasRecord:
    """One alias of a state machine."""

    #: ``arn:aws:states:<region>:<account>:stateMachine:<name>:<alias>``.
    arn: str
    machine_arn: str
    name: str
    description: str
    #: ``routingConfiguration``: ``[{"stateMachineVersionArn", "weight"}]``.
    routing: tuple[Mapping[str, Any], ...]
    creation_date: float
    update_date: float


class Versions:
    """Published versions and aliases of the state machines of one open :class:`Store`."""

    __slots__ = ("store",)

    def __init__(self, store: Store) -> None:
        self.store = store

    def publish(self, machine: StateMachineRecord, description: str, now: float) -> VersionRecord:
        """The version of the machine's current revision: the existing one if that revision
        was published already, else a new one numbered after every earlier version."""
        with self.store._write() as conn:
            row = conn.execute(
                f"SELECT {_VERSION_COLUMNS} FROM state_machine_versions WHERE machine_arn = ? "
                "AND revision_id = ?",
                (machine.arn, machine.revision_id),
            ).fetchone()
            if row is not None:
                return VersionRecord(*row)
            number = conn.execute(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM state_machine_versions "
                "WHERE machine_arn = ?",
                (machine.arn,),
            ).fetchone()[0]
            record = VersionRecord(
                machine.arn,
                int(number),
                machine.definition,
                machine.role_arn,
                description,
                machine.revision_id,
                now,
            )
            conn.execute(
                f"INSERT INTO state_machine_versions ({_VERSION_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.machine_arn,
                    record.version,
                    record.definition,
                    record.role_arn,
                    record.description,
                    record.revision_id,
                    record.creation_date,
                ),
            )
            return record

    def version(self, machine_arn: str, number: int) -> VersionRecord | None:
        """One version, or None."""
        rows = self.store._read(
            f"SELECT {_VERSION_COLUMNS} FROM state_machine_versions WHERE machine_arn = ? "
            "AND version = ?",
            (machine_arn, number),
        )
        return VersionRecord(*rows[0]) if rows else None

    def versions(self, machine_arn: str) -> list[VersionRecord]:
        """The versions of a machine, newest first."""
        rows = self.store._read(
            f"SELECT {_VERSION_COLUMNS} FROM state_machine_versions WHERE machine_arn = ? "
            "ORDER BY version DESC",
            (machine_arn,),
        )
        return [VersionRecord(*row) for row in rows]

    def delete_version(self, machine_arn: str, number: int) -> None:
        """Forget one version."""
        with self.store._write() as conn:
            conn.execute(
                "DELETE FROM state_machine_versions WHERE machine_arn = ? AND version = ?",
                (machine_arn, number),
            )

    def delete_all(self, machine_arn: str) -> None:
        """Forget every version and alias of a machine (DeleteStateMachine)."""
        with self.store._write() as conn:
            conn.execute("DELETE FROM state_machine_versions WHERE machine_arn = ?", (machine_arn,))
            conn.execute("DELETE FROM state_machine_aliases WHERE machine_arn = ?", (machine_arn,))

    # -- aliases -------------------------------------------------------------------------

    def save_alias(self, alias: AliasRecord) -> None:
        """Create or replace an alias."""
        row = (
            alias.arn,
            alias.machine_arn,
            alias.name,
            alias.description,
            json.dumps(list(alias.routing)),
            alias.creation_date,
            alias.update_date,
        )
        with self.store._write() as conn:
            conn.execute(
                f"REPLACE INTO state_machine_aliases ({_ALIAS_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def alias(self, arn: str) -> AliasRecord | None:
        """One alias, or None."""
        rows = self.store._read(
            f"SELECT {_ALIAS_COLUMNS} FROM state_machine_aliases WHERE arn = ?", (arn,)
        )
        return _alias(rows[0]) if rows else None

    def aliases(self, machine_arn: str) -> list[AliasRecord]:
        """The aliases of a machine, by name."""
        rows = self.store._read(
            f"SELECT {_ALIAS_COLUMNS} FROM state_machine_aliases WHERE machine_arn = ? "
            "ORDER BY name",
            (machine_arn,),
        )
        return [_alias(row) for row in rows]

    def delete_alias(self, arn: str) -> None:
        """Forget one alias."""
        with self.store._write() as conn:
            conn.execute("DELETE FROM state_machine_aliases WHERE arn = ?", (arn,))


_VERSION_COLUMNS = (
    "machine_arn, version, definition, role_arn, description, revision_id, creation_date"
)
_ALIAS_COLUMNS = "arn, machine_arn, name, description, routing, creation_date, update_date"


def _alias(row: tuple[Any, ...]) -> AliasRecord:
    values = list(row)
    values[4] = tuple(json.loads(values[4]))
    return AliasRecord(*values)
