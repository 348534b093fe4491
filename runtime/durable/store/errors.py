"""Errors of the execution store.

::

    ASLError
    └── StoreError                 the store cannot be opened, read or written
        ├── SchemaTooNew           the file was written by a newer asl-runtime
        ├── ExecutionNotFound      no execution matches an ARN, name or prefix
        ├── AmbiguousExecution     a name or prefix matches several executions
        ├── ExecutionAlreadyExists an execution with this ARN is already stored
        └── LeaseLost              another process runs the execution (or took it over)
"""

from __future__ import annotations

from asl.errors import ASLError

__all__ = [
    "AmbiguousExecution",
    "ExecutionAlreadyExists",
    "ExecutionNotFound",
    "LeaseLost",
    "SchemaTooNew",
    "StoreError",
]


class StoreError(ASLError):
    """Raised when the store cannot be opened, read or written."""


class SchemaTooNew(StoreError):
    """Raised when the store's schema version is newer than this code knows."""


class ExecutionNotFound(StoreError):
    """Raised when no stored execution matches an ARN, a name or a name prefix."""


class AmbiguousExecution(StoreError):
    """Raised when a name or prefix matches more than one stored execution."""


class ExecutionAlreadyExists(StoreError):
    """Raised when an execution is begun under an ARN the store already holds.

    AWS keeps a Standard execution's name unique for 90 days (StartExecution's
    ``ExecutionAlreadyExists``); a local store keeps it unique for as long as it is kept.
    """


class LeaseLost(StoreError):
    """Raised when another process holds the execution's lease, or took it over.

    A runner whose lease was taken over gets it from its next event write (the write is
    refused by the lease's fencing token, see :mod:`runtime.durable.store.lease`) and stops.
    """
